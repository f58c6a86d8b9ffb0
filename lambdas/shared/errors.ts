/**
 * Named errors. Step Functions matches `ErrorEquals` on `error.name`, so each
 * class sets it explicitly (minifiers rename classes).
 */
export class CordonError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** Input failed validation. Never retried. */
export class InvalidRequestError extends CordonError {
  constructor(message: string) {
    super('InvalidRequestError', message);
  }
}

/** The target instance does not exist (or is terminated). Never retried. */
export class InstanceNotFoundError extends CordonError {
  constructor(message: string) {
    super('InstanceNotFoundError', message);
  }
}

/** AWS throttled us or failed transiently: Step Functions retries with backoff. */
export class TransientAwsError extends CordonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TransientAwsError', message, options);
  }
}

/**
 * An EC2 concurrency limit: at most 20 concurrent snapshot copies per destination
 * region (`ResourceLimitExceeded`), 5 pending snapshots per volume
 * (`ConcurrentSnapshotLimitExceeded`), or the per-volume creation rate. The ASL
 * retries these patiently (minutes, not seconds): the queue drains as copies finish.
 */
export class LimitExceededError extends CordonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LimitExceededError', message, options);
  }
}

const LIMIT_NAMES = new Set(['ResourceLimitExceeded', 'ConcurrentSnapshotLimitExceeded', 'SnapshotCreationPerVolumeRateExceeded']);

/** Auto Scaling detachment failed: changing security groups would get the evidence terminated. */
export class ProtectInstanceError extends CordonError {
  constructor(message: string) {
    super('ProtectInstanceError', message);
  }
}

/** The network interface did not end up in the isolation group alone. */
export class IsolationVerificationError extends CordonError {
  constructor(message: string) {
    super('IsolationVerificationError', message);
  }
}

/** cordon could not assume its responder role in the target account. */
export class AssumeRoleError extends CordonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AssumeRoleError', message, options);
  }
}

const TRANSIENT_NAMES = new Set([
  'RequestLimitExceeded', // EC2
  'Throttling', // IAM, Auto Scaling, STS
  'ThrottlingException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/** True for throttling, 5xx and network errors: worth retrying with backoff. */
export function isTransient(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as AwsErrorShape;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && TRANSIENT_NAMES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'server' || (typeof status === 'number' && status >= 500);
}

/** Re-throw transient AWS errors as `TransientAwsError`; keep everything else as it is. */
export function classify(err: unknown): unknown {
  if (err instanceof CordonError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && LIMIT_NAMES.has(name)) {
    return new LimitExceededError(`${name}: ${(err as Error).message}`, { cause: err });
  }
  if (isTransient(err)) {
    const e = err as Error;
    return new TransientAwsError(`${e.name}: ${e.message}`, { cause: err });
  }
  return err;
}

/** Error name and message only: never stacks or request payloads, which may hold secrets. */
export function errorSummary(err: unknown): { error: string; cause: string } {
  if (err instanceof Error) return { error: err.name, cause: err.message.slice(0, 512) };
  return { error: 'Error', cause: String(err).slice(0, 512) };
}

// ---------------------------------------------------------------- the approval gate (lambdas/shared/approval.ts)

/** No response has this id (or the ledger's byResponseId index has not caught up with one started a moment ago). */
export class ResponseNotFoundError extends CordonError {
  constructor(message: string) {
    super('ResponseNotFoundError', message);
  }
}

/** The response is not waiting for a decision: it needs none, or has not reached the approval gate yet. */
export class ApprovalNotPendingError extends CordonError {
  constructor(message: string) {
    super('ApprovalNotPendingError', message);
  }
}

/** Someone already decided (or the gate timed out): the first decision stands. */
export class ApprovalAlreadyDecidedError extends CordonError {
  constructor(
    message: string,
    /** approved, denied or timed-out */
    readonly status: string,
    readonly decidedBy: string | undefined,
  ) {
    super('ApprovalAlreadyDecidedError', message);
  }
}

/** The decision came after the approval timeout: the configured `onTimeout` applies instead. */
export class ApprovalExpiredError extends CordonError {
  constructor(
    message: string,
    readonly expiresAt: string,
  ) {
    super('ApprovalExpiredError', message);
  }
}

/**
 * Step Functions no longer accepts a decision for this response (`TaskTimedOut`, `InvalidToken`,
 * `TaskDoesNotExist`): the wait ended (timed out, or the execution stopped). Nothing was changed.
 */
export class ApprovalTaskClosedError extends CordonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ApprovalTaskClosedError', message, options);
  }
}
