/**
 * Runs the real response ASL (state-machines/response.asl.json) in
 * aws-local-stepfunctions with the real Lambda handlers, over a test client
 * factory. Wait states and retry intervals are overridden to zero so runs take
 * milliseconds; their definitions are still what executes.
 *
 * The approval gate's callback task (`arn:aws:states:::lambda:invoke.waitForTaskToken`) is the one
 * thing aws-local-stepfunctions 3 does not run: it has no service integrations (every Task calls its
 * local handler with the state's processed Parameters) and no `$$.Task.Token` in the context object.
 * So, and only for that state, the runner emulates what Step Functions does:
 *   - `$$.Task.Token` is a token the runner makes per run and puts in the context object;
 *   - the task invokes the real handler of the function named in `Parameters.FunctionName` with
 *     `Parameters.Payload`, then waits until the token is settled through the `CallbackBroker`
 *     (FakeAws models SendTaskSuccess / SendTaskFailure), whose output becomes the task's result;
 *   - when the engine's own `TimeoutSecondsPath` timer fires (a real timer), the token is closed, so a
 *     later SendTaskSuccess gets `TaskTimedOut` as from Step Functions.
 *   - Step Functions resolves `TimeoutSecondsPath` against the state input (AWS's own example: a Glue
 *     task with `Parameters: {JobName}` and `TimeoutSecondsPath: $.params.maxTime`); the local engine
 *     resolves it against the Parameters result. The runner points the local engine at the same value
 *     inside `Parameters.Payload` (`$.before.approval.timeoutSeconds` → `$.Payload.approval.timeoutSeconds`,
 *     because Payload carries `approval.$: $.before.approval`), and fails if no Payload field carries it.
 * `onCallback` lets a test act while the task waits (as a responder would, through the real
 * submitApprovalDecision).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
import { RESPONDERS } from '../../lib/responders';
import type { ClientFactory } from '../../lambdas/shared/clients';
import { silentLog } from '../../lambdas/shared/handler';
import * as awaitApproval from '../../lambdas/await-approval/handler';
import * as captureState from '../../lambdas/capture-state/handler';
import type { ApprovalPolicy } from '../../lambdas/capture-state/capture-state';
import * as collectEvidence from '../../lambdas/collect-evidence/handler';
import * as preserve from '../../lambdas/preserve/handler';
import * as shareSnapshot from '../../lambdas/share-snapshot/handler';
import * as flowLogs from '../../lambdas/flow-logs/handler';
import * as isolate from '../../lambdas/isolate/handler';
import * as protect from '../../lambdas/protect/handler';
import * as quarantineRole from '../../lambdas/quarantine-role/handler';
import * as record from '../../lambdas/record/handler';
import * as snapshot from '../../lambdas/snapshot/handler';
import type { RevokeSessionsMode } from '../../lambdas/quarantine-role/quarantine-role';

export const ASL_PATH = join(__dirname, '..', '..', 'state-machines', 'response.asl.json');
export const LEDGER = 'cordon-ledger';
export const BUCKET = 'cordon-evidence';
export const TOPIC = 'arn:aws:sns:us-east-1:111122223333:cordon';

const functionArn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:cordon-${name}`;

/** The ASL with each `${Placeholder}` replaced by its function's ARN, as CDK's definitionSubstitutions does. */
export function loadDefinition(): Record<string, unknown> {
  let text = readFileSync(ASL_PATH, 'utf8');
  for (const r of RESPONDERS) {
    if (r.placeholder) text = text.split(`\${${r.placeholder}}`).join(functionArn(r.name));
  }
  text = text.split('${Partition}').join('aws');
  if (/\$\{[A-Za-z]+\}/.test(text)) throw new Error('unsubstituted placeholder left in the ASL');
  return JSON.parse(text) as Record<string, unknown>;
}

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSecondsPath?: string;
  Branches?: Array<{ States: Record<string, AslState> }>;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
}

/** Every state in the definition, including those inside Parallel branches and Map processors. */
export function allStates(states: Record<string, AslState>): Array<[string, AslState]> {
  return Object.entries(states).flatMap(([name, s]) => [
    [name, s] as [string, AslState],
    ...(s.Branches ?? []).flatMap((b) => allStates(b.States)),
    ...allStates((s.ItemProcessor ?? s.Iterator)?.States ?? {}),
  ]);
}

export const HUB_ACCOUNT = '111122223333';
export const evidenceKeyArn = (hub: string) => `arn:aws:kms:us-east-1:${hub}:key/0b3f0c1e-evidence`;

