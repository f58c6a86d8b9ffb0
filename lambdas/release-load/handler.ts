import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { loadContainment, LoadInput, type LoadDeps } from './release-load';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): LoadDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, DynamoDBClient, DynamoDBDocumentClient }, access), config };
}

export function createHandler(deps: () => LoadDeps) {
  return lambdaHandler(LoadInput, (input) => loadContainment(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
