import { Logger } from '@aws-lambda-powertools/logger';
import { createClientFactory } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { enableFlowLogs, FlowLogsInput, type FlowLogsDeps } from './flow-logs';

const logger = new Logger();

export function productionDeps(env: NodeJS.ProcessEnv = process.env): FlowLogsDeps {
  return {
    factory: createClientFactory({
      partition: requireEnv('PARTITION', env),
      responderRoleName: requireEnv('RESPONDER_ROLE_NAME', env),
    }),
    config: { bucketArn: requireEnv('FLOW_LOG_BUCKET_ARN', env) },
  };
}

export function createHandler(deps: () => FlowLogsDeps) {
  return lambdaHandler(FlowLogsInput, (input) => enableFlowLogs(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
