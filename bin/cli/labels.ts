/**
 * What the CLI's progress lines call the states of cordon's workflows (see progress.ts): the lane of
 * each Parallel branch and Map, the loop plumbing not worth a line, and a one-line summary of each
 * task's output.
 *
 * Each containment action's lane label and Task state come from the catalogue
 * (lambdas/shared/actions.ts), so a new action gets its lane, and a `status=…` summary of its Task,
 * without an edit here.
 */
import { ACTION_SPECS, actionSpec, type ActionKey } from '../../lambdas/shared/actions';
import { CUSTOM_BRANCHES } from '../../lib/asl/actions';
import type { WorkflowLabels } from './progress';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const recs = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);
/** The action's Task state in the response workflow. */
const stateOf = (key: ActionKey): string => actionSpec(key).state;

// ---------------------------------------------------------------------------
// The response workflow (state-machines/response.asl.json)
// ---------------------------------------------------------------------------

const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '?');

/** The summary of an action's Task output when it has no specific one: its status. */
export const actionStatus = (o: Rec): string => `status=${str(o.status)}`;

export const RESPONSE_LABELS: WorkflowLabels = {
  top: 'response',
  labels: {
    OpenGate: 'approval',
    // Each action's branch starts at its `Should…` Choice state and reads as the action's label.
    ...Object.fromEntries(ACTION_SPECS.map((a) => [a.shouldState, a.label])),
    IsolateEachInterface: actionSpec('isolate').label,
    ShouldHoldTargetGroups: 'preserve',
    ShouldLeaveTargetGroups: 'preserve',
    PreserveInstance: 'preserve',
    CollectEvidence: 'collect evidence',
    ShareSnapshots: 'share',
  },
  quiet: new Set(['ReceiveRequest', 'NextSnapshotCheck', 'NextEvidenceCopyCheck', 'NextHubCopyCheck', 'IsolationAttempted']),
  passes: {
    IsolationUnsafe: 'fail',
    InterfaceLeftOpen: 'fail',
    SnapshotKept: 'ok',
    SnapshotInHub: 'ok',
    SnapshotNotShared: 'fail',
    SnapshotShareFailed: 'fail',
    TemporaryCopyKept: 'fail',
  },
  summaries: {
    // Each action built as one Task (lib/asl/actions.ts) has a summary: its status, unless it has its own line below.
    ...Object.fromEntries(ACTION_SPECS.filter((a) => !(a.key in CUSTOM_BRANCHES)).map((a) => [a.state, actionStatus])),
    CaptureBeforeState: (o) =>
      o.duplicate === true
        ? `repeat delivery: incident ${str(o.incidentId)} is already handled by ${str(o.ownerRequestId)}`
        : `incident ${str(o.incidentId)}: ${count(o.interfaces)} network interface(s), ${count(o.volumes)} volume(s)${o.exempt === true ? '; EXEMPT (hub configuration): evidence only, not contained' : ''}`,
    ProtectInstance: (o) => {
      const asg = isRec(o.autoScaling) ? str(o.autoScaling.status) : '?';
      const tp = isRec(o.terminationProtection) ? str(o.terminationProtection.status) : '?';
      return `auto scaling: ${asg}; termination protection: ${tp}`;
    },
    PrepareIsolationGroups: (o) => `${count(o.interfaces)} network interface(s) to isolate`,
    UntrackInterface: (o) => {
      const ct = isRec(o.connectionTracking) ? str(o.connectionTracking.status) : '?';
      return `in the untrack group; connection-tracking timeout ${ct}`;
    },
    MoveToIsolationGroup: (o) => (o.status === 'isolated' ? `isolated in ${Array.isArray(o.groupIds) ? o.groupIds.join(', ') : '?'}` : str(o.status)),
    SecureInterface: (o) => (o.status === 'isolated' ? 'isolated on the second attempt' : `NOT isolated: ${str(o.leftIn)}`),
    [stateOf('quarantineRole')]: (o) => (o.status === 'succeeded' ? `deny on role ${str(o.roleName)}; profile ${str(o.profileDisassociated)}` : `${str(o.status)}: ${str(o.reason)}`),
    [stateOf('flowLogs')]: (o) => recs(o.flowLogs).map((l) => `${str(l.flowLogId)} ${str(l.status)} on ${str(l.resourceId)}`).join(', ') || str(o.status),
    [stateOf('snapshot')]: (o) => (o.status === 'started' ? `${count(o.snapshots)} snapshot(s): ${recs(o.snapshots).map((s) => str(s.snapshotId)).join(', ')}` : `${str(o.status)}: ${str(o.reason)}`),
    PreserveInstance: (o) => str(o.status),
    CollectEvidence: (o) => `${str(o.status)}${typeof o.cause === 'string' ? `: ${o.cause}` : ''}`,
    RecordOutcome: (o) => `${str(o.outcome).toUpperCase()}: ${str(o.summary).replace(`${str(o.outcome)}: `, '')}`,
    CheckSnapshots: (o) => {
      const snaps = recs(o.snapshots);
      const done = snaps.filter((s) => s.state === 'completed').length;
      const pending = snaps.filter((s) => s.state !== 'completed').map((s) => `${str(s.snapshotId)} ${typeof s.progress === 'string' ? s.progress : str(s.state)}`);
      return `${done}/${snaps.length} completed${pending.length ? ` (${pending.join(', ')})` : ''}${o.timedOut === true ? '; wait cap reached' : ''}`;
    },
    CopyToEvidenceKey: (o) => `re-encrypting as ${str(o.snapshotId)}`,
    CheckEvidenceCopy: (o) => `${str(o.state)}${typeof o.progress === 'string' ? ` ${o.progress}` : ''}`,
    ShareWithHub: () => 'shared with the security account',
    CopyIntoHub: (o) => `copying into the security account as ${str(o.snapshotId)}`,
    CheckHubCopy: (o) => `${str(o.state)}${typeof o.progress === 'string' ? ` ${o.progress}` : ''}`,
    RemoveTemporaryCopy: () => 'temporary copy removed',
    RecordEvidence: (o) => `snapshots ${str(o.snapshots)}${count(o.failed) ? `; ${count(o.failed)} problem(s)` : ''}`,
  },
};

/** A workflow this CLI has no labels for (the release workflow, until its definition is known): state names only. */
export function genericLabels(top: string): WorkflowLabels {
  return { top, labels: {}, quiet: new Set(), summaries: {} };
}
