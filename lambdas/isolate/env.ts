/** isolate's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envInt, envText, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({
    ...MemberAccessVariables,
    /** Established-TCP idle timeout set on each contained network interface, seconds (60 is AWS's minimum). */
    TCP_ESTABLISHED_TIMEOUT: envInt(60, 432000),
    /** The hub ledger, where cordon records the security groups it creates. */
    LEDGER_TABLE: envText,
  })
  .transform((v) => ({
    access: memberAccess(v),
    config: { tcpEstablishedTimeout: v.TCP_ESTABLISHED_TIMEOUT, ledgerTable: v.LEDGER_TABLE },
  }));
