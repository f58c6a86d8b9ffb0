import { Logger } from '@aws-lambda-powertools/logger';
import { createClientFactory } from '../shared/clients';
import { optionalEnv, requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { snapshot, SnapshotInput, type SnapshotDeps } from './snapshot';

const logger = new Logger();

export function productionDeps(env: NodeJS.ProcessEnv = process.env): SnapshotDeps {
  return {
    factory: createClientFactory({
      partition: requireEnv('PARTITION', env),
      responderRoleName: requireEnv('RESPONDER_ROLE_NAME', env),
    }),
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
