/** await-approval's environment, set by the hub stack through lib/environment.ts. It acts on the hub only. */
import { z } from 'zod';
import { envText } from '../shared/env';

export const Env = z
  .object({ LEDGER_TABLE: envText, TOPIC_ARN: envText })
  .transform((v) => ({ ledgerTable: v.LEDGER_TABLE, topicArn: v.TOPIC_ARN }));
