/**
 * Runs the real response ASL (state-machines/response.asl.json) in
 * aws-local-stepfunctions with the real Lambda handlers. Used two ways:
 * - tests: Wait states and retry intervals take no time at all;
 * - the simulator: Wait states, retry backoff (with Step Functions' own jitter) and
 *   a per-invocation overhead take simulated time on a `SimClock`, so a run reports
 *   when each step happened as it would in AWS.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { ClientFactory } from '../../lambdas/shared/clients';
import { silentLog } from '../../lambdas/shared/handler';
import * as awaitApproval from '../../lambdas/await-approval/handler';
import * as captureState from '../../lambdas/capture-state/handler';
import type { ApprovalPolicy } from '../../lambdas/capture-state/capture-state';
import * as collectEvidence from '../../lambdas/collect-evidence/handler';
import * as flowLogs from '../../lambdas/flow-logs/handler';
import * as isolate from '../../lambdas/isolate/handler';
import * as preserve from '../../lambdas/preserve/handler';
import * as protect from '../../lambdas/protect/handler';
import * as quarantineRole from '../../lambdas/quarantine-role/handler';
import type { RevokeSessionsMode } from '../../lambdas/quarantine-role/quarantine-role';
import * as record from '../../lambdas/record/handler';
import * as releaseLoad from '../../lambdas/release-load/handler';
import * as releaseRecord from '../../lambdas/release-record/handler';
import * as releaseRestore from '../../lambdas/release-restore/handler';
import * as shareSnapshot from '../../lambdas/share-snapshot/handler';
import * as snapshot from '../../lambdas/snapshot/handler';
import { RESPONDERS } from '../responders';
import './polyfill';
import type { SimClock } from './clock';

export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export const RESPONSE_ASL = join(__dirname, '..', '..', 'state-machines', 'response.asl.json');
export const RELEASE_ASL = join(__dirname, '..', '..', 'state-machines', 'release.asl.json');

/** The hub's resources, as the handlers' environment would name them. */
export interface HubSettings {
  readonly hubAccountId: string;
  readonly region: string;
  readonly ledgerTable: string;
  readonly evidenceBucket: string;
  readonly topicArn: string;
  readonly evidenceKeyArn: string;
  readonly settleSeconds: number;
  readonly revokeSessions: RevokeSessionsMode;
  readonly tcpEstablishedTimeout: number;
  readonly snapshotMaxHours: number;
  /** The approval gate (capture-state's config). @default - no gate */
  readonly approval?: ApprovalPolicy;
}

export const functionArn = (hub: Pick<HubSettings, 'hubAccountId' | 'region'>, name: string) =>
  `arn:aws:lambda:${hub.region}:${hub.hubAccountId}:function:cordon-${name}`;

/** The ASL with each `${Placeholder}` replaced as CDK's definitionSubstitutions does: function ARNs, and the partition. */
export function loadDefinition(path: string, arnFor: (name: string) => string, partition = 'aws'): Record<string, unknown> {
  let text = readFileSync(path, 'utf8');
  for (const r of RESPONDERS) {
    if (r.placeholder) text = text.split(`\${${r.placeholder}}`).join(arnFor(r.name));
  }
  text = text.split('${Partition}').join(partition);
  if (/\$\{[A-Za-z]+\}/.test(text)) throw new Error('unsubstituted placeholder left in the ASL');
  return JSON.parse(text) as Record<string, unknown>;
}

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSecondsPath?: string;
  TimeoutSeconds?: number;
  Retry?: AslRetrier[];
  SecondsPath?: string;
  Seconds?: number;
  Next?: string;
  End?: boolean;
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

export type Invoke = (event: unknown) => Promise<unknown>;

