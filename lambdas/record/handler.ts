import { requireEnv } from '../shared/env';
import { lambdaHandler, once } from '../shared/handler';
import { logger, productionFactory } from '../shared/lambda-runtime';
import { record, RecordInput, type RecordDeps } from './record';

export function productionDeps(env: NodeJS.ProcessEnv = process.env): RecordDeps {
  return {
    factory: productionFactory(env),
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
