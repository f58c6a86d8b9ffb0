/**
 * RecordOutcome and RecordEvidence (docs/design.md §3.4): capture the after-state,
 * decide the outcome, write it to the ledger and the evidence bucket, and
 * publish the SNS summary. Never reports success for a branch that failed.
 */
import { createHash } from 'node:crypto';
import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { errorSummary, isTransient } from '../shared/errors';
import { incidentPrefix, putJsonEvidence, type EvidenceObject } from '../shared/evidence';
import type { Log } from '../shared/handler';
import { incidentIdFor, recordEvidence, recordResponseOutcome, releaseClaim, updateResponse } from '../shared/ledger';
import { ResponseRequest, type Target } from '../shared/schemas';
import { collectJournal, writeManifest } from '../shared/manifest';
import { closeApproval } from '../shared/approval';
import { decideOutcome, openGate, WorkflowState, type Decision } from './outcome';

const RawState = z.record(z.string(), z.unknown());

/** The state is kept raw (every task result's `awsCalls` journal is in it) and parsed where it is read. */
export const RecordInput = z.discriminatedUnion('step', [
  z.object({ step: z.literal('outcome'), executionArn: z.string().min(1).max(2048), state: RawState }),
  z.object({ step: z.literal('evidence'), executionArn: z.string().min(1).max(2048), state: RawState }),
]);
export type RecordInput = z.infer<typeof RecordInput>;

const EvidenceState = WorkflowState.extend({
      outcome: z.object({ incidentId: z.string(), outcome: z.string(), snapshotIds: z.array(z.string()) }).passthrough(),
      snapshotProgress: z
        .object({
          done: z.boolean(),
          timedOut: z.boolean(),
          snapshots: z.array(z.object({ snapshotId: z.string(), state: z.string() }).passthrough()),
        })
        .optional(),
      snapshotFailure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
      shares: z.array(z.object({ snapshotId: z.string(), status: z.string() }).passthrough()).optional(),
});

export interface RecordConfig {
  readonly ledgerTable: string;
  readonly evidenceBucket: string;
  readonly topicArn: string;
}

export interface RecordDeps {
  readonly factory: ClientFactory;
  readonly config: RecordConfig;
  readonly log: Log;
  readonly now?: () => Date;
}

export interface OutcomeResult {
  incidentId: string | null;
  outcome: Decision['outcome'];
  summary: string;
  failures: Decision['failures'];
  awaitSnapshots: boolean;
  snapshotIds: string[];
  snapshotPollSeconds: number;
}

interface AfterState {
  capturedAt: string;
  state: string | undefined;
  networkInterfaces: Array<{ networkInterfaceId: string | undefined; groupIds: string[] }>;
  iamInstanceProfileAssociations: Array<{ associationId: string | undefined; arn: string | undefined; state: string | undefined }>;
}

async function captureAfterState(target: Target, requestId: string, deps: RecordDeps, now: string): Promise<AfterState> {
  const { ec2 } = await deps.factory.forTarget(target, `cordon-${requestId}`);
  const [described, associations] = await Promise.all([
    ec2.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] })),
    ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [target.instanceId] }] }),
    ),
  ]);
  const instance = described.Reservations?.[0]?.Instances?.[0];
  return {
    capturedAt: now,
    state: instance?.State?.Name,
    networkInterfaces: (instance?.NetworkInterfaces ?? []).map((n) => ({
      networkInterfaceId: n.NetworkInterfaceId,
      groupIds: (n.Groups ?? []).map((g) => g.GroupId ?? ''),
    })),
    iamInstanceProfileAssociations: (associations.IamInstanceProfileAssociations ?? []).map((a) => ({
      associationId: a.AssociationId,
      arn: a.IamInstanceProfile?.Arn,
      state: a.State,
    })),
  };
}

/** A task result without its `awsCalls` journals (those are kept once, in the response's `awsCalls`). */
export function withoutJournal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutJournal);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => k !== 'awsCalls').map(([k, v]) => [k, withoutJournal(v)]));
}

