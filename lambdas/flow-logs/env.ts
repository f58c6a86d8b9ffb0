/** flow-logs' environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envText, memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z
  .object({ ...MemberAccessVariables, FLOW_LOG_BUCKET_ARN: envText })
  .transform((v) => ({ access: memberAccess(v), config: { bucketArn: v.FLOW_LOG_BUCKET_ARN } }));
