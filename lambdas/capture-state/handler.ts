import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { CaptureInput } from '../shared/workflow';
import { captureBeforeState, type ApprovalPolicy, type CaptureDeps } from './capture-state';
import { ApprovalEnv, Env } from './env';

/** The approval gate from the environment the hub stack sets (lib/environment.ts); no tags, no gate. */
export function approvalFromEnv(env: NodeJS.ProcessEnv = process.env): ApprovalPolicy | undefined {
  return parseEnv(ApprovalEnv, env);
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): CaptureDeps {
  const { access, config } = parseEnv(Env, env);
  return {
    factory: productionFactory({ EC2Client, AutoScalingClient, S3Client, DynamoDBClient, DynamoDBDocumentClient }, access),
    config,
  };
}

export function createHandler(deps: () => CaptureDeps) {
  return lambdaHandler(CaptureInput, (input) => captureBeforeState(input.request, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
