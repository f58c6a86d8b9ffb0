import { EC2Client } from '@aws-sdk/client-ec2';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { enableFlowLogs, FlowLogsInput, type FlowLogsDeps } from './flow-logs';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): FlowLogsDeps {
  return {
    factory: productionFactory({ EC2Client }, env),
    config: { bucketArn: requireEnv('FLOW_LOG_BUCKET_ARN', env) },
  };
}

export function createHandler(deps: () => FlowLogsDeps) {
  return lambdaHandler(FlowLogsInput, (input) => enableFlowLogs(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
