import type { ClientFactory } from '../shared/clients';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { preserveInstance, PreserveInput } from './preserve';

export interface PreserveDeps {
  readonly factory: ClientFactory;
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): PreserveDeps {
  return { factory: productionFactory(env) };
}

export function createHandler(deps: () => PreserveDeps) {
  return lambdaHandler(PreserveInput, (input) => preserveInstance(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
