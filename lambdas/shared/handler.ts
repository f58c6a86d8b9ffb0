/**
 * The thin-handler pattern: validate input with zod, run the logic, and make
 * errors legible to Step Functions (transient AWS errors become
 * `TransientAwsError`, which the ASL retries with backoff).
 */
import type { z } from 'zod';
import { classify, errorSummary, InvalidRequestError } from './errors';
import { withJournal } from './journal';
import { describeZodError } from './schemas';

export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A logger that drops everything: for tests that don't look at logs. */
export const silentLog: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new InvalidRequestError(describeZodError(result.error));
  return result.data;
}

/** Memoize the production dependencies so env is read on first invocation, not at import. */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

export function lambdaHandler<S extends z.ZodType, R>(
  schema: S,
  logic: (input: z.infer<S>) => Promise<R>,
  log: Log,
): (event: unknown) => Promise<R> {
  return async (event: unknown) => {
    try {
      const input = parseInput(schema, event);
      const { result, journal } = await withJournal(() => logic(input));
      // Every object result carries the AWS calls that produced it (service, operation, request id).
      if (result && typeof result === 'object' && !Array.isArray(result)) {
        return { ...result, awsCalls: journal } as R;
      }
      return result;
    } catch (err) {
      const classified = classify(err);
      log.error('task failed', errorSummary(classified));
      throw classified;
    }
  };
}

/** Name of an AWS SDK error, or undefined. */
export function awsErrorName(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'name' in err && typeof (err as { name: unknown }).name === 'string') {
    return (err as { name: string }).name;
  }
  return undefined;
}
