/**
 * RecordRelease (docs/design.md §3.5): decide how the release ended — `released` only when every
 * part was given back, `partially-released` when some was, `failed` when none was — capture the
 * after-state, write the release evidence object (before and after, SHA-256), the ledger (the RELEASE
 * item with who and why; the incident's status), the manifest, and the SNS summary. RecordRefusal
 * does the same for a release refused before anything was changed.
 *
 * Nothing here deletes anything: snapshots, evidence objects and flow logs are kept whatever the outcome.
 *
 * Layout: outcome.ts decides how the release ended (pure); refusal.ts is RecordRefusal; deps.ts
 * holds the input, the dependencies and the SNS summary both share. This file writes a release
 * that ran.
 */
import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { errorSummary, isTransient } from '../shared/errors';
import { incidentPrefix, putJsonEvidence, type EvidenceObject } from '../shared/evidence';
import { awsErrorName, parseInput } from '../shared/handler';
import { INCIDENT_SK } from '../shared/ledger';
import { collectJournal, writeManifest } from '../shared/manifest';
import { releaseSk, type FoundState } from '../shared/release';
import type { Target } from '../shared/schemas';
import { notify, type RecordReleaseDeps, type RecordReleaseInput } from './deps';
import { causeMessage, decideRelease, ReleaseState, type ReleaseOutcome, type ReleaseFailure } from './outcome';
import { recordRefusal, type RefusalResult } from './refusal';

export { RecordReleaseInput, type RecordReleaseConfig, type RecordReleaseDeps } from './deps';
export {
  decideRelease,
  ReleaseState,
  type ReleaseDecision,
  type ReleaseFailure,
  type ReleaseOutcome,
} from './outcome';
export { recordRefusal, type RefusalResult } from './refusal';

async function captureAfter(deps: RecordReleaseDeps, target: Target, releaseId: string, now: string): Promise<FoundState> {
  const { ec2 } = await deps.factory.forTarget(target, `cordon-release-${releaseId}`);
  const [described, associations, termination, shutdown] = await Promise.all([
    ec2.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] })),
    ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: 'instance-id', Values: [target.instanceId] },
          { Name: 'state', Values: ['associating', 'associated'] },
        ],
      }),
    ),
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: target.instanceId, Attribute: 'disableApiTermination' })),
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: target.instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
  ]);
  const instance = described.Reservations?.[0]?.Instances?.[0];
  return {
    capturedAt: now,
    state: instance?.State?.Name ?? null,
    interfaces: (instance?.NetworkInterfaces ?? []).map((n) => {
      const c = n.ConnectionTrackingConfiguration;
      return {
        networkInterfaceId: n.NetworkInterfaceId ?? '',
        groupIds: (n.Groups ?? []).map((g) => g.GroupId ?? ''),
        groupNames: (n.Groups ?? []).map((g) => g.GroupName ?? ''),
        connectionTracking: c ? { tcpEstablishedTimeout: c.TcpEstablishedTimeout, udpStreamTimeout: c.UdpStreamTimeout, udpTimeout: c.UdpTimeout } : null,
      };
    }),
    profileAssociations: (associations.IamInstanceProfileAssociations ?? []).map((a) => ({
      associationId: a.AssociationId ?? '',
      arn: a.IamInstanceProfile?.Arn ?? '',
      state: a.State ?? '',
    })),
    attributes: {
      disableApiTermination: termination.DisableApiTermination?.Value ?? null,
      instanceInitiatedShutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? null,
    },
  };
}

/** A task result without its `awsCalls` journals (kept once, on the RELEASE item), and without stack traces in causes. */
function withoutJournal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutJournal);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => k !== 'awsCalls')
      .map(([k, v]) => [k, k === 'cause' && typeof v === 'string' ? causeMessage(v) : withoutJournal(v)]),
  );
}

async function manifestOrGap(deps: RecordReleaseDeps, incidentId: string, now: string): Promise<{ key: string; status?: 'not-written'; error?: string; cause?: string }> {
  const { s3, ddb } = deps.factory.hub();
  try {
    return { key: (await writeManifest({ s3, ddb }, deps.config.ledgerTable, deps.config.evidenceBucket, incidentId, now)).key };
  } catch (err) {
    if (isTransient(err)) throw err;
    deps.log.error('manifest not written', { incidentId, ...errorSummary(err) });
    return { key: `${incidentPrefix(incidentId)}manifest.json`, status: 'not-written', ...errorSummary(err) };
  }
}

export interface RecordReleaseResult {
  outcome: ReleaseOutcome;
  summary: string;
  failures: ReleaseFailure[];
  incidentStatus: string;
}

