import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import type { ClientFactory } from '../shared/clients';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { collectEvidence, CollectInput } from './collect-evidence';
import { Env } from './env';

export interface CollectEvidenceDeps {
  readonly factory: ClientFactory;
  readonly config: { readonly evidenceBucket: string };
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): CollectEvidenceDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, S3Client }, access), config };
}

export function createHandler(deps: () => CollectEvidenceDeps) {
  return lambdaHandler(CollectInput, (input) => collectEvidence(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
