import { Logger } from '@aws-lambda-powertools/logger';
import { createClientFactory } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { isolate, IsolateInput, type IsolateDeps } from './isolate';

const logger = new Logger();

export function productionDeps(env: NodeJS.ProcessEnv = process.env): IsolateDeps {
  return {
    factory: createClientFactory({
      partition: requireEnv('PARTITION', env),
      responderRoleName: requireEnv('RESPONDER_ROLE_NAME', env),
    }),
    config: { tcpEstablishedTimeout: Number(requireEnv('TCP_ESTABLISHED_TIMEOUT', env)) },
  };
}

export function createHandler(deps: () => IsolateDeps) {
  return lambdaHandler(IsolateInput, (input) => isolate(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
