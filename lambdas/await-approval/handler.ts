import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { hubOnlyFactory, logger } from '../shared/lambda-runtime';
import { AwaitApprovalInput, requestApproval, type AwaitApprovalDeps } from './await-approval';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): AwaitApprovalDeps {
  return {
    factory: hubOnlyFactory({ DynamoDBClient, DynamoDBDocumentClient, SNSClient }),
    config: parseEnv(Env, env),
    log: logger,
  };
}

export function createHandler(deps: () => AwaitApprovalDeps) {
  return lambdaHandler(AwaitApprovalInput, (input) => requestApproval(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
