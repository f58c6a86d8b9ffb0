import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import type { ClientFactory } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { collectEvidence, CollectInput } from './collect-evidence';

export interface CollectEvidenceDeps {
  readonly factory: ClientFactory;
  readonly config: { readonly evidenceBucket: string };
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): CollectEvidenceDeps {
  return { factory: productionFactory({ EC2Client, S3Client }, env), config: { evidenceBucket: requireEnv('EVIDENCE_BUCKET', env) } };
}

export function createHandler(deps: () => CollectEvidenceDeps) {
  return lambdaHandler(CollectInput, (input) => collectEvidence(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