/** Service-integration resource of the approval gate's callback task (after `${Partition}` → aws). */
export const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Settles callback tokens: FakeAws models SendTaskSuccess / SendTaskFailure on them. */
export interface CallbackBroker {
  /** Start waiting on `token`: resolves with the SendTaskSuccess output, rejects on SendTaskFailure. */
  openTask(token: string): Promise<unknown>;
  /** The task ended without a callback (timed out): later callbacks fail with TaskTimedOut. */
  closeTask(token: string): void;
}

export interface CallbackContext {
  /** The task token the workflow is waiting on. */
  readonly token: string;
  readonly state: string;
  /** The run's events so far (live). */
  readonly events: readonly EventLog[];
  /** Resolve once every named state has exited (or throw after `maxTicks` turns of the event loop). */
  readonly exited: (states: readonly string[], maxTicks?: number) => Promise<void>;
}

export interface WorkflowOptions {
  readonly factory: ClientFactory;
  /** A factory per Lambda instead (e.g. each handler's own production factory). */
  readonly factoryFor?: (lambda: string) => ClientFactory;
  /** The security account; the target is a member account when it differs. */
  readonly hubAccountId?: string;
  /** Execution id for the context object (one per run in tests that run several). */
  readonly executionId?: string;
  readonly settleSeconds?: number;
  readonly revokeSessions?: RevokeSessionsMode;
  readonly now?: () => Date;
  /** The approval gate (capture-state's config). @default - no gate */
  readonly approval?: ApprovalPolicy;
  /** Where callback tokens are settled (FakeAws). Required only for runs that reach the approval gate. */
  readonly callbacks?: CallbackBroker;
  /** Called while the callback task waits, after its function returned. */
  readonly onCallback?: (context: CallbackContext) => Promise<void> | void;
}

type Invoke = (event: unknown) => Promise<unknown>;

export function handlersByFunction(o: WorkflowOptions): Record<string, Invoke> {
  const { now } = o;
  const f = (name: string): ClientFactory => o.factoryFor?.(name) ?? o.factory;
  return {
    'capture-state': captureState.createHandler(() => ({
      factory: f('capture-state'),
      now,
      config: {
        ledgerTable: LEDGER,
        evidenceBucket: BUCKET,
        exemptTagKey: 'cordon:exempt',
        exemptTagValue: 'true',
        settleSeconds: o.settleSeconds ?? 15,
        partition: 'aws',
        approval: o.approval,
      },
    })),
    'await-approval': awaitApproval.createHandler(() => ({
      factory: f('await-approval'),
      now,
      log: silentLog,
      config: { ledgerTable: LEDGER, topicArn: TOPIC },
    })),
    protect: protect.createHandler(() => ({ factory: f('protect') })),
    preserve: preserve.createHandler(() => ({ factory: f('preserve') })),
    'collect-evidence': collectEvidence.createHandler(() => ({ factory: f('collect-evidence'), config: { evidenceBucket: BUCKET } })),
    'share-snapshot': shareSnapshot.createHandler(() => ({
      factory: f('share-snapshot'),
      now,
      config: { hubAccountId: o.hubAccountId ?? HUB_ACCOUNT, evidenceKeyArn: evidenceKeyArn(o.hubAccountId ?? HUB_ACCOUNT), maxHours: 24, pollSeconds: 60 },
    })),
    isolate: isolate.createHandler(() => ({ factory: f('isolate'), now, config: { tcpEstablishedTimeout: 60 } })),
    'quarantine-role': quarantineRole.createHandler(() => ({
      factory: f('quarantine-role'),
      now,
      sleep: async () => undefined,
      config: { revokeSessions: o.revokeSessions ?? 'auto' },
    })),
    'flow-logs': flowLogs.createHandler(() => ({ factory: f('flow-logs'), config: { bucketArn: `arn:aws:s3:::${BUCKET}` } })),
    snapshot: snapshot.createHandler(() => ({ factory: f('snapshot'), now, config: { maxHours: 24, pollSeconds: 60 } })),
    record: record.createHandler(() => ({
      factory: f('record'),
      now,
      log: silentLog,
      config: { ledgerTable: LEDGER, evidenceBucket: BUCKET, topicArn: TOPIC },
    })),
  };
}

export interface WorkflowRun {
  status: 'SUCCEEDED' | 'FAILED';
  output?: Record<string, unknown>;
  error?: { name: string; message: string };
  events: EventLog[];
  /** StateEntered + StateRetried: what Step Functions bills as state transitions (approximately). */
  transitions: number;
  entered: string[];
}

/**
 * The same value as the state-input path `path`, addressed inside the Parameters result, where
 * aws-local-stepfunctions looks for it: through the Payload field that copies a prefix of `path`.
 */
