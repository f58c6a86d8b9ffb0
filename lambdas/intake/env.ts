/** intake's environment, set by the hub stack through lib/environment.ts. It acts on the hub only. */
import { z } from 'zod';
import { envJson, envText } from '../shared/env';
import { IntakePolicy } from './decide';

export const Env = z
  .object({
    /** The response workflow. */
    STATE_MACHINE_ARN: envText,
    /** JSON of `IntakePolicy` (severity threshold, type lists, account/region scope). */
    INTAKE_POLICY: envJson(IntakePolicy),
    /** Where the finding itself is kept, under incidents/<incidentId>/findings/ (optional). */
    EVIDENCE_BUCKET: envText.optional(),
  })
  .transform((v) => ({
    stateMachineArn: v.STATE_MACHINE_ARN,
    policy: v.INTAKE_POLICY,
    ...(v.EVIDENCE_BUCKET ? { evidenceBucket: v.EVIDENCE_BUCKET } : {}),
  }));
