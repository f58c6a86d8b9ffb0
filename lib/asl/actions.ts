/**
 * The containment actions' branches of the response workflow, one per entry of ACTION_SPECS
 * (lambdas/shared/actions.ts). An action gets the simple requested / not requested / task /
 * failed branch ({@link requestedStep}) unless it has a branch builder of its own here: a new
 * action needs only its ACTION_SPECS entry to appear in the workflow, and an entry in
 * {@link ACTION_TASKS} when its Task needs more than the request context.
 */
import type { ActionSpec } from '../../lambdas/shared/actions';
import {
  REQUEST_CONTEXT,
  catchAll,
  choice,
  failed,
  graph,
  isFalse,
  isPresent,
  isTrue,
  lambdaArn,
  map,
  pascal,
  pass,
  paths,
  requestedStep,
  retry,
  retryOn,
  skipped,
  task,
  wait,
  type Graph,
  type JsonObject,
  type Retrier,
} from './builder';

/** How an action's Task differs from the defaults of the simple branch. */
export interface ActionTask {
  /** The Task's Comment. @default the spec's `describe`, as a sentence */
  readonly comment?: string;
  /** @default the request context (target, incidentId, requestId) */
  readonly parameters?: JsonObject;
  /** @default retry('standard') */
  readonly retry?: readonly Retrier[];
  /** Stem of the `…NotRequested` and `…Failed` states. @default the key in PascalCase */
  readonly stem?: string;
}

/** The Task details of the actions that use the simple branch, by action key. */
export const ACTION_TASKS: Readonly<Record<string, ActionTask>> = {
  flowLogs: {
    comment: 'Reuse an active ALL-traffic flow log on each VPC, or create one to the evidence bucket',
    parameters: { ...REQUEST_CONTEXT, 'interfaces.$': '$.before.interfaces' },
  },
  snapshot: {
    comment: 'Crash-consistent snapshots of every attached EBS volume, tagged with the incident',
    parameters: { step: 'create', ...REQUEST_CONTEXT, ...paths({ findingId: '$.before.findingId', volumes: '$.before.volumes' }) },
  },
  quarantineRole: {
    comment: "Deny the role's credentials when used from this instance, then disassociate the instance profile",
    parameters: { ...REQUEST_CONTEXT, ...paths({ instanceArn: '$.before.instanceArn', profile: '$.before.profile' }) },
    retry: retry('standard', retryOn('QuarantineNotConfirmedError', 3, 3, { jitter: true })),
    stem: 'Quarantine',
  },
};

/** The branch of an action: runs its Task when `$.before.plan.<key>` is true, else reports it skipped. */
export function simpleActionBranch(spec: ActionSpec): Graph {
  const details = ACTION_TASKS[spec.key] ?? {};
  const stem = details.stem ?? pascal(spec.key);
  return requestedStep({
    action: spec.key,
    should: { name: spec.shouldState, when: isTrue(`$.before.plan.${spec.key}`) },
    skipped: { name: `${stem}NotRequested`, reason: 'not requested' },
    task: {
      name: spec.state,
      comment: details.comment ?? sentence(spec.describe),
      resource: lambdaArn(spec.lambda),
      parameters: details.parameters ?? REQUEST_CONTEXT,
      retry: details.retry ?? retry('standard'),
    },
    failed: { name: `${stem}Failed` },
  });
}

/** Actions whose branch is more than one Task, by key. */
export const CUSTOM_BRANCHES: Readonly<Record<string, (spec: ActionSpec) => Graph>> = {
  isolate: isolateBranch,
};

/** The branch of `spec`: its own builder if it has one, else the simple branch. */
export function actionBranch(spec: ActionSpec): Graph {
  return (CUSTOM_BRANCHES[spec.key] ?? simpleActionBranch)(spec);
}

/** `enable a flow log` → `Enable a flow log`. */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What each Task of a Map item receives, from the item's own fields. */
export const ITEM_CONTEXT = paths({ target: '$.target', incidentId: '$.incidentId', requestId: '$.requestId' });

/**
 * IsolateNetwork (docs/design.md §3.3): prepare the security groups of each VPC, then move every
 * interface through the allow-all untrack group to the isolation group, never leaving one in
 * the untrack group. Refuses when Auto Scaling detachment failed (ProtectInstance).
 */
