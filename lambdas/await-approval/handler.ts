import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { hubOnlyFactory, logger } from '../shared/lambda-runtime';
import { AwaitApprovalInput, requestApproval, type AwaitApprovalDeps } from './await-approval';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): AwaitApprovalDeps {
  return {
    factory: hubOnlyFactory({ DynamoDBClient, DynamoDBDocumentClient, SNSClient }),
    config: { ledgerTable: requireEnv('LEDGER_TABLE', env), topicArn: requireEnv('TOPIC_ARN', env) },
    log: logger,
  };
}

export function createHandler(deps: () => AwaitApprovalDeps) {
  return lambdaHandler(AwaitApprovalInput, (input) => requestApproval(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
