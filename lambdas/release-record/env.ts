/** release-record's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envText, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({ ...MemberAccessVariables, LEDGER_TABLE: envText, EVIDENCE_BUCKET: envText, TOPIC_ARN: envText })
  .transform((v) => ({
    access: memberAccess(v),
    config: { ledgerTable: v.LEDGER_TABLE, evidenceBucket: v.EVIDENCE_BUCKET, topicArn: v.TOPIC_ARN },
  }));
