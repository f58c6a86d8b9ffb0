/**
 * The API Lambda (API Gateway REST, proxy integration). Thin: read the configuration from the
 * environment, build the two clients it uses (Step Functions and the DynamoDB document client;
 * no other SDK client is bundled), and hand the event to `handleApiEvent`.
 *
 * Environment: lambdas/api/env.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseEnv } from '../shared/env';
import { once } from '../shared/handler';
import { handleApiEvent, toProxyResult, type ApiConfig, type ApiDeps } from './api';
import { Env } from './env';

const logger = new Logger();
const tracer = new Tracer();

/** The API's configuration from its environment (lambdas/api/env.ts); a bad `INTAKE_POLICY` fails loudly instead of acting on defaults. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(Env, env);
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
