/** snapshot's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envInt, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({
    ...MemberAccessVariables,
    /** Cap on waiting for one snapshot, hours. */
    SNAPSHOT_MAX_HOURS: envInt(1, 168),
    /** Seconds between progress checks. Not set by the stack; a tuning override. */
    SNAPSHOT_POLL_SECONDS: envInt(1, 3600).optional(),
  })
  .transform((v) => ({ access: memberAccess(v), config: { maxHours: v.SNAPSHOT_MAX_HOURS, pollSeconds: v.SNAPSHOT_POLL_SECONDS ?? 60 } }));
