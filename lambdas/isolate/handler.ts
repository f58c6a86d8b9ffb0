import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { isolate, IsolateInput, type IsolateDeps } from './isolate';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): IsolateDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, DynamoDBClient, DynamoDBDocumentClient }, access), config };
}

export function createHandler(deps: () => IsolateDeps) {
  return lambdaHandler(IsolateInput, (input) => isolate(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
