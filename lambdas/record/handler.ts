import { Logger } from '@aws-lambda-powertools/logger';
import { createClientFactory } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { record, RecordInput, type RecordDeps } from './record';

const logger = new Logger();

export function productionDeps(env: NodeJS.ProcessEnv = process.env): RecordDeps {
  return {
    factory: createClientFactory({
      partition: requireEnv('PARTITION', env),
      responderRoleName: requireEnv('RESPONDER_ROLE_NAME', env),
    }),
    config: {
      ledgerTable: requireEnv('LEDGER_TABLE', env),
      evidenceBucket: requireEnv('EVIDENCE_BUCKET', env),
      topicArn: requireEnv('TOPIC_ARN', env),
    },
    log: logger,
  };
}

export function createHandler(deps: () => RecordDeps) {
  return lambdaHandler(RecordInput, (input) => record(input, deps()), logger);
}

export const handler = createHandler(once(() => productionDeps()));
