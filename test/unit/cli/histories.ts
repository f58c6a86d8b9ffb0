/**
 * Recorded-shape histories of the response workflow (state-machines/response.asl.json), built event
 * by event in Step Functions' format: the Parallel branches and the Map iterations interleave as they
 * do in a real run, and every event links to the one that led to it.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { History, HUB, INSTANCE, REGION, RESPONSE_ID } from './support';

export const ENI_A = 'eni-0a1b2c3d4e5f60718';
export const ENI_B = 'eni-0b2c3d4e5f6071829';
export const SNAP = 'snap-0c3d4e5f607182930';
export const VOL = 'vol-0d4e5f60718293a4b';
export const INCIDENT_ID = `inc-${HUB}-${REGION}-${INSTANCE}`;
const TARGET = { accountId: HUB, region: REGION, instanceId: INSTANCE };

export interface RecordedRun {
  readonly events: HistoryEvent[];
  /** What successive polls see: each batch is what happened since the previous poll. */
  readonly batches: HistoryEvent[][];
}

function iterationInput(eni: string): unknown {
  return { interface: { networkInterfaceId: eni, vpcId: 'vpc-0123456789abcdef0', groupIds: ['sg-0aaaaaaaaaaaaaaaa'] }, target: TARGET, incidentId: INCIDENT_ID, requestId: RESPONSE_ID, settleSeconds: 15 };
}

const isolated = (eni: string) => ({
  networkInterfaceId: eni,
  status: 'isolated',
  groupIds: ['sg-0isolation0000000'],
  previousGroupIds: ['sg-0aaaaaaaaaaaaaaaa'],
  guarantees: { trackedFlowIdleTimeoutSeconds: 60 },
});

/**
 * A response on an instance with two network interfaces and one volume, single-account.
 * `quarantine` chooses how QuarantineRole goes: it succeeds; or it is throttled once, retried,
 * then denied and caught into QuarantineFailed (the response ends partially contained).
 */
