import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { ClientFactory } from '../shared/clients';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { protectInstance, ProtectInput } from './protect';
import { MemberOnlyEnv as Env } from '../shared/env';

export interface ProtectDeps {
  readonly factory: ClientFactory;
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): ProtectDeps {
  const { access } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, AutoScalingClient }, access) };
}

export function createHandler(deps: () => ProtectDeps) {
  return lambdaHandler(ProtectInput, (input) => protectInstance(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
