/**
 * `Plan` values for tests, built from the action catalogue (lambdas/shared/actions.ts) so a test
 * that says "these actions run" keeps compiling, and keeps meaning the same, when an action is added.
 */
import { GATED_ACTIONS, type ActionKey } from '../../lambdas/shared/actions';
import { planWhere, type Plan } from '../../lambdas/shared/workflow';

/** A plan running exactly `keys`; every other action is false. */
export function planOf(...keys: ActionKey[]): Plan {
  const runs = new Set(keys);
  return planWhere((a) => runs.has(a));
}

/** A plan running every action (the request's default). */
export function fullPlan(): Plan {
  return planWhere(() => true);
}

/** A plan running nothing (an exempt instance, a duplicate delivery). */
export function emptyPlan(): Plan {
  return planWhere(() => false);
}

/** A plan running every action except `keys`. */
export function planWithout(...keys: ActionKey[]): Plan {
  const skipped = new Set(keys);
  return planWhere((a) => !skipped.has(a));
}

/**
 * What waits at the approval gate for a full plan, in the order it runs once approved (docs/approval.md):
 * each gated action in catalogue order, isolation preceded by `protect` and followed by `leaveTargetGroups`.
 */
export function waitingSteps(): string[] {
  return GATED_ACTIONS.flatMap((a) => (a === 'isolate' ? ['protect', 'isolate', 'leaveTargetGroups'] : [a]));
}
