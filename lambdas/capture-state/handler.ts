import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { CaptureInput } from '../shared/workflow';
import { captureBeforeState, type CaptureDeps } from './capture-state';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): CaptureDeps {
  const partition = requireEnv('PARTITION', env);
  return {
    factory: productionFactory({ EC2Client, AutoScalingClient, S3Client, DynamoDBClient, DynamoDBDocumentClient }, env),
    config: {
      ledgerTable: requireEnv('LEDGER_TABLE', env),
      evidenceBucket: requireEnv('EVIDENCE_BUCKET', env),
      exemptTagKey: requireEnv('EXEMPT_TAG_KEY', env),
      exemptTagValue: requireEnv('EXEMPT_TAG_VALUE', env),
      settleSeconds: Number(requireEnv('SETTLE_SECONDS', env)),
      partition,
    },
  };
}

export function createHandler(deps: () => CaptureDeps) {
  return lambdaHandler(CaptureInput, (input) => captureBeforeState(input.request, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
