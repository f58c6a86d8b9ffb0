/**
 * A small builder for cordon's Amazon States Language (JSONPath) definitions: typed state
 * helpers, the retry policy declared once, and the requested / not requested / task / failed
 * pattern. Plain data, no CDK: `npm run asl` renders lib/asl/response.ts and lib/asl/release.ts
 * into state-machines/*.asl.json, which CDK deploys with `DefinitionBody.fromFile` and the
 * simulator runs (docs/design.md §3). `${Name}` strings are CloudFormation definition substitutions.
 */

/** A JSON value as it appears in a definition. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly BackoffRate: number;
  readonly MaxAttempts: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL';
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string;
  readonly Next: string;
}

/** One state; the fields cordon uses, the rest of the spec is not needed here. */
export interface State {
  readonly Type: 'Task' | 'Pass' | 'Choice' | 'Wait' | 'Parallel' | 'Map' | 'Succeed' | 'Fail';
  readonly Comment?: string;
  readonly [field: string]: unknown;
}

export type States = Record<string, State>;

/** A Parallel branch, a Map's item processor, or a whole machine's states. */
export interface Graph {
  readonly StartAt: string;
  readonly States: States;
}

export interface Definition extends Graph {
  readonly Comment: string;
  readonly TimeoutSeconds?: number;
}

// ---------------------------------------------------------------------------------------------
// Retries (test/infra/retries.test.ts holds every Task to them)