/** Every response-workflow handler, built with the given factory per Lambda (the real handler code). */
export function responseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  const f = factoryFor;
  return {
    'capture-state': captureState.createHandler(() => ({
      factory: f('capture-state'),
      now,
      config: {
        ledgerTable: hub.ledgerTable,
        evidenceBucket: hub.evidenceBucket,
        exemptTagKey: 'cordon:exempt',
        exemptTagValue: 'true',
        settleSeconds: hub.settleSeconds,
        partition: 'aws',
        approval: hub.approval,
      },
    })),
    'await-approval': awaitApproval.createHandler(() => ({
      factory: f('await-approval'),
      now,
      log: silentLog,
      config: { ledgerTable: hub.ledgerTable, topicArn: hub.topicArn },
    })),
    protect: protect.createHandler(() => ({ factory: f('protect') })),
    preserve: preserve.createHandler(() => ({ factory: f('preserve') })),
    'collect-evidence': collectEvidence.createHandler(() => ({ factory: f('collect-evidence'), config: { evidenceBucket: hub.evidenceBucket } })),
    'share-snapshot': shareSnapshot.createHandler(() => ({
      factory: f('share-snapshot'),
      now,
      config: { hubAccountId: hub.hubAccountId, evidenceKeyArn: hub.evidenceKeyArn, maxHours: hub.snapshotMaxHours, pollSeconds: 60 },
    })),
    isolate: isolate.createHandler(() => ({ factory: f('isolate'), now, config: { tcpEstablishedTimeout: hub.tcpEstablishedTimeout } })),
    'quarantine-role': quarantineRole.createHandler(() => ({
      factory: f('quarantine-role'),
      now,
      sleep,
      config: { revokeSessions: hub.revokeSessions },
    })),
    'flow-logs': flowLogs.createHandler(() => ({ factory: f('flow-logs'), config: { bucketArn: `arn:aws:s3:::${hub.evidenceBucket}` } })),
    snapshot: snapshot.createHandler(() => ({ factory: f('snapshot'), now, config: { maxHours: hub.snapshotMaxHours, pollSeconds: 60 } })),
    record: record.createHandler(() => ({
      factory: f('record'),
      now,
      log: silentLog,
      config: { ledgerTable: hub.ledgerTable, evidenceBucket: hub.evidenceBucket, topicArn: hub.topicArn },
    })),
  };
}

/** Every release-workflow handler (DESIGN.md §3, Release), built with the given factory per Lambda. */
export function releaseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  return {
    'release-load': releaseLoad.createHandler(() => ({ factory: factoryFor('release-load'), now, config: { ledgerTable: hub.ledgerTable, partition: 'aws' } })),
    'release-restore': releaseRestore.createHandler(() => ({ factory: factoryFor('release-restore'), sleep })),
    'release-record': releaseRecord.createHandler(() => ({
      factory: factoryFor('release-record'),
      now,
      log: silentLog,
      config: { ledgerTable: hub.ledgerTable, evidenceBucket: hub.evidenceBucket, topicArn: hub.topicArn },
    })),
  };
}

/** Service-integration resource of the approval gate's callback task (after `${Partition}` → aws). */
export const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Settles callback tokens: the simulated account models SendTaskSuccess / SendTaskFailure on them. */
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
  const done = () => states.every((s) => events.some((e) => e.type === 'StateExited' && (e as { state: { name: string } }).state.name === s));
  for (let tick = 0; tick < maxTicks; tick++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seen = states.filter((s) => events.some((e) => e.type === 'StateExited' && (e as { state: { name: string } }).state.name === s));
  throw new Error(`states not exited after ${maxTicks} turns: ${states.filter((s) => !seen.includes(s)).join(', ')}`);
}

/** One Task invocation or Wait, on the simulated clock. */
export interface StepRecord {
  readonly state: string;
  readonly kind: 'task' | 'wait';
  readonly start: number;
  readonly end: number;
  /** The error the invocation ended with (retried or caught by the ASL). */
  readonly error?: string;
  readonly input: unknown;
  readonly output?: unknown;
}

export interface ExecutionOptions {
  readonly definition: Record<string, unknown>;
  /** Handlers by function name; Task states are matched to them by Resource ARN. */
  readonly handlers: Record<string, Invoke>;
  readonly arnFor: (name: string) => string;
  readonly executionId: string;
  /** Simulated time: Waits, retry backoff and invocation overhead take time on it. Without it, nothing waits. */
  readonly clock?: SimClock;
  /** Jitter source for retry backoff (seeded in simulations). */
  readonly random?: () => number;
  /** Simulated overhead of each Lambda invocation (invoke + state transition), ms. */
  readonly invokeOverheadMs?: number;
  /** Every Task invocation and Wait, as it ends. */
  readonly onStep?: (step: StepRecord) => void;
  /** Where callback tokens are settled (the simulated account). Required only for runs that reach the approval gate. */
  readonly callbacks?: CallbackBroker;
  /** Called while the callback task waits, after its function returned (as a responder would act). */
  readonly onCallback?: (context: CallbackContext) => Promise<void> | void;
}

