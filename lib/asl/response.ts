/**
 * The response workflow (docs/design.md §3), rendered to state-machines/response.asl.json by
 * `npm run asl`: capture, protect, contain in parallel (the gated actions behind the optional
 * approval gate, docs/approval.md; evidence never waits), record and notify, then await and share
 * the snapshots. The containment actions' branches come from ACTION_SPECS.
 */
import { ACTION_SPECS, type ActionSpec } from '../../lambdas/shared/actions';
import { actionBranch } from './actions';
import {
  REQUEST_CONTEXT,
  catchAll,
  catchOn,
  choice,
  equals,
  fail,
  isPresent,
  isPresentAndTrue,
  isTrue,
  lambdaArn,
  parallel,
  pass,
  paths,
  retry,
  succeed,
  task,
  wait,
  type Definition,
  type Graph,
  type State,
} from './builder';
import { collectEvidenceBranch, leaveTargetGroupsBranch, preserveBranch, shareSnapshots } from './evidence';

const RECORD = lambdaArn('record');
const PROTECT = lambdaArn('protect');
const APPROVAL_REQUIRED = isPresentAndTrue('$.before.approval.required');
const ISOLATION_PLANNED = isTrue('$.before.plan.isolate');

/** ProtectInstance's Task: leave Auto Scaling and turn termination protection on, result at `resultPath`. */
function protect(comment: string, resultPath: string, next: string, onError: { resultPath: string; next: string }): State {
  return task({
    comment,
    resource: PROTECT,
    parameters: { ...REQUEST_CONTEXT, 'autoScalingGroupName.$': '$.before.autoScalingGroupName' },
    resultPath,
    retry: retry('standard'),
    catch: onError,
    next,
  });
}

/** The approval gate's result when the approval timed out, by `onTimeout`. */
function timedOut(approved: boolean): State {
  return pass(
    {
      Result: {
        approved,
        decidedBy: 'cordon (approval timed out)',
        reason: `no decision before the approval timed out; onTimeout=${approved ? 'approve' : 'deny'}`,
        timedOut: true,
      },
      ResultPath: '$.gated.approval',
    },
    'IsApproved',
  );
}

/** The gated branch: the approval gate (when required), then every gated action in parallel. */
function gatedBranch(actions: readonly ActionSpec[]): Graph {
  return {
    StartAt: 'OpenGate',
    States: {
      OpenGate: pass(
        {
          Comment:
            'Gated containment: everything that changes how the instance serves (Auto Scaling, target groups, security groups, its role) waits here for one approval when the instance carries an approval tag',
          Result: { gate: 'approval' },
          ResultPath: '$.gated',
        },
        'NeedsApproval',
      ),
      NeedsApproval: choice([[APPROVAL_REQUIRED, 'AwaitApproval']], 'ContainNetworkAndRole'),
      AwaitApproval: task({
        comment:
          'Store the task token on the response, notify how to approve or deny, and wait (never in a Lambda) for submitApprovalDecision or the timeout',
        resource: 'arn:${Partition}:states:::lambda:invoke.waitForTaskToken',
        parameters: {
          FunctionName: lambdaArn('await-approval'),
          Payload: {
            'taskToken.$': '$$.Task.Token',
            'executionArn.$': '$$.Execution.Id',
            'request.$': '$.request',
            ...paths({ incidentId: '$.before.incidentId', plan: '$.before.plan', approval: '$.before.approval' }),
          },
        },
        extra: { TimeoutSecondsPath: '$.before.approval.timeoutSeconds' },
        resultPath: '$.gated.approval',
        retry: retry('transientOnly'),
        catch: [catchOn('States.Timeout', '$.gated.timeout', 'ApplyTimeoutPolicy'), catchAll('$.gated.approvalFailure', 'GateClosed')],
        next: 'IsApproved',
      }),
      ApplyTimeoutPolicy: choice([[equals('$.before.approval.onTimeout', 'approve'), 'TimeoutApproves']], 'TimeoutDenies'),
      TimeoutApproves: timedOut(true),
      TimeoutDenies: timedOut(false),
      IsApproved: choice([[isPresentAndTrue('$.gated.approval.approved'), 'ShouldProtectAfterApproval']], 'GateClosed'),
      ShouldProtectAfterApproval: choice(
        [[ISOLATION_PLANNED, 'ProtectAfterApproval']],
        'ContainNetworkAndRole',
        'Leaving Auto Scaling is only needed before security-group changes',
      ),
      ProtectAfterApproval: protect(
        'After approval, before any security-group change: leave Auto Scaling without decrementing capacity, and turn termination protection on',
        '$.gated.protect',
        'ContainNetworkAndRole',
        { resultPath: '$.protectFailure', next: 'KeepProtectFailure' },
      ),
      KeepProtectFailure: pass(
        {
          Comment: 'IsolationUnsafe reads $.protectFailure; the outcome reads it from the gate',
          InputPath: '$.protectFailure',
          ResultPath: '$.gated.protectFailure',
        },
        'ContainNetworkAndRole',
      ),
      ContainNetworkAndRole: parallel(
        [...actions.filter((a) => a.gated).map(actionBranch), leaveTargetGroupsBranch()],
        '$.gated.branches',
        'GateClosed',
      ),
      GateClosed: pass(
        {
          Comment: 'The branch result: the approval (if one was needed), the protect result and the isolate / quarantine / target-group results',
          OutputPath: '$.gated',
        },
        null,
      ),
    },
  };
}

