/**
 * The response workflow's branches that are not containment actions (preservation, the target
 * groups, evidence collection) and the snapshot sharing that follows the outcome.
 */
import { ITEM_CONTEXT } from './actions';
import {
  REQUEST_CONTEXT,
  catchAll,
  choice,
  equals,
  failed,
  isPresent,
  isPresentAndTrue,
  isTrue,
  lambdaArn,
  map,
  pass,
  paths,
  requestedStep,
  retry,
  skipped,
  task,
  wait,
  type Graph,
  type JsonObject,
  type State,
} from './builder';

const PRESERVE = lambdaArn('preserve');
const SHARE = lambdaArn('share-snapshot');

/** What PreserveInstance receives; `deregisterFromTargetGroups` says whether it leaves the target groups too. */
function preserveParameters(deregister: JsonObject): JsonObject {
  return { ...REQUEST_CONTEXT, ...paths({ volumes: '$.before.volumes', autoScalingGroupName: '$.before.autoScalingGroupName' }), ...deregister };
}

/** Gated, after the actions: leave the target groups once approved (PreserveBeforeApproval left them alone). */
export function leaveTargetGroupsBranch(): Graph {
  return requestedStep({
    action: 'preserve',
    should: {
      name: 'ShouldLeaveTargetGroups',
      comment: 'Without a gate, PreserveInstance deregisters from target groups; behind the gate that waits for approval too',
      when: { And: [isPresent('$.gated.approval'), isTrue('$.before.plan.isolate')] },
    },
    skipped: { name: 'TargetGroupsLeftToPreserve', reason: "target groups are PreserveInstance's to leave" },
    task: {
      name: 'LeaveTargetGroups',
      comment:
        'After approval: deregister from the target groups the instance is registered in directly (PreserveBeforeApproval left them alone); shutdown behaviour and volumes again, idempotently',
      resource: PRESERVE,
      parameters: preserveParameters({ deregisterFromTargetGroups: true }),
      retry: retry('standard'),
    },
    failed: { name: 'LeaveTargetGroupsFailed', extra: { step: 'leaveTargetGroups' } },
  });
}

/**
 * Never waits: keep the instance and its volumes; behind the gate, the target groups wait for approval.
 * Skipped for a hub-exempt instance: its shutdown behaviour, volumes and target groups are left as they are.
 */
export function preserveBranch(): Graph {
  const preserve = (comment: string, deregister: JsonObject): State =>
    task({
      comment,
      resource: PRESERVE,
      parameters: preserveParameters(deregister),
      retry: retry('standard'),
      catch: { resultPath: '$.failure', next: 'PreserveFailed' },
      next: null,
    });
  return {
    StartAt: 'ShouldHoldTargetGroups',
    States: {
      ShouldHoldTargetGroups: choice(
        [
          [isTrue('$.before.exempt'), 'PreservationExempt'],
          [isPresentAndTrue('$.before.approval.required'), 'PreserveBeforeApproval'],
        ],
        'PreserveInstance',
        'An exempt instance (hub configuration, docs/design.md §3.2) gets its evidence only: nothing about it changes. Preservation never waits; deregistering from target groups takes the instance out of service, so behind the approval gate it waits (LeaveTargetGroups)',
      ),
      PreservationExempt: skipped('preserve', 'exempt: the instance is exempt by hub configuration, so nothing about it is changed'),
      PreserveBeforeApproval: preserve(
        'Shutdown behaviour to stop and DeleteOnTermination=false on every volume, without waiting for approval; target groups are left for LeaveTargetGroups',
        { deregisterFromTargetGroups: false },
      ),
      PreserveInstance: preserve('Shutdown behaviour to stop, DeleteOnTermination=false on every volume, deregister from target groups', {
        'deregisterFromTargetGroups.$': '$.before.plan.isolate',
      }),
      PreserveFailed: failed('preserve'),
    },
  };
}

/** Always: the instance description, console output and screenshot. */
export function collectEvidenceBranch(): Graph {
  return {
    StartAt: 'CollectEvidence',
    States: {
      CollectEvidence: task({
        comment: 'Instance description, console output and console screenshot into the evidence bucket',
        resource: lambdaArn('collect-evidence'),
        parameters: REQUEST_CONTEXT,
        retry: retry('standard'),
        catch: { resultPath: '$.failure', next: 'CollectEvidenceFailed' },
        next: null,
      }),
      CollectEvidenceFailed: failed('collectEvidence'),
    },
  };
}

/** A step of share-snapshot on one snapshot; any error ends the item as `SnapshotShareFailed` (or `onError`). */
function shareStep(
  step: string,
  fields: Record<string, string>,
  resultPath: string,
  next: string,
  options: { comment?: string; onError?: string } = {},
): State {
  return task({
    comment: options.comment,
    resource: SHARE,
    parameters: { step, ...ITEM_CONTEXT, ...paths(fields) },
    resultPath,
    retry: retry('standard'),
    catch: { resultPath: '$.failure', next: options.onError ?? 'SnapshotShareFailed' },
    next,
  });
}

const SNAPSHOT_IDS = paths({ snapshotId: '$.snapshot.snapshotId', volumeId: '$.snapshot.volumeId' });

