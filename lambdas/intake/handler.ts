/**
 * Intake Lambda handler (EventBridge target). Thin: read config from the environment,
 * hand the SFN client and the logger to `runIntake`, shape the result.
 *
 * Environment: lambdas/intake/env.ts (the response workflow, intake's policy, the evidence bucket).
 *
 * The role needs `states:StartExecution` on the state machine and `states:DescribeExecution`
 * on its executions (to tell a redelivery from a conflict).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { parseEnv } from '../shared/env';
import type { IntakePolicy } from './decide';
import { Env } from './env';
import { ExecutionConflictError, runIntake, type IntakeSummary } from './intake';

const logger = new Logger();
const sfn = new SFNClient({ maxAttempts: 3 });
const s3 = new S3Client({ maxAttempts: 3 });

export interface IntakeConfig {
  readonly stateMachineArn: string;
  readonly policy: IntakePolicy;
  /** The evidence bucket (EVIDENCE_BUCKET); the raw finding is stored there. */
  readonly evidenceBucket?: string;
}

/** Intake's configuration from its environment (lambdas/intake/env.ts); a bad `INTAKE_POLICY` fails loudly instead of acting on defaults. */
export function loadIntakeConfig(env: NodeJS.ProcessEnv = process.env): IntakeConfig {
  return parseEnv(Env, env);
}

let config: IntakeConfig | undefined;

export const handler = async (event: unknown): Promise<IntakeSummary> => {
  config ??= loadIntakeConfig();
  const summary = await runIntake(event, {
    sfn,
    stateMachineArn: config.stateMachineArn,
    policy: config.policy,
    log: logger,
    ...(config.evidenceBucket ? { evidence: { s3, bucket: config.evidenceBucket } } : {}),
  });
  if (summary.conflicts.length > 0) {
    // Fail the invocation so the conflict reaches the function's error alarm and failure destination.
    throw new ExecutionConflictError(summary.conflicts.map((c) => `${c.requestId}: ${c.reason}`).join('; '));
  }
  return summary;
};
