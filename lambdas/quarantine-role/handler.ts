import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createClientFactory } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { quarantineRole, QuarantineInput, type QuarantineDeps } from './quarantine-role';

const logger = new Logger();

export function productionDeps(env: NodeJS.ProcessEnv = process.env): QuarantineDeps {
  return {
    factory: createClientFactory({
      partition: requireEnv('PARTITION', env),
      responderRoleName: requireEnv('RESPONDER_ROLE_NAME', env),
    }),
    config: { revokeSessions: z.enum(['auto', 'always', 'never']).parse(requireEnv('REVOKE_SESSIONS', env)) },
  };
}

export function createHandler(deps: () => QuarantineDeps) {
  return lambdaHandler(QuarantineInput, (input) => quarantineRole(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
