/**
 * The incident manifest (issue 3, docs/design.md §4): incidents/<incidentId>/manifest.json,
 * rebuilt from the ledger and the evidence bucket every time something is
 * recorded, so it is always complete. It lists every action (what, when,
 * result, AWS request id), every evidence object with its SHA-256 and size —
 * read back from S3's own checksum, not from what the writer believed — and
 * every snapshot along its copy chain, and every release (who released, why, how it ended).
 * Object Lock keeps every version.
 */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { incidentPrefix, putJsonEvidence, type EvidenceObject } from './evidence';
import { INCIDENT_SK } from './ledger';
import type { JournalEntry } from './journal';

export const MANIFEST_VERSION = 1;

export interface ManifestAction {
  response: string;
  step: string;
  service: string;
  operation: string;
  awsRequestId: string | null;
  at: string;
  result: string;
  /** Set on actions of a release (RELEASE items): the release's id; `response` is then the response it released. */
  release?: string;
}

export interface ManifestSnapshot {
  response: string;
  sourceVolumeId: string;
  originalSnapshotId: string;
  memberCopyId: string | null;
  hubCopyId: string | null;
  evidenceCopyId: string | null;
  kmsKeyId: string | null;
  volumeSizeGiB: number | null;
  status: string;
}

/** Every `awsCalls` journal found in a task result or workflow state, labelled with where it was found. */
export function collectJournal(value: unknown, path = '$'): Array<JournalEntry & { step: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => collectJournal(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  const out: Array<JournalEntry & { step: string }> = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'awsCalls' && Array.isArray(v)) {
      for (const e of v) if (e && typeof e === 'object' && 'operation' in e) out.push({ ...(e as JournalEntry), step: path });
    } else {
      out.push(...collectJournal(v, `${path}.${k}`));
    }
  }
  return out;
}

async function listEvidence(s3: S3Client, bucket: string, prefix: string): Promise<Array<Omit<EvidenceObject, 'bucket'>>> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k && k !== `${prefix}manifest.json`));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  const objects = [];
  for (const key of keys.sort()) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    objects.push({
      key,
      sha256: head.ChecksumSHA256 ? Buffer.from(head.ChecksumSHA256, 'base64').toString('hex') : 'missing',
      size: head.ContentLength ?? 0,
      ...(head.VersionId ? { versionId: head.VersionId } : {}),
    });
  }
  return objects;
}

export async function writeManifest(
  clients: { s3: S3Client; ddb: DynamoDBDocumentClient },
  table: string,
  bucket: string,
  incidentId: string,
  now: string,
): Promise<EvidenceObject> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await clients.ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': incidentId },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);

  const incident = items.find((i) => i.sk === INCIDENT_SK) ?? {};
  const responses = items.filter((i) => String(i.sk).startsWith('RESPONSE#'));
  const actions: ManifestAction[] = responses.flatMap((r) =>
    ((r.awsCalls as Array<JournalEntry & { step: string }> | undefined) ?? []).map((c) => ({
      response: String((r.request as { requestId?: string } | undefined)?.requestId ?? String(r.sk).slice(9)),
      step: c.step,
      service: c.service,
      operation: c.operation,
      awsRequestId: c.requestId,
      at: c.at,
      result: c.error ? `error: ${c.error}` : 'ok',
    })),
  );
  // Releases (docs/design.md §3.5): what each one did, with its AWS request ids, like a response.
  const releases = items.filter((i) => String(i.sk).startsWith('RELEASE#'));
  for (const r of releases) {
    for (const c of (r.awsCalls as Array<JournalEntry & { step: string }> | undefined) ?? []) {
      actions.push({
        response: String(r.releasedResponseId ?? ''),
        release: String(r.releaseId ?? String(r.sk).slice(8)),
        step: c.step,
        service: c.service,
        operation: c.operation,
        awsRequestId: c.requestId,
        at: c.at,
        result: c.error ? `error: ${c.error}` : 'ok',
      });
    }
  }
  actions.sort((a, b) => a.at.localeCompare(b.at));
  const snapshots: ManifestSnapshot[] = responses.flatMap((r) =>
    ((r.shares as Array<Record<string, unknown>> | undefined) ?? []).map((s) => ({
      response: String(r.sk).slice(9),
      sourceVolumeId: String(s.volumeId ?? ''),
      originalSnapshotId: String(s.snapshotId ?? ''),
      memberCopyId: (s.memberCopyId as string | undefined) ?? null,
      hubCopyId: (s.hubCopyId as string | undefined) ?? null,
      evidenceCopyId: (s.evidenceCopyId as string | undefined) ?? null,
      kmsKeyId: (s.kmsKeyId as string | undefined) ?? null,
      volumeSizeGiB: typeof s.volumeSize === 'number' ? s.volumeSize : null,
      status: String(s.status ?? 'unknown'),
    })),
  );
  const prefix = incidentPrefix(incidentId);
  const manifest = {
    manifestVersion: MANIFEST_VERSION,
    incidentId,
    target: incident.target ?? null,
    status: incident.status ?? null,
    generatedAt: now,
    deliveries: items
      .filter((i) => String(i.sk).startsWith('DELIVERY#'))
      .map(({ pk: _pk, sk: _sk, ...d }) => d)
      .sort((a, b) => String(a.receivedAt).localeCompare(String(b.receivedAt))),
    responses: responses.map((r) => ({
      requestId: String(r.sk).slice(9),
      source: (r.request as { source?: string } | undefined)?.source ?? null,
      requestedBy: (r.request as { requestedBy?: string } | undefined)?.requestedBy ?? null,
      reason: (r.request as { reason?: string } | undefined)?.reason ?? null,
      outcome: r.outcome ?? r.status ?? null,
      summary: r.summary ?? null,
      failures: r.failures ?? [],
      executionArn: r.executionArn ?? null,
      startedAt: r.startedAt ?? null,
      recordedAt: r.recordedAt ?? null,
      snapshotStatus: r.snapshotStatus ?? null,
    })),
    releases: releases.map((r) => {
      const request = (r.request ?? {}) as { source?: string; requestedBy?: string; reason?: string };
      return {
        releaseId: String(r.sk).slice(8),
        responseId: r.releasedResponseId ?? null,
        source: request.source ?? null,
        requestedBy: request.requestedBy ?? null,
        reason: request.reason ?? null,
        outcome: r.outcome ?? r.status ?? null,
        summary: r.summary ?? null,
        failures: r.failures ?? [],
        restoredFrom: r.restoreFrom ?? null,
        executionArn: r.executionArn ?? null,
        startedAt: r.startedAt ?? null,
        recordedAt: r.recordedAt ?? null,
      };
    }),
    actions,
    evidence: await listEvidence(clients.s3, bucket, prefix),
    snapshots,
  };
  return putJsonEvidence(clients.s3, bucket, `${prefix}manifest.json`, manifest);
}
