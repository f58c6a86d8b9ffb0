import { EC2Client } from '@aws-sdk/client-ec2';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { shareSnapshot, ShareInput, type ShareDeps } from './share-snapshot';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): ShareDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client }, access), config };
}

export function createHandler(deps: () => ShareDeps) {
  return lambdaHandler(ShareInput, (input) => shareSnapshot(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
