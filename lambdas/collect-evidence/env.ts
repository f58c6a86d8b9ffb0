/** collect-evidence's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envText, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({ ...MemberAccessVariables, EVIDENCE_BUCKET: envText })
  .transform((v) => ({ access: memberAccess(v), config: { evidenceBucket: v.EVIDENCE_BUCKET } }));