function inPayload(state: string, path: string, parameters: Record<string, unknown> | undefined): string {
  const payload = (parameters?.Payload ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(payload)) {
    if (!key.endsWith('.$') || typeof value !== 'string' || value.startsWith('$$')) continue;
    if (path === value || path.startsWith(`${value}.`)) return `$.Payload.${key.slice(0, -2)}${path.slice(value.length)}`;
  }
  throw new Error(`state ${state}: TimeoutSecondsPath ${path} is not carried by any Payload field, so the local engine can't resolve it`);
}

/** Wait, turn by turn of the event loop (never by the clock), until every named state has exited. */
async function exited(events: readonly EventLog[], states: readonly string[], maxTicks = 20_000): Promise<void> {
  const done = () =>
    states.every((s) => events.some((e) => e.type === 'StateExited' && (e as { state: { name: string } }).state.name === s));
  for (let tick = 0; tick < maxTicks; tick++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seen = states.filter((s) => events.some((e) => e.type === 'StateExited' && (e as { state: { name: string } }).state.name === s));
  throw new Error(`states not exited after ${maxTicks} turns: ${states.filter((s) => !seen.includes(s)).join(', ')}`);
}

export async function runWorkflow(input: unknown, options: WorkflowOptions): Promise<WorkflowRun> {
  const definition = loadDefinition();
  const byFunction = handlersByFunction(options);
  const byArn = new Map(RESPONDERS.map((r) => [functionArn(r.name), byFunction[r.name]]));
  const taskHandlers: Record<string, Invoke> = {};
  const waitOverrides: Record<string, number> = {};
  const retryOverrides: Record<string, number> = {};
  const events: EventLog[] = [];
  const token = `cordon-test-task-token-${randomBytes(24).toString('base64url')}`;
  const callbackStates = new Set<string>();
  let callbackError: unknown;
  for (const [name, state] of allStates(definition.States as Record<string, AslState>)) {
    if (state.Type === 'Task' && state.Resource === CALLBACK_RESOURCE) {
      callbackStates.add(name);
      if (state.TimeoutSecondsPath) state.TimeoutSecondsPath = inPayload(name, state.TimeoutSecondsPath, state.Parameters);
      taskHandlers[name] = async (input: unknown) => {
        const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
        const fn = byArn.get(FunctionName);
        if (!fn) throw new Error(`state ${name} invokes ${FunctionName}, which has no local handler`);
        if (!options.callbacks) throw new Error(`state ${name} waits for a task token: pass options.callbacks (FakeAws)`);
        const settled = options.callbacks.openTask(token);
        // Step Functions fails the task when the function fails, and retries it with a new token.
        await fn(Payload);
        try {
          await options.onCallback?.({ token, state: name, events, exited: (states, maxTicks) => exited(events, states, maxTicks) });
        } catch (err) {
          // A failed assertion in the test's callback: surface it from runWorkflow, not as a task failure.
          callbackError ??= err;
          throw err;
        }
        return settled;
      };
      retryOverrides[name] = 0;
      continue;
    }
    if (state.Type === 'Task') {
      const fn = byArn.get(state.Resource ?? '');
      if (!fn) throw new Error(`state ${name} calls ${state.Resource}, which has no local handler`);
      taskHandlers[name] = fn;
      retryOverrides[name] = 0;
    }
    if (state.Type === 'Wait') waitOverrides[name] = 0;
  }
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, waitTimeOverrides: waitOverrides, retryIntervalOverrides: retryOverrides },
    context: {
      Execution: { Id: options.executionId ?? 'arn:aws:states:us-east-1:111122223333:execution:cordon-response:test' },
      Task: { Token: token },
    } as never,
  });
  const collecting = (async () => {
    for await (const e of execution.eventLogs) {
      events.push(e);
      // The engine's TimeoutSecondsPath fired (or the task failed): Step Functions no longer takes the token.
      const failed = e as { type: string; state?: { name: string } };
      if (failed.type === 'StateFailed' && failed.state && callbackStates.has(failed.state.name)) options.callbacks?.closeTask(token);
    }
  })();
  let status: WorkflowRun['status'] = 'SUCCEEDED';
  let output: Record<string, unknown> | undefined;
  let error: WorkflowRun['error'];
  try {
    output = (await execution.result) as Record<string, unknown>;
  } catch (err) {
    status = 'FAILED';
    const e = err as Error;
    error = { name: e.name, message: e.message };
  }
  await collecting;
  if (callbackError) throw callbackError;
  // The engine throws a generic ExecutionError; the ExecutionFailed event carries the Fail state's Error and Cause.
  const failed = events.find((e) => e.type === 'ExecutionFailed') as { Error?: string; Cause?: string } | undefined;
  if (error && failed?.Error) error = { name: failed.Error, message: failed.Cause ?? error.message };
  const entered = events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name);
  return {
    status,
    output,
    error,
    events,
    transitions: events.filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried').length,
    entered,
  };
}
