import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { loadContainment, LoadInput, type LoadDeps } from './release-load';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): LoadDeps {
  return {
    factory: productionFactory({ EC2Client, DynamoDBClient, DynamoDBDocumentClient }, env),
    config: { ledgerTable: requireEnv('LEDGER_TABLE', env), partition: requireEnv('PARTITION', env) },
  };
}

export function createHandler(deps: () => LoadDeps) {
  return lambdaHandler(LoadInput, (input) => loadContainment(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