export interface ExecutionRun {
  status: 'SUCCEEDED' | 'FAILED';
  output?: Record<string, unknown>;
  error?: { name: string; message: string };
  events: EventLog[];
  /** StateEntered + StateRetried: what Step Functions bills as state transitions (approximately). */
  transitions: number;
  entered: string[];
}

/** Read `$.a.b` from `input` (the JSONPath subset our Wait states use). */
function readPath(input: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`path ${path} is not a JSONPath`);
  return path
    .slice(1)
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], input);
}

/** The sleep Step Functions would take before retry `attempt` (0-based) of `retrier`, FULL jitter included. */
export function retryDelayMs(retrier: AslRetrier, attempt: number, random: () => number): number {
  const interval = retrier.IntervalSeconds ?? 1;
  const rate = retrier.BackoffRate ?? 2;
  let seconds = interval * rate ** attempt;
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds = random() * seconds;
  return seconds * 1000;
}

function matches(retrier: AslRetrier, errorName: string): boolean {
  return retrier.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || e === 'States.TaskFailed');
}

/** Machines by definition and mode: building one validates and compiles the definition, which dominates a short run. */
const machines = new WeakMap<object, Map<string, StateMachine>>();

function machineFor(original: Record<string, unknown>, key: string, rewritten: Record<string, unknown>): StateMachine {
  let byKey = machines.get(original);
  if (!byKey) machines.set(original, (byKey = new Map()));
  let machine = byKey.get(key);
  if (!machine) byKey.set(key, (machine = new StateMachine(rewritten as never, { validationOptions: { checkArn: true, checkPaths: true } })));
  return machine;
}