/** After the outcome: each completed snapshot re-encrypted under the evidence key, and copied into the hub. */
export function shareSnapshots(next: string): State {
  const hubCopied = { ...SNAPSHOT_IDS, status: 'shared', ...paths({ memberCopyId: '$.copy.snapshotId', hubCopyId: '$.hubCopy.snapshotId' }) };
  const hubCopyKey = paths({ kmsKeyId: '$.hubCopyState.kmsKeyId', volumeSize: '$.hubCopyState.volumeSize' });
  const hubSteps = paths({ copy: '$.copy', shared: '$.shared', hubCopy: '$.hubCopy', hubCopyState: '$.hubCopyState' });
  return map({
      itemsPath: '$.snapshotProgress.snapshots',
      maxConcurrency: 5,
      comment: 'At most 5 copies at once per execution: EC2 allows 20 concurrent copies per destination region.',
      itemSelector: {
        'snapshot.$': '$$.Map.Item.Value',
        'target.$': '$.request.target',
        'incidentId.$': '$.outcome.incidentId',
        'requestId.$': '$.request.requestId',
        'poll.$': '$.outcome.snapshotPollSeconds',
      },
      processor: {
        StartAt: 'IsSnapshotComplete',
        States: {
          IsSnapshotComplete: choice([[equals('$.snapshot.state', 'completed'), 'CopyToEvidenceKey']], 'SnapshotNotShared'),
          SnapshotNotShared: pass({ Parameters: { ...SNAPSHOT_IDS, status: 'not-shared', 'state.$': '$.snapshot.state' } }, null),
          CopyToEvidenceKey: shareStep('copy-to-evidence-key', { snapshot: '$.snapshot' }, '$.copy', 'AwaitEvidenceCopy', {
            comment: "CopySnapshot in the snapshot's account, re-encrypted under the hub evidence key",
          }),
          AwaitEvidenceCopy: wait('$.poll', 'CheckEvidenceCopy'),
          CheckEvidenceCopy: shareStep('check-copy', { copy: '$.copy' }, '$.copyState', 'EvidenceCopyDone'),
          EvidenceCopyDone: choice([[equals('$.copyState.state', 'completed'), 'IsCrossAccount']], 'NextEvidenceCopyCheck'),
          NextEvidenceCopyCheck: pass({ InputPath: '$.copyState.nextPollSeconds', ResultPath: '$.poll' }, 'AwaitEvidenceCopy'),
          IsCrossAccount: choice([[isTrue('$.copy.crossAccount'), 'ShareWithHub']], 'SnapshotKept'),
          SnapshotKept: pass(
            {
              Parameters: {
                ...SNAPSHOT_IDS,
                status: 'kept',
                ...paths({ evidenceCopyId: '$.copy.snapshotId', kmsKeyId: '$.copyState.kmsKeyId', volumeSize: '$.copyState.volumeSize' }),
                steps: paths({ copy: '$.copy', copyState: '$.copyState' }),
              },
            },
            null,
          ),
          ShareWithHub: shareStep('share-with-hub', { source: '$.snapshot', copy: '$.copy' }, '$.shared', 'CopyIntoHub', {
            comment: 'createVolumePermission for the hub account on the re-encrypted copy',
          }),
          CopyIntoHub: shareStep('copy-into-hub', { source: '$.snapshot', copy: '$.copy' }, '$.hubCopy', 'AwaitHubCopy', {
            comment: "The hub's own copy, under its own key, tagged explicitly",
          }),
          AwaitHubCopy: wait('$.poll', 'CheckHubCopy'),
          CheckHubCopy: shareStep('check-copy', { copy: '$.hubCopy' }, '$.hubCopyState', 'HubCopyDone'),
          HubCopyDone: choice([[equals('$.hubCopyState.state', 'completed'), 'RemoveTemporaryCopy']], 'NextHubCopyCheck'),
          NextHubCopyCheck: pass({ InputPath: '$.hubCopyState.nextPollSeconds', ResultPath: '$.poll' }, 'AwaitHubCopy'),
          RemoveTemporaryCopy: shareStep(
            'remove-temporary-copy',
            { source: '$.snapshot', copy: '$.copy', hubCopy: '$.hubCopy' },
            '$.removed',
            'SnapshotInHub',
            { comment: 'Only after the hub copy completed; never the original snapshot', onError: 'TemporaryCopyKept' },
          ),
          TemporaryCopyKept: pass(
            {
              Parameters: {
                ...hubCopied,
                ...hubCopyKey,
                temporaryCopy: 'kept',
                'error.$': '$.failure.Error',
                'cause.$': '$.failure.Cause',
                steps: hubSteps,
              },
            },
            null,
          ),
          SnapshotInHub: pass(
            { Parameters: { ...hubCopied, ...hubCopyKey, temporaryCopy: 'removed', steps: { ...hubSteps, 'removed.$': '$.removed' } } },
            null,
          ),
          SnapshotShareFailed: pass(
            { Parameters: { ...SNAPSHOT_IDS, status: 'failed', 'error.$': '$.failure.Error', 'cause.$': '$.failure.Cause' } },
            null,
          ),
        },
      },
      resultPath: '$.shares',
      catch: catchAll('$.snapshotFailure', 'RecordEvidence'),
      next,
    });
}
