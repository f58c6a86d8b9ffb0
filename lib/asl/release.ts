/**
 * The release workflow (docs/design.md §3.5), rendered to state-machines/release.asl.json by
 * `npm run asl`: undo a containment from the incident's original before-state, keep every piece
 * of evidence, record who released it and why.
 */
import { catchAll, choice, equals, fail, lambdaArn, map, pass, paths, retry, retryOn, succeed, task, type Definition, type JsonObject, type State } from './builder';

const RESTORE = lambdaArn('release-restore');
const RECORD = lambdaArn('release-record');

/** What each restore step receives about the release. */
const RELEASE_CONTEXT = paths({ target: '$.containment.target', incidentId: '$.containment.incidentId', releaseId: '$.release.releaseId' });

/** A restore step that failed, in place of its result (`action`, from the error at `failurePath`). */
function notRestored(action: string, failurePath: string, resultPath: string, next: string): State {
  return pass(
    {
      Parameters: { action, status: 'failed', 'error.$': `${failurePath}.Error`, 'cause.$': `${failurePath}.Cause` },
      ResultPath: resultPath,
    },
    next,
  );
}

/** A step of release-record; if it cannot record, the release fails as RecordingFailed. */
function record(comment: string, step: string, parameters: JsonObject, resultPath: string, next: string): State {
  return task({
    comment,
    resource: RECORD,
    parameters: { step, 'executionArn.$': '$$.Execution.Id', ...parameters },
    resultPath,
    retry: retry('transientOnly'),
    catch: { resultPath: '$.recordFailure', next: 'RecordingFailed' },
    next,
  });
}

export function releaseDefinition(): Definition {
  return {
    Comment:
      "cordon release workflow (docs/design.md §3 Release): undo a containment from the incident's original before-state, keep every piece of evidence, record who released it and why.",
    StartAt: 'ReceiveRelease',
    TimeoutSeconds: 3600,
    States: {
      ReceiveRelease: pass({ Parameters: { 'release.$': '$' } }, 'LoadContainment'),
      LoadContainment: task({
        comment:
          'Find the response, check the incident is contained, read the before-state to restore, look at the instance as it is now, take the release lock. Refusals are named errors, before anything is changed',
        resource: lambdaArn('release-load'),
        parameters: { 'release.$': '$.release' },
        resultPath: '$.containment',
        retry: retry('transientOnly', retryOn('ResponseNotFoundError', 5, 2)),
        catch: { resultPath: '$.failure', next: 'RecordRefusal' },
        next: 'RestoreNetwork',
      }),
      RestoreNetwork: map({
        comment:
          'Each ENI back in its original security groups, with its original connection-tracking timeouts; an ENI found in the untrack group too',
        itemsPath: '$.containment.interfaces',
        maxConcurrency: 0,
        itemSelector: { 'interface.$': '$$.Map.Item.Value', ...RELEASE_CONTEXT },
        processor: {
          StartAt: 'RestoreInterface',
          States: {
            RestoreInterface: task({
              comment: 'Original groups (ModifyNetworkInterfaceAttribute, never ModifyInstanceAttribute), verified with Describe; then the original timeouts',
              resource: RESTORE,
              parameters: {
                step: 'network',
                ...paths({ interface: '$.interface', target: '$.target', incidentId: '$.incidentId', releaseId: '$.releaseId' }),
              },
              retry: retry('transientOnly', retryOn('RestoreVerificationError', 2, 2)),
              catch: { resultPath: '$.failure', next: 'InterfaceNotRestored' },
              next: null,
            }),
            InterfaceNotRestored: pass(
              {
                Parameters: {
                  'networkInterfaceId.$': '$.interface.networkInterfaceId',
                  status: 'failed',
                  'error.$': '$.failure.Error',
                  'cause.$': '$.failure.Cause',
                },
              },
              null,
            ),
          },
        },
        resultPath: '$.network',
        catch: catchAll('$.networkFailure', 'RestoreRole'),
        next: 'RestoreRole',
      }),
      RestoreRole: task({
        comment: "Associate the instance profile again, then take this instance out of the role's cordon deny (a neighbour's deny stays)",
        resource: RESTORE,
        parameters: {
          step: 'role',
          ...RELEASE_CONTEXT,
          ...paths({
            instanceArn: '$.containment.instanceArn',
            profile: '$.containment.profile',
            roleNames: '$.containment.roleNames',
            sessionRevocations: '$.containment.sessionRevocations',
          }),
        },
        resultPath: '$.role',
        retry: retry('transientOnly', retryOn('ReleasePolicyNotConfirmedError', 3, 3, { jitter: true })),
        catch: { resultPath: '$.roleFailure', next: 'RoleNotRestored' },
        next: 'RestoreInstance',
      }),
      RoleNotRestored: notRestored('restoreRole', '$.roleFailure', '$.role', 'RestoreInstance'),
      RestoreInstance: task({
        comment:
          'Termination protection and shutdown behaviour as they were; volumes stay DeleteOnTermination=false; Auto Scaling and target groups are reported, not rejoined',
        resource: RESTORE,
        parameters: {
          step: 'instance',
          ...RELEASE_CONTEXT,
          ...paths({
            attributes: '$.containment.attributes',
            volumes: '$.containment.volumes',
            autoScalingGroupName: '$.containment.autoScalingGroupName',
            targetGroups: '$.containment.targetGroups',
          }),
        },
        resultPath: '$.instance',
        retry: retry('transientOnly'),
        catch: { resultPath: '$.instanceFailure', next: 'InstanceNotRestored' },
        next: 'RecordRelease',
      }),
      InstanceNotRestored: notRestored('restoreInstance', '$.instanceFailure', '$.instance', 'RecordRelease'),
      RecordRelease: record(
        'Decide released / partially-released / failed, capture the after-state, write the release evidence, the ledger and the manifest, notify',
        'record',
        { 'state.$': '$' },
        '$.outcome',
        'CheckRelease',
      ),
      CheckRelease: choice([[equals('$.outcome.outcome', 'released'), 'ReleaseComplete']], 'ReleaseIncomplete'),
      ReleaseComplete: succeed(),
      ReleaseIncomplete: fail({ Error: 'ReleaseIncomplete', CausePath: '$.outcome.summary' }),
      RecordRefusal: record(
        'Nothing was changed: record who asked and why the release was refused, and notify',
        'refused',
        { 'release.$': '$.release', 'failure.$': '$.failure' },
        '$.refusal',
        'ReleaseRefused',
      ),
      ReleaseRefused: fail({
        Comment: "The refusal's own error name (IncidentNotContainedError, BeforeStateMissingError, ...)",
        ErrorPath: '$.refusal.error',
        CausePath: '$.refusal.cause',
      }),
      RecordingFailed: fail({
        Error: 'RecordingFailed',
        Cause: 'The release could not be recorded or notified; the execution history holds the restore results.',
      }),
    },
  };
}
