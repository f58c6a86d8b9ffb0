/**
 * Runs the real response ASL (state-machines/response.asl.json) in
 * aws-local-stepfunctions with the real Lambda handlers. Used two ways:
 * - tests: Wait states and retry intervals take no time at all;
 * - the simulator: Wait states, retry backoff (with Step Functions' own jitter) and
 *   a per-invocation overhead take simulated time on a `SimClock`, so a run reports
 *   when each step happened as it would in AWS.
 */
import { randomBytes } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import './polyfill';
import { allStates, CALLBACK_RESOURCE, matches, readPath, retryDelayMs, type AslRetrier, type AslState } from './asl';
import type { SimClock } from './clock';
import type { Invoke } from './handlers';

export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

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