/** The response workflow over `actions` (the catalogue, unless a test injects another). */
export function responseDefinition(actions: readonly ActionSpec[] = ACTION_SPECS): Definition {
  const record = (step: string, resultPath: string, next: string, comment: string): State =>
    task({
      comment,
      resource: RECORD,
      parameters: { step, 'executionArn.$': '$$.Execution.Id', 'state.$': '$' },
      resultPath,
      retry: retry('standard'),
      catch: { resultPath: '$.failure', next: 'RecordingFailed' },
      next,
    });
  return {
    Comment:
      'cordon response workflow (docs/design.md §3): capture, protect, contain in parallel (isolation and the role quarantine behind the optional approval gate, docs/approval.md; evidence never waits), record and notify, then await the snapshots.',
    StartAt: 'ReceiveRequest',
    States: {
      ReceiveRequest: pass({ Parameters: { 'request.$': '$' } }, 'CaptureBeforeState'),
      CaptureBeforeState: task({
        comment: 'Validate the request, open the incident, and write the before-state to the ledger and the evidence bucket',
        resource: lambdaArn('capture-state'),
        parameters: { 'request.$': '$.request' },
        resultPath: '$.before',
        retry: retry('standard'),
        catch: { resultPath: '$.failure', next: 'RecordOutcome' },
        next: 'CheckExemptOrDuplicate',
      }),
      CheckExemptOrDuplicate: choice(
        [
          [isTrue('$.before.duplicate'), 'RecordOutcome'],
          [isTrue('$.before.exempt'), 'Contain'],
        ],
        'ShouldProtect',
        'A repeat delivery runs nothing. A hub-exempt instance (docs/design.md §3.2) goes straight to Contain: its plan holds only the evidence actions, and PreserveInstance is skipped',
      ),
      ShouldProtect: choice(
        [
          [APPROVAL_REQUIRED, 'Contain'],
          [ISOLATION_PLANNED, 'ProtectInstance'],
        ],
        'Contain',
        'Leaving Auto Scaling is only needed before security-group changes; a response at the approval gate leaves it after approval (ProtectAfterApproval)',
      ),
      ProtectInstance: protect(
        'Before any security-group change: leave Auto Scaling without decrementing capacity, and turn termination protection on',
        '$.protect',
        'Contain',
        { resultPath: '$.protectFailure', next: 'Contain' },
      ),
      Contain: parallel(
        [
          gatedBranch(actions),
          ...actions.filter((a) => !a.gated).map(actionBranch),
          preserveBranch(),
          collectEvidenceBranch(),
        ],
        '$.branches',
        'RecordOutcome',
        [catchAll('$.failure', 'RecordOutcome')],
      ),
      RecordOutcome: record(
        'outcome',
        '$.outcome',
        'ShouldAwaitSnapshots',
        'Capture the after-state, decide contained / partially-contained / failed, write the ledger and notify',
      ),
      ShouldAwaitSnapshots: choice([[isTrue('$.outcome.awaitSnapshots'), 'AwaitSnapshots']], 'CheckOutcome'),
      AwaitSnapshots: wait('$.outcome.snapshotPollSeconds', 'CheckSnapshots'),
      CheckSnapshots: task({
        resource: lambdaArn('snapshot'),
        parameters: {
          step: 'check',
          'target.$': '$.request.target',
          'incidentId.$': '$.outcome.incidentId',
          'requestId.$': '$.request.requestId',
          'snapshotIds.$': '$.outcome.snapshotIds',
        },
        resultPath: '$.snapshotProgress',
        retry: retry('standard'),
        catch: { resultPath: '$.snapshotFailure', next: 'RecordEvidence' },
        next: 'SnapshotsDone',
      }),
      SnapshotsDone: choice([[isTrue('$.snapshotProgress.done'), 'ShareSnapshots']], 'NextSnapshotCheck'),
      NextSnapshotCheck: pass({ InputPath: '$.snapshotProgress.nextPollSeconds', ResultPath: '$.outcome.snapshotPollSeconds' }, 'AwaitSnapshots'),
      ShareSnapshots: shareSnapshots('RecordEvidence'),
      RecordEvidence: record('evidence', '$.evidence', 'CheckOutcome', 'Record how the snapshots ended, and notify if any failed'),
      CheckOutcome: choice(
        [
          [{ Or: ['contained', 'duplicate'].map((o) => equals('$.outcome.outcome', o)) }, 'ResponseComplete'],
          [
            {
              And: [
                { Or: ['declined', 'exempt'].map((o) => equals('$.outcome.outcome', o)) },
                { Not: isPresent('$.outcome.failures[0]') },
              ],
            },
            'ResponseComplete',
          ],
        ],
        'ContainmentIncomplete',
      ),
      ResponseComplete: succeed(),
      ContainmentIncomplete: fail({
        Error: 'ContainmentIncomplete',
        Cause:
          'The response ended partially-contained or failed, or was declined at the approval gate or exempt while an evidence action failed; the ledger and the SNS notification name what failed and why.',
      }),
      RecordingFailed: fail({
        Error: 'RecordingFailed',
        Cause: 'The outcome could not be recorded or notified; the execution history holds the branch results.',
      }),
    },
  };
}
