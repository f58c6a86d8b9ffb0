import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { z } from 'zod';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { quarantineRole, QuarantineInput, type QuarantineDeps } from './quarantine-role';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): QuarantineDeps {
  return {
    factory: productionFactory({ EC2Client, IAMClient }, env),
    config: { revokeSessions: z.enum(['auto', 'always', 'never']).parse(requireEnv('REVOKE_SESSIONS', env)) },
  };
}

export function createHandler(deps: () => QuarantineDeps) {
  return lambdaHandler(QuarantineInput, (input) => quarantineRole(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
