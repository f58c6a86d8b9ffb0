import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { isolate, IsolateInput, type IsolateDeps } from './isolate';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): IsolateDeps {
  return {
    factory: productionFactory({ EC2Client, DynamoDBClient, DynamoDBDocumentClient }, env),
    config: {
      tcpEstablishedTimeout: Number(requireEnv('TCP_ESTABLISHED_TIMEOUT', env)),
      ledgerTable: requireEnv('LEDGER_TABLE', env),
    },
  };
}

export function createHandler(deps: () => IsolateDeps) {
  return lambdaHandler(IsolateInput, (input) => isolate(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
