/** Ledger items as capture-state and record write them (lambdas/shared/ledger.ts, lambdas/record/record.ts). */
import { BUCKET, CALLER_ARN, HUB, INSTANCE, REGION, RESPONSE_EXECUTION, RESPONSE_ID } from './support';
import { ENI_A, ENI_B, INCIDENT_ID, SNAP, VOL } from './histories';

export const TARGET = { accountId: HUB, region: REGION, instanceId: INSTANCE };
const prefix = `incidents/${INCIDENT_ID}/responses/${RESPONSE_ID}/`;
export const BEFORE_KEY = `${prefix}before-state.json`;
const object = (key: string, sha256: string) => ({ bucket: BUCKET, key, sha256, size: 1234 });

export const REQUEST = {
  requestId: RESPONSE_ID,
  source: 'manual',
  target: TARGET,
  actions: ['isolate', 'flowLogs', 'snapshot', 'quarantineRole'],
  reason: 'C2 beaconing seen by the SOC',
  requestedBy: CALLER_ARN,
};

const isolated = (eni: string) => ({
  networkInterfaceId: eni,
  status: 'isolated',
  previousGroupIds: ['sg-0aaaaaaaaaaaaaaaa'],
  groupIds: ['sg-0isolation0000000'],
  guarantees: { untrackedFlows: 'cut', trackedFlowIdleTimeoutSeconds: 60, guaranteedCut: false },
});

export function incidentItem(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: INCIDENT_ID,
    sk: 'INCIDENT',
    target: TARGET,
    status,
    deliveryCount: 1,
    activeRequestId: RESPONSE_ID,
    lastRequestId: RESPONSE_ID,
    originalBeforeStateKey: BEFORE_KEY,
    ...extra,
  };
}

/** A response recorded `contained`, its snapshot kept as evidence (single account). */
export function containedItem(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: INCIDENT_ID,
    sk: `RESPONSE#${RESPONSE_ID}`,
    responseId: RESPONSE_ID,
    request: REQUEST,
    startedAt: '2025-06-01T12:00:00.500Z',
    beforeStateKey: BEFORE_KEY,
    underCordonControl: false,
    restoreFrom: BEFORE_KEY,
    status: 'contained',
    outcome: 'contained',
    summary: 'all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot, preserve, collectEvidence',
    failures: [],
    actions: [
      { action: 'isolate', status: 'succeeded', detail: { action: 'isolate', status: 'attempted', interfaces: [isolated(ENI_A), isolated(ENI_B)] } },
      {
        action: 'quarantineRole',
        status: 'succeeded',
        detail: { action: 'quarantineRole', status: 'succeeded', roleName: 'web-role', sessionsRevoked: { status: 'revoked', issuedBefore: '2025-06-01T12:00:04.000Z' }, profileDisassociated: 'disassociated' },
      },
      {
        action: 'flowLogs',
        status: 'succeeded',
        detail: { action: 'flowLogs', status: 'succeeded', flowLogs: [{ resourceId: 'vpc-0123456789abcdef0', resourceType: 'VPC', flowLogId: 'fl-0123456789abcdef0', status: 'created', destination: `arn:aws:s3:::${BUCKET}/flow-logs` }] },
      },
      { action: 'snapshot', status: 'succeeded', detail: { action: 'snapshot', status: 'started', snapshots: [{ snapshotId: SNAP, volumeId: VOL, state: 'pending' }] } },
      { action: 'preserve', status: 'succeeded', detail: { action: 'preserve', status: 'succeeded' } },
      {
        action: 'collectEvidence',
        status: 'succeeded',
        detail: {
          action: 'collectEvidence',
          status: 'succeeded',
          objects: {
            instanceDescription: { status: 'stored', ...object(`${prefix}instance-description.json`, 'c'.repeat(64)) },
            consoleOutput: { status: 'stored', ...object(`${prefix}console-output.txt`, 'd'.repeat(64)) },
            consoleScreenshot: { status: 'not-available', error: 'UnsupportedOperation', cause: 'not supported on this instance type' },
          },
        },
      },
    ],
    executionArn: RESPONSE_EXECUTION,
    recordedAt: '2025-06-01T12:00:13.000Z',
    snapshotIds: [SNAP],
    snapshots: [{ snapshotId: SNAP, volumeId: VOL, state: 'completed', progress: '100%' }],
    shares: [{ snapshotId: SNAP, volumeId: VOL, status: 'kept', evidenceCopyId: 'snap-0e5f60718293a4b5c' }],
    snapshotStatus: 'completed',
    snapshotFailures: [],
    evidence: {
      beforeState: object(BEFORE_KEY, 'a'.repeat(64)),
      afterState: object(`${prefix}after-state.json`, 'b'.repeat(64)),
      outcome: object(`${prefix}outcome.json`, 'e'.repeat(64)),
    },
    ...extra,
  };
}

/** The same response recorded partially contained: the role quarantine was denied. */
export function partialItem(): Record<string, unknown> {
  const item = containedItem();
  const actions = (item.actions as Record<string, unknown>[]).map((a) =>
    a.action === 'quarantineRole'
      ? { action: 'quarantineRole', status: 'failed', detail: { action: 'quarantineRole', status: 'failed', error: 'AccessDenied', cause: 'not authorized to perform: iam:PutRolePolicy' } }
      : a,
  );
  return {
    ...item,
    status: 'partially-contained',
    outcome: 'partially-contained',
    summary: 'partially-contained: quarantineRole failed; isolate, flowLogs, snapshot, preserve, collectEvidence succeeded',
    failures: [{ action: 'quarantineRole', error: 'AccessDenied', cause: 'not authorized to perform: iam:PutRolePolicy' }],
    actions,
  };
}
