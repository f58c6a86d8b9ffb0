import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { restore, RestoreInput, type RestoreDeps } from './release-restore';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): RestoreDeps {
  return { factory: productionFactory({ EC2Client, IAMClient }, env) };
}

export function createHandler(deps: () => RestoreDeps) {
  return lambdaHandler(RestoreInput, (input) => restore(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
