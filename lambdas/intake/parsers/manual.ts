/** Manual and API requests: a `ResponseRequest` (shared schema) with `source` `manual` or `api`. Account/region scoping applies. */
import { describeZodError, ResponseRequest } from '../../shared/schemas';
import { rejectDecision, respondWith, type Decision } from '../decisions';
import { scopeCheck, type IntakePolicy } from '../policy';

export function decideManual(raw: Record<string, unknown>, policy: IntakePolicy): Decision {
  const parsed = ResponseRequest.safeParse(raw);
  if (!parsed.success) return rejectDecision(describeZodError(parsed.error));
  const { target } = parsed.data;
  const outOfScope = scopeCheck(target.accountId, target.region, policy, {
    account: 'target.accountId',
    region: 'target.region',
  });
  return outOfScope ?? respondWith(parsed.data);
}
