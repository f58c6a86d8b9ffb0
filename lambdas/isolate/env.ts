/** isolate's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envInt, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({
    ...MemberAccessVariables,
    /** Established-TCP idle timeout set on each contained network interface, seconds (60 is AWS's minimum). */
    TCP_ESTABLISHED_TIMEOUT: envInt(60, 432000),
  })
  .transform((v) => ({ access: memberAccess(v), config: { tcpEstablishedTimeout: v.TCP_ESTABLISHED_TIMEOUT } }));
