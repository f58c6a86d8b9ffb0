/**
 * Step Functions execution names and ARNs, shared by every caller that starts or looks up an
 * execution (intake, the API, the CLI). Pure functions with no SDK imports, so a Lambda that
 * only needs the names doesn't bundle a client it never uses.
 */
import { createHash } from 'node:crypto';

/** Step Functions execution names: 1–80 characters of `[A-Za-z0-9_-]`. */
export const MAX_EXECUTION_NAME = 80;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * A deterministic execution name for a request id. Ids that already fit are used as they
 * are; others are sanitised, shortened and suffixed with a digest of the original, so two
 * ids that sanitise alike (`a.b`, `a:b`) still get different names.
 */
export function executionName(requestId: string): string {
  if (EXECUTION_NAME.test(requestId)) return requestId;
  const digest = createHash('sha256').update(requestId).digest('hex').slice(0, 16);
  const cleaned = requestId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_EXECUTION_NAME - digest.length - 1);
  return `${cleaned}-${digest}`;
}

const STATE_MACHINE_ARN = /^arn:([^:]+):states:([^:]+):(\d{12}):stateMachine:([^:]+)(?::[^:]+)?$/;

/** The ARN Step Functions gives the execution `name` of a state machine (alias or version qualifiers dropped). */
export function executionArnFor(stateMachineArn: string, name: string): string | undefined {
  const m = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!m) return undefined;
  const [, partition, region, account, machine] = m;
  return `arn:${partition}:states:${region}:${account}:execution:${machine}:${name}`;
}