export async function runExecution(input: unknown, o: ExecutionOptions): Promise<ExecutionRun> {
  // JSON, not structuredClone: under jest, structuredClone makes objects of another realm, which the engine's
  // plain-object check rejects (it would then skip Parameters templates).
  const definition = JSON.parse(JSON.stringify(o.definition)) as Record<string, unknown>;
  const byArn = new Map(Object.entries(o.handlers).map(([name, fn]) => [o.arnFor(name), fn]));
  const clock = o.clock;
  const random = o.random ?? Math.random;
  const taskHandlers: Record<string, Invoke> = {};
  const waitOverrides: Record<string, number> = {};
  const retryOverrides: Record<string, number> = {};
  const attempts = new Map<string, number[]>();
  const events: EventLog[] = [];
  // $$.Task.Token: one per run (it never reaches a report).
  const token = `cordon-task-token-${randomBytes(24).toString('base64url')}`;
  const callbackStates = new Set<string>();
  let callbackError: unknown;

  /** Time a handler on the clock, take Step Functions' retry backoff there, and report each invocation. */
  const timed = (name: string, retriers: AslRetrier[], fn: Invoke): Invoke => async (event) => {
    const start = clock?.millis() ?? Date.now();
    if (clock && o.invokeOverheadMs) await clock.sleep(o.invokeOverheadMs);
    const key = `${name}|${JSON.stringify(event)}`;
    try {
      const output = await fn(event);
      attempts.delete(key);
      o.onStep?.({ state: name, kind: 'task', start, end: clock?.millis() ?? Date.now(), input: event, output });
      return output;
    } catch (err) {
      const errorName = (err as Error).name;
      o.onStep?.({ state: name, kind: 'task', start, end: clock?.millis() ?? Date.now(), input: event, error: errorName });
      // The engine retries at once (interval overridden to 0); the backoff is taken here, on the clock.
      const i = retriers.findIndex((r) => matches(r, errorName));
      const retrier = retriers[i];
      if (clock && retrier) {
        const counts = attempts.get(key) ?? retriers.map(() => 0);
        const n = counts[i] ?? 0;
        if (n < (retrier.MaxAttempts ?? 3)) {
          counts[i] = n + 1;
          attempts.set(key, counts);
          await clock.sleep(retryDelayMs(retrier, n, random));
        }
      }
      throw err;
    }
  };

  for (const [name, state] of allStates(definition.States as Record<string, AslState>)) {
    if (state.Type === 'Task' && state.Resource === CALLBACK_RESOURCE) {
      // aws-local-stepfunctions 3 has no service integrations and no $$.Task.Token: emulate the callback
      // task. Invoke the real function named in Parameters.FunctionName with Parameters.Payload, then wait
      // until the token is settled (SendTaskSuccess / SendTaskFailure, modelled by the simulated account).
      callbackStates.add(name);
      retryOverrides[name] = 0;
      let timeoutPath: string | undefined;
      if (state.TimeoutSecondsPath) timeoutPath = inPayload(name, state.TimeoutSecondsPath, state.Parameters);
      if (clock) {
        // On the simulated clock the timeout is taken there, not by the engine's real timer.
        delete state.TimeoutSecondsPath;
      } else if (timeoutPath) {
        // Step Functions resolves TimeoutSecondsPath against the state input; the local engine against Parameters.
        state.TimeoutSecondsPath = timeoutPath;
      }
      const fixedTimeout = state.TimeoutSeconds;
      if (clock) delete state.TimeoutSeconds;
      taskHandlers[name] = timed(name, state.Retry ?? [], async (event: unknown) => {
        const { FunctionName, Payload } = event as { FunctionName: string; Payload: unknown };
        const fn = byArn.get(FunctionName);
        if (!fn) throw new Error(`state ${name} invokes ${FunctionName}, which has no local handler`);
        if (!o.callbacks) throw new Error(`state ${name} waits for a task token: pass a callback broker (the simulated account)`);
        const settled = o.callbacks.openTask(token);
        settled.catch(() => undefined);
        // Step Functions fails the task when the function fails, and retries it with a new token.
        await fn(Payload);
        try {
          await o.onCallback?.({ token, state: name, events, exited: (states, maxTicks) => exited(events, states, maxTicks) });
        } catch (err) {
          // A failed assertion in a test's callback: surface it from the run, not as a task failure.
          callbackError ??= err;
          throw err;
        }
        if (!clock) return settled;
        const seconds = timeoutPath ? Number(readPath(event, timeoutPath)) : fixedTimeout;
        if (seconds === undefined || !Number.isFinite(seconds)) return settled;
        const timedOut = clock.sleep(seconds * 1000).then(() => 'timeout' as const);
        const outcome = await Promise.race([settled.then((v) => ({ v })), timedOut]);
        if (outcome === 'timeout') {
          o.callbacks.closeTask(token);
          throw Object.assign(new Error(`${name} timed out after ${seconds} s`), { name: 'States.Timeout' });
        }
        return outcome.v;
      });
      continue;
    }
    if (state.Type === 'Task') {
      const fn = byArn.get(state.Resource ?? '');
      if (!fn) throw new Error(`state ${name} calls ${state.Resource}, which has no local handler`);
      retryOverrides[name] = 0;
      taskHandlers[name] = clock || o.onStep ? timed(name, state.Retry ?? [], fn) : fn;
    }
    if (state.Type === 'Wait') {
      if (!clock) {
        waitOverrides[name] = 0;
        continue;
      }
      // On the simulated clock, a Wait becomes a Task that sleeps there and passes its input on.
      const original = { ...state };
      for (const k of Object.keys(state)) delete (state as unknown as Record<string, unknown>)[k];
      Object.assign(state, {
        Type: 'Task',
        Resource: o.arnFor(`wait-${name}`),
        ...(original.Next ? { Next: original.Next } : { End: true }),
      });
      taskHandlers[name] = async (event) => {
        const start = clock.millis();
        const seconds = original.SecondsPath ? Number(readPath(event, original.SecondsPath)) : Number(original.Seconds ?? 0);
        if (!Number.isFinite(seconds) || seconds < 0) throw Object.assign(new Error(`Wait ${name}: bad seconds ${seconds}`), { name: 'States.Runtime' });
        await clock.sleep(seconds * 1000);
        o.onStep?.({ state: name, kind: 'wait', start, end: clock.millis(), input: event });
        return event;
      };
    }
  }

  // The rewritten definition depends only on the original and on whether a clock is in use.
  const machine = machineFor(o.definition, clock ? `simulated|${o.arnFor('wait')}` : 'instant', definition);
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, waitTimeOverrides: waitOverrides, retryIntervalOverrides: retryOverrides },
    context: { Execution: { Id: o.executionId }, Task: { Token: token } } as never,
  });
  const collecting = (async () => {
    for await (const e of execution.eventLogs) {
      events.push(e);
      // The callback task failed or timed out: Step Functions no longer takes its token.
      const failed = e as { type: string; state?: { name: string } };
      if (failed.type === 'StateFailed' && failed.state && callbackStates.has(failed.state.name)) o.callbacks?.closeTask(token);
    }
  })();
  let status: ExecutionRun['status'] = 'SUCCEEDED';
  let output: Record<string, unknown> | undefined;
  let error: ExecutionRun['error'];
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
