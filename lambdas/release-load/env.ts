/** release-load's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envText, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({ ...MemberAccessVariables, LEDGER_TABLE: envText })
  .transform((v) => ({ access: memberAccess(v), config: { ledgerTable: v.LEDGER_TABLE, partition: v.PARTITION } }));
