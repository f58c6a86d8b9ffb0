import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { CaptureInput, TagMatch } from '../shared/workflow';
import { captureBeforeState, type ApprovalPolicy, type CaptureDeps } from './capture-state';

/** The approval gate from the environment the hub stack sets (lib/hub-stack.ts); no tags, no gate. */
export function approvalFromEnv(env: NodeJS.ProcessEnv = process.env): ApprovalPolicy | undefined {
  const requiredForTags = z.array(TagMatch).parse(JSON.parse(requireEnv('APPROVAL_REQUIRED_FOR_TAGS', env)));
  if (requiredForTags.length === 0) return undefined;
  return {
    requiredForTags,
    timeoutSeconds: z.coerce.number().int().min(1).max(86400).parse(requireEnv('APPROVAL_TIMEOUT_SECONDS', env)),
    onTimeout: z.enum(['approve', 'deny']).parse(requireEnv('APPROVAL_ON_TIMEOUT', env)),
  };
}

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
      approval: approvalFromEnv(env),
    },
  };
}

export function createHandler(deps: () => CaptureDeps) {
  return lambdaHandler(CaptureInput, (input) => captureBeforeState(input.request, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