export async function recordRelease(input: Extract<RecordReleaseInput, { step: 'record' }>, deps: RecordReleaseDeps): Promise<RecordReleaseResult> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const state = parseInput(ReleaseState, input.state);
  const { release, containment } = state;
  const { incidentId, target } = containment;
  const decision = decideRelease(state);
  const { ddb, s3 } = deps.factory.hub();

  let after: FoundState | { status: 'not-captured'; error: string; cause: string };
  try {
    after = await captureAfter(deps, target, release.releaseId, now);
  } catch (err) {
    if (isTransient(err)) throw err;
    after = { status: 'not-captured', ...errorSummary(err) };
    deps.log.warn('after-state of the release not captured', { incidentId, ...errorSummary(err) });
  }

  const results = { network: withoutJournal(state.network ?? []), role: withoutJournal(state.role ?? null), instance: withoutJournal(state.instance ?? null) };
  const document = {
    incidentId,
    releaseId: release.releaseId,
    responseId: release.responseId,
    executionArn: input.executionArn,
    target,
    source: release.source,
    requestedBy: release.requestedBy,
    reason: release.reason,
    outcome: decision.outcome,
    summary: decision.summary,
    failures: decision.failures,
    restoredFrom: containment.restoreFrom,
    restoreTo: {
      interfaces: containment.interfaces.map((i) => ({ networkInterfaceId: i.networkInterfaceId, groupIds: i.groupIds, connectionTracking: i.connectionTracking })),
      profile: containment.profile,
      attributes: containment.attributes,
    },
    before: containment.found,
    after,
    results,
    kept: {
      snapshots: 'every snapshot cordon took or copied is kept',
      evidence: 'every evidence object and manifest version is kept (Object Lock)',
      flowLogs: 'flow logs cordon created are kept, and keep delivering to the evidence bucket',
    },
    recordedAt: now,
  };
  const evidence: EvidenceObject = await putJsonEvidence(
    s3,
    deps.config.evidenceBucket,
    `${incidentPrefix(incidentId)}releases/${release.releaseId}/release.json`,
    document,
  );

  await ddb.send(
    new UpdateCommand({
      TableName: deps.config.ledgerTable,
      Key: { pk: incidentId, sk: releaseSk(release.releaseId) },
      UpdateExpression:
        'SET #status = :outcome, outcome = :outcome, summary = :summary, failures = :failures, results = :results, ' +
        'executionArn = :execution, recordedAt = :now, evidence = :evidence, awsCalls = :calls, releaseId = :rel, releasedResponseId = :rid, request = :request',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':outcome': decision.outcome,
        ':summary': decision.summary,
        ':failures': decision.failures,
        ':results': results,
        ':execution': input.executionArn,
        ':now': now,
        ':evidence': { release: evidence },
        ':calls': collectJournal(input.state),
        ':rel': release.releaseId,
        ':rid': release.responseId,
        ':request': release,
      },
    }),
  );

  // The incident: released (and its original before-state forgotten, so that a later containment records a
  // fresh one), or partially-contained when only part was given back; unchanged when nothing was.
  let incidentStatus: string = decision.outcome === 'released' ? 'released' : decision.outcome === 'partially-released' ? 'partially-contained' : containment.incidentStatus;
  const values: Record<string, unknown> = { ':rel': release.releaseId, ':now': now, ':status': incidentStatus };
  let update = 'SET #status = :status, updatedAt = :now, lastReleaseId = :rel';
  if (decision.outcome === 'released') {
    update += ', releasedAt = :now, releasedBy = :by, releaseReason = :why REMOVE activeReleaseId, originalBeforeStateKey, originalRequestId';
    Object.assign(values, { ':by': release.requestedBy, ':why': release.reason });
  } else {
    update += ' REMOVE activeReleaseId';
  }
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: deps.config.ledgerTable,
        Key: { pk: incidentId, sk: INCIDENT_SK },
        UpdateExpression: update,
        ConditionExpression: 'activeReleaseId = :rel',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
    const current = (await ddb.send(new GetCommand({ TableName: deps.config.ledgerTable, Key: { pk: incidentId, sk: INCIDENT_SK }, ConsistentRead: true }))).Item ?? {};
    if (current.lastReleaseId === release.releaseId && current.activeReleaseId === undefined) {
      // A retried RecordRelease: its first attempt already wrote the incident.
      incidentStatus = String(current.status);
    } else {
      // The lock went stale and another release or a response took the incident over: its status is theirs to set.
      incidentStatus = 'unchanged';
      decision.failures.push({
        part: 'record',
        error: 'ReleaseLockLost',
        cause: `incident ${incidentId} no longer names release ${release.releaseId} as active: its status was left to its new owner`,
      });
    }
  }

  const manifest = await manifestOrGap(deps, incidentId, now);
  const headline =
    decision.outcome === 'released'
      ? `[cordon] released: ${target.instanceId} in ${target.accountId}/${target.region}`
      : `[cordon] release ${decision.outcome}: ${target.instanceId} in ${target.accountId}/${target.region}`;
  const instance = state.instance as { autoScaling?: unknown; targetGroups?: unknown; deleteOnTermination?: unknown } | undefined;
  await notify(
    deps,
    headline,
    {
      incidentId,
      releaseId: release.releaseId,
      responseId: release.responseId,
      executionArn: input.executionArn,
      target,
      requestedBy: release.requestedBy,
      reason: release.reason,
      outcome: decision.outcome,
      summary: decision.summary,
      failures: decision.failures,
      notRestored: { autoScaling: instance?.autoScaling ?? null, targetGroups: instance?.targetGroups ?? null, deleteOnTermination: instance?.deleteOnTermination ?? null },
      incidentStatus,
      evidence: { release: evidence.key, manifest },
    },
    decision.outcome,
  );
  deps.log.info('release recorded', { incidentId, releaseId: release.releaseId, outcome: decision.outcome });
  return { outcome: decision.outcome, summary: decision.summary, failures: decision.failures, incidentStatus };
}

export async function record(input: RecordReleaseInput, deps: RecordReleaseDeps): Promise<RecordReleaseResult | RefusalResult> {
  return input.step === 'record' ? recordRelease(input, deps) : recordRefusal(input, deps);
}
