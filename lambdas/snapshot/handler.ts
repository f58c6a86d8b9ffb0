import { EC2Client } from '@aws-sdk/client-ec2';
import { optionalEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { snapshot, SnapshotInput, type SnapshotDeps } from './snapshot';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): SnapshotDeps {
  return {
    factory: productionFactory({ EC2Client }, env),
    config: {
      maxHours: Number(optionalEnv('SNAPSHOT_MAX_HOURS', env) ?? '24'),
      pollSeconds: Number(optionalEnv('SNAPSHOT_POLL_SECONDS', env) ?? '60'),
    },
  };
}

export function createHandler(deps: () => SnapshotDeps) {
  return lambdaHandler(SnapshotInput, (input) => snapshot(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
