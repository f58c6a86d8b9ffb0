import { Logger } from '@aws-lambda-powertools/logger';
import { createClientFactory } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { protectInstance, ProtectInput } from './protect';

const logger = new Logger();

export interface ProtectDeps {
  readonly factory: ReturnType<typeof createClientFactory>;
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): ProtectDeps {
  return {
    factory: createClientFactory({
      partition: requireEnv('PARTITION', env),
      responderRoleName: requireEnv('RESPONDER_ROLE_NAME', env),
    }),
  };
}

export function createHandler(deps: () => ProtectDeps) {
  return lambdaHandler(ProtectInput, (input) => protectInstance(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
