import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { restore, RestoreInput, type RestoreDeps } from './release-restore';
import { MemberOnlyEnv as Env } from '../shared/env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): RestoreDeps {
  const { access } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, IAMClient }, access) };
}

export function createHandler(deps: () => RestoreDeps) {
  return lambdaHandler(RestoreInput, (input) => restore(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
