/**
 * `Plan` values for tests, built from the action catalogue (lambdas/shared/actions.ts) so a test
 * that says "these actions run" keeps compiling, and keeps meaning the same, when an action is added.
 */
import { GATED_ACTIONS, type ActionKey } from '../../lambdas/shared/actions';
import { planWhere, type BeforeSummary, type Plan } from '../../lambdas/shared/workflow';

const GATED = new Set<string>(GATED_ACTIONS);

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
 * The plan a workflow state's branches imply: every action that reported a result (inside the approval
 * gate too), and, when the gate declined or failed before running its branches, every gated action — as
 * the real workflow, which gives every planned action a branch result.
 */
export function planFromBranches(branches: readonly unknown[] | undefined): Plan {
  const reported = new Set<string>();
  let gateWithoutBranches = false;
  for (const b of branches ?? []) {
    const r = b as { action?: unknown; status?: unknown; gate?: unknown; branches?: unknown[] };
    if (r.gate === 'approval') {
      if (!r.branches) gateWithoutBranches = true;
      for (const g of r.branches ?? []) {
        const gr = g as { action?: unknown; status?: unknown };
        if (typeof gr.action === 'string' && gr.status !== 'skipped') reported.add(gr.action);
      }
    } else if (typeof r.action === 'string' && r.status !== 'skipped') reported.add(r.action);
  }
  return planWhere((a) => reported.has(a) || (gateWithoutBranches && GATED.has(a)));
}

/**
 * What waits at the approval gate for a full plan, in the order it runs once approved (docs/approval.md):
 * each gated action in catalogue order, isolation preceded by `protect` and followed by `leaveTargetGroups`.
 */
export function waitingSteps(): string[] {
  return GATED_ACTIONS.flatMap((a) => (a === 'isolate' ? ['protect', 'isolate', 'leaveTargetGroups'] : [a]));
}

/** A before-state summary of instance i-0123456789abcdef0 in 111122223333/eu-west-1, every action planned, changed by `extra`. */
export function beforeSummaryOf(incidentId: string, extra: Partial<BeforeSummary> = {}): BeforeSummary {
  return {
    incidentId,
    exempt: false,
    duplicate: false,
    ownerRequestId: 'req-1',
    incidentStatus: 'open',
    deliveries: 1,
    instanceArn: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0',
    findingId: null,
    autoScalingGroupName: null,
    profile: null,
    interfaces: [],
    volumes: [],
    settleSeconds: 10,
    plan: fullPlan(),
    beforeStateKey: `incidents/${incidentId}/responses/req-1/before-state.json`,
    ...extra,
  };
}