function isolateBranch(spec: ActionSpec): Graph {
  const resource = lambdaArn(spec.lambda);
  return {
    StartAt: spec.shouldState,
    States: {
      [spec.shouldState]: choice(
        [
          [isFalse(`$.before.plan.${spec.key}`), 'IsolationNotRequested'],
          [isPresent('$.protectFailure'), 'IsolationUnsafe'],
        ],
        'PrepareIsolationGroups',
      ),
      IsolationNotRequested: skipped(spec.key, 'not requested'),
      IsolationUnsafe: pass(
        {
          Comment: 'Auto Scaling detachment failed: an isolated instance would fail its health checks and be terminated, destroying the evidence.',
          Parameters: {
            action: spec.key,
            status: 'failed',
            error: 'IsolationUnsafe',
            cause: 'security groups left unchanged: the instance could not be detached from its Auto Scaling group, and isolating it would get it terminated',
            'protectError.$': '$.protectFailure.Error',
            'protectCause.$': '$.protectFailure.Cause',
          },
        },
        null,
      ),
      PrepareIsolationGroups: task({
        comment: 'Find or create the untrack and isolation security groups of each VPC, tagged and reused',
        resource,
        parameters: { step: 'prepare', ...REQUEST_CONTEXT, 'interfaces.$': '$.before.interfaces' },
        resultPath: '$.prepared',
        retry: retry('standard', retryOn('IsolationGroupConflictError', 2, 2)),
        catch: { resultPath: '$.failure', next: 'IsolationFailed' },
        next: 'IsolateEachInterface',
      }),
      IsolateEachInterface: map({
        itemsPath: '$.prepared.interfaces',
        maxConcurrency: 0,
        itemSelector: {
          'interface.$': '$$.Map.Item.Value',
          ...REQUEST_CONTEXT,
          'settleSeconds.$': '$.before.settleSeconds',
        },
        processor: interfaceSteps(resource),
        resultPath: '$.interfaces',
        catch: catchAll('$.failure', 'IsolationFailed'),
        next: 'IsolationAttempted',
      }),
      IsolationAttempted: pass(
        { Parameters: { action: spec.key, status: 'attempted', 'groups.$': '$.prepared.groups', 'interfaces.$': '$.interfaces' } },
        null,
      ),
      IsolationFailed: failed(spec.key),
    },
  };
}

/** One interface: untrack, let tracked connections settle, isolate; on any failure, secure it. */
function interfaceSteps(resource: string): Graph {
  const secure = { resultPath: '$.failure', next: 'SecureInterface' };
  return graph({
    UntrackInterface: task({
      comment: 'Lower the established-TCP idle timeout, then move the ENI to the allow-all untrack group',
      resource,
      parameters: { step: 'untrack', 'interface.$': '$.interface', ...ITEM_CONTEXT },
      resultPath: '$.untracked',
      retry: retry('standard'),
      catch: secure,
      next: 'SettleUntracked',
    }),
    SettleUntracked: wait('$.settleSeconds', 'MoveToIsolationGroup'),
    MoveToIsolationGroup: task({
      comment: 'Move the ENI to the isolation group alone, then verify with Describe',
      resource,
      parameters: { step: 'isolate', 'interface.$': '$.interface', 'untracked.$': '$.untracked', ...ITEM_CONTEXT },
      retry: retry('shortSteps', retryOn('IsolationVerificationError', 2, 2)),
      catch: secure,
      next: null,
    }),
    SecureInterface: task({
      comment: 'A step failed: never leave the ENI in the allow-all group. Isolation once more, else its original groups',
      resource,
      parameters: { step: 'secure', 'interface.$': '$.interface', 'failure.$': '$.failure', ...ITEM_CONTEXT },
      retry: retry('shortSteps'),
      catch: { resultPath: '$.secureFailure', next: 'InterfaceLeftOpen' },
      next: null,
    }),
    InterfaceLeftOpen: pass(
      {
        Parameters: {
          'networkInterfaceId.$': '$.interface.networkInterfaceId',
          status: 'failed',
          leftIn: 'unknown: possibly the allow-all untrack group',
          'error.$': '$.failure.Error',
          'cause.$': '$.failure.Cause',
          'secureError.$': '$.secureFailure.Error',
          'secureCause.$': '$.secureFailure.Cause',
        },
      },
      null,
    ),
  });
}
