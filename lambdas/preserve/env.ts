/** preserve's environment, set by the hub stack through lib/environment.ts: only how to reach CordonResponder. */
import { z } from 'zod';
import { memberAccess, MemberAccessVariables } from '../shared/env';

export const Env = z.object(MemberAccessVariables).transform((v) => ({ access: memberAccess(v) }));