/** SNS subjects: ASCII, at most 100 characters. */
function subject(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

async function notify(deps: RecordDeps, subjectLine: string, message: Record<string, unknown>, outcome: string): Promise<string | undefined> {
  const { sns } = deps.factory.hub();
  const out = await sns.send(
    new PublishCommand({
      TopicArn: deps.config.topicArn,
      Subject: subject(subjectLine),
      Message: JSON.stringify(message, null, 2),
      MessageAttributes: { outcome: { DataType: 'String', StringValue: outcome } },
    }),
  );
  return out.MessageId;
}

export async function recordOutcome(input: Extract<RecordInput, { step: 'outcome' }>, deps: RecordDeps): Promise<OutcomeResult> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const state = WorkflowState.parse(input.state);
  const decision = decideOutcome(state);
  // A gated response's protect result and approval are inside the gated-containment branch.
  const opened = openGate(state);
  const awsCalls = collectJournal(input.state);
  const parsed = ResponseRequest.safeParse(state.request);
  const { ddb, s3 } = deps.factory.hub();

  const snapshotBranch = state.branches?.find((b) => b.action === 'snapshot' && b.status === 'started');
  const snapshotIds = z
    .array(z.object({ snapshotId: z.string() }).passthrough())
    .parse(snapshotBranch?.snapshots ?? [])
    .map((s) => s.snapshotId);
  const pollSeconds = typeof snapshotBranch?.pollSeconds === 'number' ? snapshotBranch.pollSeconds : 60;

  if (!parsed.success) {
    // A request that never validated has no trustworthy target: record it apart, and say so.
    const digest = createHash('sha256').update(input.executionArn).digest('hex').slice(0, 16);
    await ddb.send(
      new PutCommand({
        TableName: deps.config.ledgerTable,
        Item: {
          pk: 'REJECTED',
          sk: `${now}#${digest}`,
          executionArn: input.executionArn,
          outcome: 'failed',
          failures: decision.failures,
          recordedAt: now,
        },
      }),
    );
    await notify(deps, '[cordon] failed: invalid response request', { outcome: 'failed', executionArn: input.executionArn, failures: decision.failures }, 'failed');
    return { incidentId: null, outcome: 'failed', summary: decision.summary, failures: decision.failures, awaitSnapshots: false, snapshotIds: [], snapshotPollSeconds: pollSeconds };
  }

  const request = parsed.data;
  const incidentId = state.before?.incidentId ?? incidentIdFor(request.target);
  const prefix = `${incidentPrefix(incidentId)}responses/${request.requestId}/`;

  let afterState: EvidenceObject | { status: 'not-captured'; error: string; cause: string } | undefined;
  if (state.before && !state.before.exempt && !state.before.duplicate) {
    try {
      const after = await captureAfterState(request.target, request.requestId, deps, now);
      afterState = await putJsonEvidence(s3, deps.config.evidenceBucket, `${prefix}after-state.json`, after);
    } catch (err) {
      // The outcome must still be recorded and notified; the gap is written down.
      afterState = { status: 'not-captured', ...errorSummary(err) };
      deps.log.warn('after-state not captured', { incidentId, ...errorSummary(err) });
    }
  }

  const outcomeDocument = {
    incidentId,
    requestId: request.requestId,
    executionArn: input.executionArn,
    target: request.target,
    finding: request.finding ?? null,
    requestedBy: request.requestedBy,
    reason: request.reason,
    source: request.source,
    outcome: decision.outcome,
    summary: decision.summary,
    failures: decision.failures,
    actions: decision.actions,
    protect: opened.protect ?? null,
    ...(decision.approval ? { approval: decision.approval } : {}),
    recordedAt: now,
  };
  const outcomeObject = await putJsonEvidence(s3, deps.config.evidenceBucket, `${prefix}outcome.json`, outcomeDocument);

  const fields = {
    status: decision.outcome,
    outcome: decision.outcome,
    summary: decision.summary,
    failures: decision.failures,
    // With their details (what the swap guarantees, original target-group registrations, …): release reads them here.
    actions: decision.actions.map((a) => ({ action: a.action, status: a.status, detail: withoutJournal(a.detail) })),
    protect: withoutJournal(opened.protect ?? null),
    executionArn: input.executionArn,
    recordedAt: now,
    snapshotIds,
    awsCalls,
  };
  if (state.before && !state.before.duplicate) {
    await recordResponseOutcome(
      ddb,
      deps.config.ledgerTable,
      incidentId,
      request.requestId,
      fields,
      decision.outcome as Exclude<typeof decision.outcome, 'duplicate'>,
      now,
    );
    if (afterState && 'key' in afterState) {
      await recordEvidence(ddb, deps.config.ledgerTable, incidentId, request.requestId, 'afterState', afterState);
    }
    // The wait is over: record what the gate applied, and drop the task token.
    if (opened.approval) await closeApproval(ddb, deps.config.ledgerTable, incidentId, request.requestId, opened.approval, now);
  } else {
    // A repeat delivery (the incident belongs to another request), or a capture that failed: the incident's
    // status is not this response's to set. A failed capture gives its claim back.
    if (!state.before) await releaseClaim(ddb, deps.config.ledgerTable, incidentId, request.requestId, now);
    await updateResponse(ddb, deps.config.ledgerTable, incidentId, request.requestId, { request, ...fields }, now, { evidence: {} });
  }
  await recordEvidence(ddb, deps.config.ledgerTable, incidentId, request.requestId, 'outcome', outcomeObject);
  // A repeat delivery changes nothing on the instance: it doesn't rewrite the manifest (whose cost grows with the
  // incident), and the next real action's rewrite includes it.
  const manifest = state.before?.duplicate
    ? { key: `${incidentPrefix(incidentId)}manifest.json` }
    : await manifestOrGap(deps, incidentId, now);

  const headline =
    decision.outcome === 'duplicate'
      ? `[cordon] repeat finding: ${request.target.instanceId} (incident ${state.before?.incidentStatus ?? 'open'})`
      : `[cordon] ${decision.outcome}: ${request.target.instanceId} in ${request.target.accountId}/${request.target.region}`;
  await notify(
    deps,
    headline,
    {
      ...outcomeDocument,
      actions: decision.actions.map((a) => ({ action: a.action, status: a.status })),
      evidence: { outcome: outcomeObject.key, afterState: afterState ?? null, manifest },
    },
    decision.outcome,
  );
  deps.log.info('response recorded', { incidentId, requestId: request.requestId, outcome: decision.outcome });

  return {
    incidentId,
    outcome: decision.outcome,
    summary: decision.summary,
    failures: decision.failures,
    awaitSnapshots: snapshotIds.length > 0,
    snapshotIds,
    snapshotPollSeconds: pollSeconds,
  };
}

