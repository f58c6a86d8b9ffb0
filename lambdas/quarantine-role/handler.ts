import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { parseEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { quarantineRole, QuarantineInput, type QuarantineDeps } from './quarantine-role';
import { Env } from './env';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): QuarantineDeps {
  const { access, config } = parseEnv(Env, env);
  return { factory: productionFactory({ EC2Client, IAMClient }, access), config };
}

export function createHandler(deps: () => QuarantineDeps) {
  return lambdaHandler(QuarantineInput, (input) => quarantineRole(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