export function responseRun(quarantine: 'succeeds' | 'fails' = 'succeeds'): RecordedRun {
  const h = new History();
  const cut: number[] = [];
  const start = h.started({ requestId: RESPONSE_ID, source: 'manual', target: TARGET });
  let prev = h.pass(start, 'ReceiveRequest');
  prev = h.task(prev, 'CaptureBeforeState', {
    incidentId: INCIDENT_ID,
    exempt: false,
    duplicate: false,
    interfaces: [{ networkInterfaceId: ENI_A }, { networkInterfaceId: ENI_B }],
    volumes: [{ volumeId: VOL, deviceName: '/dev/xvda' }],
  });
  prev = h.choice(prev, 'CheckExemptOrDuplicate');
  prev = h.choice(prev, 'ShouldProtect');
  prev = h.task(prev, 'ProtectInstance', { autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'enabled' } });
  cut.push(h.events.length);

  const parallelEntered = h.enter(prev, 'Parallel', 'Contain');
  const p = h.add('ParallelStateStarted', parallelEntered);
  // Every branch starts at once.
  const isolateChoice = h.choice(p, 'ShouldIsolate');
  const quarantineChoice = h.choice(p, 'ShouldQuarantineRole');
  const flowChoice = h.choice(p, 'ShouldEnableFlowLogs');
  const snapChoice = h.choice(p, 'ShouldSnapshot');
  const preserveEntered = h.enter(p, 'Task', 'PreserveInstance');
  const collectEntered = h.enter(p, 'Task', 'CollectEvidence');

  const prepare = h.task(isolateChoice, 'PrepareIsolationGroups', { interfaces: [{}, {}], groups: [{}] });
  const quarantineEntered = h.enter(quarantineChoice, 'Task', 'QuarantineRole');
  const flows = h.task(flowChoice, 'EnableFlowLogs', {
    action: 'flowLogs',
    status: 'succeeded',
    flowLogs: [{ resourceId: 'vpc-0123456789abcdef0', resourceType: 'VPC', flowLogId: 'fl-0123456789abcdef0', status: 'created' }],
  });
  const snaps = h.task(snapChoice, 'CreateSnapshots', {
    action: 'snapshot',
    status: 'started',
    snapshots: [{ snapshotId: SNAP, volumeId: VOL, state: 'pending' }],
    pollSeconds: 60,
  });

  const mapEntered = h.enter(prepare, 'Map', 'IsolateEachInterface');
  const m = h.add('MapStateStarted', mapEntered);
  const it0 = h.add('MapIterationStarted', m, { mapIterationStartedEventDetails: { name: 'IsolateEachInterface', index: 0 } });
  const it1 = h.add('MapIterationStarted', m, { mapIterationStartedEventDetails: { name: 'IsolateEachInterface', index: 1 } });
  const untrack0 = h.enter(it0, 'Task', 'UntrackInterface', iterationInput(ENI_A));
  const untrack1 = h.enter(it1, 'Task', 'UntrackInterface', iterationInput(ENI_B));
  const untracked = { connectionTracking: { status: 'lowered', tcpEstablishedTimeout: 60 }, untrackedAt: '2025-06-01T12:00:03.000Z' };
  const u0 = h.exit(h.invoke(untrack0, { output: untracked }), 'Task', 'UntrackInterface');
  const u1 = h.exit(h.invoke(untrack1, { output: untracked }), 'Task', 'UntrackInterface');
  const w0 = h.exit(h.enter(u0, 'Wait', 'SettleUntracked'), 'Wait', 'SettleUntracked');
  const w1 = h.exit(h.enter(u1, 'Wait', 'SettleUntracked'), 'Wait', 'SettleUntracked');

  let quarantineDone: number;
  if (quarantine === 'succeeds') {
    quarantineDone = h.exit(
      h.invoke(quarantineEntered, { output: { action: 'quarantineRole', status: 'succeeded', roleName: 'web-role', profileDisassociated: 'disassociated' } }),
      'Task',
      'QuarantineRole',
    );
  } else {
    const throttled = h.invoke(quarantineEntered, { error: 'TransientAwsError', cause: '{"errorType":"TransientAwsError","errorMessage":"Throttling: Rate exceeded","trace":[]}' });
    const denied = h.invoke(throttled, {
      error: 'AccessDenied',
      cause: JSON.stringify({ errorType: 'AccessDenied', errorMessage: 'User: arn:aws:sts::111122223333:assumed-role/CordonResponder/cordon is not authorized to perform: iam:PutRolePolicy on resource: role web-role', trace: ['at x'] }),
    });
    const caught = h.exit(denied, 'Task', 'QuarantineRole');
    quarantineDone = h.pass(caught, 'QuarantineFailed', { action: 'quarantineRole', status: 'failed', error: 'AccessDenied' });
  }
  const preserved = h.exit(h.invoke(preserveEntered, { output: { action: 'preserve', status: 'succeeded' } }), 'Task', 'PreserveInstance');
  const collected = h.exit(h.invoke(collectEntered, { output: { action: 'collectEvidence', status: 'succeeded' } }), 'Task', 'CollectEvidence');
  cut.push(h.events.length);

  const i0 = h.task(w0, 'MoveToIsolationGroup', isolated(ENI_A));
  const i1 = h.task(w1, 'MoveToIsolationGroup', isolated(ENI_B));
  const s0 = h.add('MapIterationSucceeded', i0, { mapIterationSucceededEventDetails: { name: 'IsolateEachInterface', index: 0 } });
  const s1 = h.add('MapIterationSucceeded', i1, { mapIterationSucceededEventDetails: { name: 'IsolateEachInterface', index: 1 } });
  const mapDone = h.exit(h.add('MapStateSucceeded', Math.max(s0, s1)), 'Map', 'IsolateEachInterface');
  const attempted = h.pass(mapDone, 'IsolationAttempted');
  const parallelDone = h.add('ParallelStateSucceeded', Math.max(attempted, quarantineDone, flows, snaps, preserved, collected));
  prev = h.exit(parallelDone, 'Parallel', 'Contain');

  const outcome =
    quarantine === 'succeeds'
      ? { outcome: 'contained', summary: 'all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot, preserve, collectEvidence' }
      : { outcome: 'partially-contained', summary: 'partially-contained: quarantineRole failed; isolate, flowLogs, snapshot, preserve, collectEvidence succeeded' };
  prev = h.task(prev, 'RecordOutcome', { incidentId: INCIDENT_ID, ...outcome, failures: [], awaitSnapshots: true, snapshotIds: [SNAP], snapshotPollSeconds: 60 });
  prev = h.choice(prev, 'ShouldAwaitSnapshots');
  prev = h.exit(h.enter(prev, 'Wait', 'AwaitSnapshots'), 'Wait', 'AwaitSnapshots');
  prev = h.task(prev, 'CheckSnapshots', { done: false, timedOut: false, snapshots: [{ snapshotId: SNAP, state: 'pending', progress: '40%' }] });
  prev = h.choice(prev, 'SnapshotsDone');
  prev = h.pass(prev, 'NextSnapshotCheck');
  cut.push(h.events.length);
  prev = h.exit(h.enter(prev, 'Wait', 'AwaitSnapshots'), 'Wait', 'AwaitSnapshots');
  prev = h.task(prev, 'CheckSnapshots', { done: false, timedOut: false, snapshots: [{ snapshotId: SNAP, state: 'pending', progress: '40%' }] });
  prev = h.choice(prev, 'SnapshotsDone');
  prev = h.pass(prev, 'NextSnapshotCheck');
  prev = h.exit(h.enter(prev, 'Wait', 'AwaitSnapshots'), 'Wait', 'AwaitSnapshots');
  prev = h.task(prev, 'CheckSnapshots', { done: true, timedOut: false, snapshots: [{ snapshotId: SNAP, state: 'completed', progress: '100%' }] });
  prev = h.choice(prev, 'SnapshotsDone');

  const shareEntered = h.enter(prev, 'Map', 'ShareSnapshots');
  const sm = h.add('MapStateStarted', shareEntered);
  const sit = h.add('MapIterationStarted', sm, { mapIterationStartedEventDetails: { name: 'ShareSnapshots', index: 0 } });
  const shareInput = { snapshot: { snapshotId: SNAP, volumeId: VOL, state: 'completed' }, target: TARGET, incidentId: INCIDENT_ID, requestId: RESPONSE_ID, poll: 60 };
  let sp = h.exit(h.enter(sit, 'Choice', 'IsSnapshotComplete', shareInput), 'Choice', 'IsSnapshotComplete');
  sp = h.task(sp, 'CopyToEvidenceKey', { snapshotId: 'snap-0e5f60718293a4b5c', accountId: HUB, crossAccount: false });
  sp = h.exit(h.enter(sp, 'Wait', 'AwaitEvidenceCopy'), 'Wait', 'AwaitEvidenceCopy');
  sp = h.task(sp, 'CheckEvidenceCopy', { state: 'completed', progress: '100%' });
  sp = h.choice(sp, 'EvidenceCopyDone');
  sp = h.choice(sp, 'IsCrossAccount');
  sp = h.pass(sp, 'SnapshotKept');
  const shareIt = h.add('MapIterationSucceeded', sp, { mapIterationSucceededEventDetails: { name: 'ShareSnapshots', index: 0 } });
  prev = h.exit(h.add('MapStateSucceeded', shareIt), 'Map', 'ShareSnapshots');
  prev = h.task(prev, 'RecordEvidence', { snapshots: 'completed', failed: [] });
  prev = h.choice(prev, 'CheckOutcome');
  if (quarantine === 'succeeds') {
    prev = h.exit(h.enter(prev, 'Succeed', 'ResponseComplete'), 'Succeed', 'ResponseComplete');
    h.add('ExecutionSucceeded', prev, { executionSucceededEventDetails: { output: '{}' } });
  } else {
    prev = h.enter(prev, 'Fail', 'ContainmentIncomplete');
    h.add('ExecutionFailed', prev, {
      executionFailedEventDetails: {
        error: 'ContainmentIncomplete',
        cause: 'The response ended partially-contained or failed; the ledger and the SNS notification name what failed and why.',
      },
    });
  }

  const bounds = [0, ...cut, h.events.length];
  const batches = bounds.slice(1).map((end, i) => h.events.slice(bounds[i], end));
  return { events: h.events, batches };
}
