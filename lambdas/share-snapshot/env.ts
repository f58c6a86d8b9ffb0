/** share-snapshot's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envInt, envText, memberAccess, MemberAccessVariables } from '../shared/env';
import { AccountId } from '../shared/schemas';
import type { ShareConfig } from './share-snapshot';

export const Env = z
  .object({
    ...MemberAccessVariables,
    /** The hub account: snapshots are shared with it and copied into it. */
    HUB_ACCOUNT_ID: AccountId,
    EVIDENCE_KEY_ARN: envText,
    /** Cap on waiting for one snapshot copy, hours. */
    SNAPSHOT_MAX_HOURS: envInt(1, 168),
    /** Seconds between progress checks. Not set by the stack; a tuning override. */
    SNAPSHOT_POLL_SECONDS: envInt(1, 3600).optional(),
  })
  .transform((v): { access: ReturnType<typeof memberAccess>; config: ShareConfig } => ({
    access: memberAccess(v),
    config: {
      hubAccountId: v.HUB_ACCOUNT_ID,
      evidenceKeyArn: v.EVIDENCE_KEY_ARN,
      maxHours: v.SNAPSHOT_MAX_HOURS,
      pollSeconds: v.SNAPSHOT_POLL_SECONDS ?? 60,
    },
  }));
