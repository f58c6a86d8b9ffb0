import { EC2Client } from '@aws-sdk/client-ec2';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { snapshot, SnapshotInput, type SnapshotDeps } from './snapshot';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): SnapshotDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client }, access), config };
}

export function createHandler(deps: () => SnapshotDeps) {
  return lambdaHandler(SnapshotInput, (input) => snapshot(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
