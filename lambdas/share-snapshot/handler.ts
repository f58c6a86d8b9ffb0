import { EC2Client } from '@aws-sdk/client-ec2';
import { optionalEnv, requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { shareSnapshot, ShareInput, type ShareDeps } from './share-snapshot';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): ShareDeps {
  return {
    factory: productionFactory({ EC2Client }, env),
    config: {
      hubAccountId: requireEnv('HUB_ACCOUNT_ID', env),
      evidenceKeyArn: requireEnv('EVIDENCE_KEY_ARN', env),
      maxHours: Number(optionalEnv('SNAPSHOT_MAX_HOURS', env) ?? '24'),
      pollSeconds: Number(optionalEnv('SNAPSHOT_POLL_SECONDS', env) ?? '60'),
    },
  };
}

export function createHandler(deps: () => ShareDeps) {
  return lambdaHandler(ShareInput, (input) => shareSnapshot(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
