import type { ClientFactory } from '../shared/clients';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { protectInstance, ProtectInput } from './protect';

export interface ProtectDeps {
  readonly factory: ClientFactory;
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): ProtectDeps {
  return {
    factory: productionFactory(env),
  };
}

export function createHandler(deps: () => ProtectDeps) {
  return lambdaHandler(ProtectInput, (input) => protectInstance(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
