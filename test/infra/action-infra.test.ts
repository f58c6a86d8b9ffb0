/** lib/action-infra.ts: the CDK side of each containment action, checked against lambdas/shared/actions.ts. */
import { ACTIONS, ACTION_SPECS } from '../../lambdas/shared/actions';
import { ACTION_INFRA, checkActionInfra, type ActionInfra } from '../../lib/action-infra';

describe('ACTION_INFRA', () => {
  it('has one entry per action, led by its Lambda', () => {
    expect(Object.keys(ACTION_INFRA).sort()).toEqual([...ACTIONS].sort());
    for (const spec of ACTION_SPECS) expect(ACTION_INFRA[spec.key].functions[0]).toBe(spec.lambda);
    expect(() => checkActionInfra()).not.toThrow();
  });

  it('refuses an entry whose first function is not the action’s Lambda, or that does not act in member accounts', () => {
    const isolate: ActionInfra = ACTION_INFRA.isolate;
    expect(() => checkActionInfra({ isolate: { ...isolate, functions: ['flow-logs'] } })).toThrow(
      "ACTION_INFRA.isolate: its first function must be its lambda 'isolate' (lambdas/shared/actions.ts), not 'flow-logs'",
    );
    expect(() => checkActionInfra({ isolate: { ...isolate, functions: ['isolate', 'await-approval'] } })).toThrow(
      "ACTION_INFRA.isolate: function 'await-approval' lacks the 'assume:member' grant (lib/functions.ts)",
    );
    expect(() => checkActionInfra({ isolat: isolate })).toThrow("unknown containment action 'isolat'");
  });
});