/** Throttling and the Lambda service's own transient failures: what every Task retries. */
const TRANSIENT_ERRORS = [
  'TransientAwsError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * A burst of findings drains EC2's token buckets (5 requests a second once the bucket of 100 is
 * spent), so throttling can last minutes: retried for about 35 minutes, at most a minute apart.
 */
const transient: Retrier = {
  ErrorEquals: TRANSIENT_ERRORS,
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxAttempts: 40,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL',
};

/**
 * About as patient (33 minutes) in short steps, at most 8 seconds apart: for a step that leaves an
 * interface half-changed (in the allow-all untrack group) until it succeeds.
 */
const transientShortSteps: Retrier = {
  ErrorEquals: TRANSIENT_ERRORS,
  IntervalSeconds: 1,
  BackoffRate: 1.5,
  MaxAttempts: 250,
  MaxDelaySeconds: 8,
  JitterStrategy: 'FULL',
};

/** A quota (LimitExceededError) frees up slowly: up to about an hour. */
const limitExceeded: Retrier = {
  ErrorEquals: ['LimitExceededError'],
  IntervalSeconds: 30,
  BackoffRate: 1.5,
  MaxAttempts: 12,
  MaxDelaySeconds: 300,
  JitterStrategy: 'FULL',
};

/** The retry policy, by name. Every Task uses one of these, plus any {@link retryOn} of its own. */
export const RETRY = {
  /** Throttling and quotas: the default of a Task in a member account. */
  standard: [transient, limitExceeded],
  /** Throttling and quotas, retrying throttling in short steps. */
  shortSteps: [transientShortSteps, limitExceeded],
  /** Throttling only: for a Task that raises no quota error. */
  transientOnly: [transient],
} as const satisfies Record<string, readonly Retrier[]>;

export type RetryPolicy = keyof typeof RETRY;

/** A Task's own named error, retried `attempts` times from `intervalSeconds` (doubling). */
export function retryOn(error: string, intervalSeconds: number, attempts: number, options: { jitter?: boolean } = {}): Retrier {
  return {
    ErrorEquals: [error],
    IntervalSeconds: intervalSeconds,
    BackoffRate: 2,
    MaxAttempts: attempts,
    ...(options.jitter ? { JitterStrategy: 'FULL' as const } : {}),
  };
}

/** The retriers of a Task: a named policy, then its own. */
export function retry(policy: RetryPolicy, ...own: Retrier[]): Retrier[] {
  return [...RETRY[policy], ...own];
}

// ---------------------------------------------------------------------------------------------
// Substitutions and paths

/** `${QuarantineRoleFunctionArn}` for the Lambda folder `quarantine-role` (lib/functions.ts placeholders). */
export function lambdaArn(folder: string): string {
  return `\${${pascal(folder)}FunctionArn}`;
}

/** `quarantine-role` or `quarantineRole` → `QuarantineRole`. */
export function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `{ 'target.$': '$.request.target' }` from `{ target: '$.request.target' }`: fields read from the input. */
export function paths(fields: Record<string, string>): JsonObject {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${k}.$`, v]));
}

/** What every response Task receives: the target, the incident and the request. */
export const REQUEST_CONTEXT = paths({
  target: '$.request.target',
  incidentId: '$.before.incidentId',
  requestId: '$.request.requestId',
});

// ---------------------------------------------------------------------------------------------
// States

/** Where a state goes next: a state name, or `null` to end its graph. */
export type Next = string | null;

function transition(next: Next): { Next: string } | { End: true } {
  return next === null ? { End: true } : { Next: next };
}

export interface TaskProps {
  readonly comment?: string;
  readonly resource: string;
  readonly parameters: JsonObject;
  readonly resultPath?: string;
  readonly retry: readonly Retrier[];
  /** Every error (States.ALL) goes to `next` with the error at `resultPath`. */
  readonly catch?: { readonly resultPath: string; readonly next: string } | readonly Catcher[];
  readonly next: Next;
  /** Other Task fields (TimeoutSecondsPath, …). */
  readonly extra?: JsonObject;
}

export function task(p: TaskProps): State {
  const catchers = p.catch === undefined ? undefined : 'next' in p.catch ? [catchAll(p.catch.resultPath, p.catch.next)] : p.catch;
  return {
    Type: 'Task',
    ...(p.comment ? { Comment: p.comment } : {}),
    Resource: p.resource,
    Parameters: p.parameters,
    ...p.extra,
    ...(p.resultPath ? { ResultPath: p.resultPath } : {}),
    Retry: p.retry,
    ...(catchers ? { Catch: catchers } : {}),
    ...transition(p.next),
  };
}

export function catchAll(resultPath: string, next: string): Catcher {
  return catchOn('States.ALL', resultPath, next);
}

export function catchOn(error: string, resultPath: string, next: string): Catcher {
  return { ErrorEquals: [error], ResultPath: resultPath, Next: next };
}

/** A Pass state; `fields` are its Parameters, Result, InputPath, ResultPath… as the ASL names them. */
export function pass(fields: JsonObject & { Comment?: string }, next: Next): State {
  return { Type: 'Pass', ...fields, ...transition(next) };
}

export function wait(secondsPath: string, next: string): State {
  return { Type: 'Wait', SecondsPath: secondsPath, Next: next };
}

/** A Choice rule (the `Next` is added by {@link choice}). */
export type Condition = JsonObject;

export function choice(rules: ReadonlyArray<readonly [Condition, string]>, otherwise: string, comment?: string): State {
  return {
    Type: 'Choice',
    ...(comment ? { Comment: comment } : {}),
    Choices: rules.map(([condition, next]) => ({ ...condition, Next: next })),
    Default: otherwise,
  };
}

export const isTrue = (variable: string): Condition => ({ Variable: variable, BooleanEquals: true });
export const isFalse = (variable: string): Condition => ({ Variable: variable, BooleanEquals: false });
export const isPresent = (variable: string): Condition => ({ Variable: variable, IsPresent: true });
export const equals = (variable: string, value: string): Condition => ({ Variable: variable, StringEquals: value });
/** True only when the field exists and is true (a missing field would fail the execution). */
export const isPresentAndTrue = (variable: string): Condition => ({ And: [isPresent(variable), isTrue(variable)] });

export function parallel(branches: readonly Graph[], resultPath: string, next: string, catchers?: readonly Catcher[]): State {
  return { Type: 'Parallel', Branches: branches, ResultPath: resultPath, Next: next, ...(catchers ? { Catch: catchers } : {}) };
}

/** An inline Map over `itemsPath`. */
export function map(p: {
  readonly comment?: string;
  readonly itemsPath: string;
  readonly maxConcurrency: number;
  readonly itemSelector: JsonObject;
  readonly processor: Graph;
  readonly resultPath: string;
  readonly catch: Catcher;
  readonly next: string;
}): State {
  return {
    Type: 'Map',
    ...(p.comment ? { Comment: p.comment } : {}),
    ItemsPath: p.itemsPath,
    MaxConcurrency: p.maxConcurrency,
    ItemSelector: p.itemSelector,
    ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: p.processor.StartAt, States: p.processor.States },
    ResultPath: p.resultPath,
    Catch: [p.catch],
    Next: p.next,
  };
}

export const succeed = (): State => ({ Type: 'Succeed' });

export function fail(fields: { Comment?: string; Error?: string; Cause?: string; ErrorPath?: string; CausePath?: string }): State {
  return { Type: 'Fail', ...fields };
}

/** A graph starting at its first state. */
export function graph(states: States): Graph {
  const first = Object.keys(states)[0];
  if (first === undefined) throw new Error('a graph needs at least one state');
  return { StartAt: first, States: states };
}

// ---------------------------------------------------------------------------------------------
// Branch results (what lambdas/record reads from each branch)

/** A branch that did not run its Task: `{ action, status: 'skipped', reason }`. */
export function skipped(action: string, reason: string): State {
  return pass({ Result: { action, status: 'skipped', reason } }, null);
}

/** A branch whose Task failed, from the error caught at `$.failure`. */
export function failed(action: string, extra: JsonObject = {}): State {
  return pass({ Parameters: { action, status: 'failed', ...extra, 'error.$': '$.failure.Error', 'cause.$': '$.failure.Cause' } }, null);
}

export interface RequestedStepProps {
  /** The `action` the branch reports. */
  readonly action: string;
  /** The Choice state, and the condition that runs the Task (otherwise the branch is skipped). */
  readonly should: { readonly name: string; readonly when: Condition; readonly comment?: string };
  /** The Pass state reporting `skipped`, and its reason. */
  readonly skipped: { readonly name: string; readonly reason: string };
  /** The Task; any error goes to the failed state at `$.failure`. */
  readonly task: { readonly name: string } & Omit<TaskProps, 'catch' | 'next'>;
  /** The Pass state reporting `failed`, with any fields of its own. */
  readonly failed: { readonly name: string; readonly extra?: JsonObject };
}

/**
 * The requested / not requested / task / failed pattern: a branch that runs one Task when the
 * request asked for it, and always ends in a result naming its action.
 */
export function requestedStep(p: RequestedStepProps): Graph {
  return {
    StartAt: p.should.name,
    States: {
      [p.should.name]: choice([[p.should.when, p.task.name]], p.skipped.name, p.should.comment),
      [p.skipped.name]: skipped(p.action, p.skipped.reason),
      [p.task.name]: task({ ...p.task, catch: { resultPath: '$.failure', next: p.failed.name }, next: null }),
      [p.failed.name]: failed(p.action, p.failed.extra),
    },
  };
}

/** The definition as committed under state-machines/: two-space JSON and a final newline. */
export function render(definition: Definition): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}
