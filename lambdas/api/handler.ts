/**
 * The API Lambda (API Gateway REST, proxy integration). Thin: read the configuration from the
 * environment, build the two clients it uses (Step Functions and the DynamoDB document client;
 * no other SDK client is bundled), and hand the event to `handleApiEvent`.
 *
 * Environment:
 * - `RESPONSE_STATE_MACHINE_ARN`: the response workflow (StartExecution, DescribeExecution; SendTaskSuccess
 *   answers its approval task, with the token read from the ledger);
 * - `RELEASE_STATE_MACHINE_ARN`: the release workflow (StartExecution);
 * - `LEDGER_TABLE`: the incident ledger (GetItem, Query on `byResponseId`; UpdateItem for approval decisions);
 * - `INTAKE_POLICY`: intake's policy JSON (account and region scope).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IntakePolicy } from '../intake/decide';
import { requireEnv } from '../shared/env';
import { once } from '../shared/handler';
import { describeZodError } from '../shared/schemas';
import { handleApiEvent } from './api';
import { toProxyResult, type ApiConfig, type ApiDeps } from './contract';

const logger = new Logger();
const tracer = new Tracer();

/** Parse the environment once; a bad `INTAKE_POLICY` fails loudly instead of acting on defaults. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const responseStateMachineArn = requireEnv('RESPONSE_STATE_MACHINE_ARN', env);
  const releaseStateMachineArn = requireEnv('RELEASE_STATE_MACHINE_ARN', env);
  const ledgerTable = requireEnv('LEDGER_TABLE', env);
  let json: unknown;
  try {
    json = JSON.parse(requireEnv('INTAKE_POLICY', env));
  } catch (err) {
    if (err instanceof SyntaxError) throw new Error('Environment variable INTAKE_POLICY is not valid JSON', { cause: err });
    throw err;
  }
  const policy = IntakePolicy.safeParse(json);
  if (!policy.success) throw new Error(`Environment variable INTAKE_POLICY is invalid: ${describeZodError(policy.error)}`);
  return { responseStateMachineArn, releaseStateMachineArn, ledgerTable, policy: policy.data };
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  return {
    sfn: tracer.captureAWSv3Client(new SFNClient({ maxAttempts: 3 })),
    ddb: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({ maxAttempts: 3 }))),
    config: loadApiConfig(env),
    log: logger,
  };
}

export function createHandler(deps: () => ApiDeps) {
  return async (event: unknown) => toProxyResult(await handleApiEvent(event, deps()));
}

export const handler = createHandler(once(() => productionDeps()));
