import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { record, RecordInput, type RecordDeps } from './record';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): RecordDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, S3Client, DynamoDBClient, DynamoDBDocumentClient, SNSClient }, access), config, log: logger };
}

export function createHandler(deps: () => RecordDeps) {
  return lambdaHandler(RecordInput, (input) => record(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