export interface EvidenceResult {
  snapshots: 'completed' | 'incomplete';
  failed: string[];
}

export async function recordSnapshotEvidence(input: Extract<RecordInput, { step: 'evidence' }>, deps: RecordDeps): Promise<EvidenceResult> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const state = EvidenceState.parse(input.state);
  const request = ResponseRequest.parse(state.request);
  const incidentId = state.outcome.incidentId;
  const progress = state.snapshotProgress;
  const snapshots = progress?.snapshots ?? [];
  const shares = state.shares ?? [];
  const failed = snapshots.filter((s) => s.state !== 'completed').map((s) => `${s.snapshotId}: ${s.state}`);
  if (state.snapshotFailure) failed.push(`snapshots: ${state.snapshotFailure.Error ?? 'Error'}: ${state.snapshotFailure.Cause ?? ''}`.slice(0, 600));
  if (progress?.timedOut) failed.push('the snapshot wait cap was reached before every snapshot completed');
  for (const share of shares) {
    if (share.status === 'failed') failed.push(`${share.snapshotId}: copy into the security account failed: ${String(share.error ?? '')}: ${String(share.cause ?? '')}`.slice(0, 600));
    if (share.temporaryCopy === 'kept') failed.push(`${share.snapshotId}: temporary member-side copy ${String(share.memberCopyId)} was not removed`);
  }
  const status: EvidenceResult['snapshots'] = failed.length ? 'incomplete' : 'completed';
  // The share results carry their own journals: the manifest cites those requests too.
  const awsCalls = collectJournal({ snapshotProgress: input.state.snapshotProgress, shares: input.state.shares }, '$.evidence');

  const { ddb } = deps.factory.hub();
  await ddb.send(
    new UpdateCommand({
      TableName: deps.config.ledgerTable,
      Key: { pk: incidentId, sk: `RESPONSE#${request.requestId}` },
      UpdateExpression:
        'SET snapshots = :s, shares = :sh, snapshotStatus = :st, snapshotFailures = :f, updatedAt = :now, ' +
        'awsCalls = list_append(if_not_exists(awsCalls, :empty), :calls)',
      ExpressionAttributeValues: { ':s': snapshots, ':sh': shares, ':st': status, ':f': failed, ':now': now, ':empty': [], ':calls': awsCalls },
    }),
  );
  const manifest = await manifestOrGap(deps, incidentId, now);
  if ('error' in manifest) failed.push(`manifest not written: ${manifest.error}: ${manifest.cause}`);
  if (failed.length) {
    await notify(
      deps,
      `[cordon] evidence incomplete: ${request.target.instanceId}`,
      { incidentId, requestId: request.requestId, executionArn: input.executionArn, snapshots, shares, failed, manifest },
      'evidence-incomplete',
    );
  }
  return { snapshots: status, failed };
}

/**
 * Rewrite the manifest; if that fails for a reason a retry won't fix, say so in the notification instead of
 * losing the notification (and, after RecordOutcome, the wait for the snapshots) to the error.
 */
async function manifestOrGap(
  deps: RecordDeps,
  incidentId: string,
  now: string,
): Promise<{ key: string } | { key: string; status: 'not-written'; error: string; cause: string }> {
  const { s3, ddb } = deps.factory.hub();
  try {
    return { key: (await writeManifest({ s3, ddb }, deps.config.ledgerTable, deps.config.evidenceBucket, incidentId, now)).key };
  } catch (err) {
    if (isTransient(err)) throw err;
    deps.log.error('manifest not written', { incidentId, ...errorSummary(err) });
    return { key: `${incidentPrefix(incidentId)}manifest.json`, status: 'not-written', ...errorSummary(err) };
  }
}

export async function record(input: RecordInput, deps: RecordDeps): Promise<OutcomeResult | EvidenceResult> {
  return input.step === 'outcome' ? recordOutcome(input, deps) : recordSnapshotEvidence(input, deps);
}
