import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ClientFactory } from '../shared/clients';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { preserveInstance, PreserveInput } from './preserve';
import { MemberOnlyEnv as Env } from '../shared/env';

export interface PreserveDeps {
  readonly factory: ClientFactory;
}

export function productionDeps(env: NodeJS.ProcessEnv = process.env): PreserveDeps {
  const { access } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, AutoScalingClient, ElasticLoadBalancingV2Client }, access) };
}

export function createHandler(deps: () => PreserveDeps) {
  return lambdaHandler(PreserveInput, (input) => preserveInstance(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
