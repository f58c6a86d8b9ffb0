/** quarantine-role's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({ ...MemberAccessVariables, REVOKE_SESSIONS: z.enum(['auto', 'always', 'never']) })
  .transform((v) => ({ access: memberAccess(v), config: { revokeSessions: v.REVOKE_SESSIONS } }));
