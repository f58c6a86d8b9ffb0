import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { record, RecordReleaseInput, type RecordReleaseDeps } from './release-record';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): RecordReleaseDeps {
  return {
    factory: productionFactory({ EC2Client, S3Client, DynamoDBClient, DynamoDBDocumentClient, SNSClient }, env),
    config: {
      ledgerTable: requireEnv('LEDGER_TABLE', env),
      evidenceBucket: requireEnv('EVIDENCE_BUCKET', env),
      topicArn: requireEnv('TOPIC_ARN', env),
    },
    log: logger,
  };
}

export function createHandler(deps: () => RecordReleaseDeps) {
  return lambdaHandler(RecordReleaseInput, (input) => record(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
