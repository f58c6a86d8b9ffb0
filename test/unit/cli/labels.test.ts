/**
 * The response workflow's lanes for the containment actions come from the catalogue
 * (lambdas/shared/actions.ts): each action's branch, from its `Should…` Choice state on, reads as
 * the action's label, and its Task state's output has a one-line summary.
 */
import responseDefinition from '../../../state-machines/response.asl.json';
import { ACTION_SPECS } from '../../../lambdas/shared/actions';
import { actionStatus, RESPONSE_LABELS } from '../../../bin/cli/labels';
import * as progress from '../../../bin/cli/progress';

describe('RESPONSE_LABELS and the action catalogue', () => {
  const index = progress.laneIndex(responseDefinition, RESPONSE_LABELS);

  it("runs each action's branch in a lane named by the action's label", () => {
    const lanes = ACTION_SPECS.map((a) => ({ key: a.key, lane: index.get(a.shouldState)?.lane }));
    expect(lanes).toEqual(ACTION_SPECS.map((a) => ({ key: a.key, lane: a.label })));
  });

  it("summarises every action's Task state the workflow has, in that action's lane", () => {
    const tasks = ACTION_SPECS.filter((a) => index.has(a.state));
    expect(tasks.length).toBeGreaterThan(0);
    for (const a of tasks) {
      expect({ key: a.key, lane: index.get(a.state)?.lane, summarised: a.state in RESPONSE_LABELS.summaries }).toEqual({ key: a.key, lane: a.label, summarised: true });
    }
    expect(RESPONSE_LABELS.summaries.QuarantineRole?.({ status: 'succeeded', roleName: 'web', profileDisassociated: 'done' })).toBe('deny on role web; profile done');
  });

  it("summarises every action's Task; one without a summary of its own by its status", () => {
    // Every action whose step is a single Task gets a progress line (today all have their own; a new one gets actionStatus).
    const tasks = ACTION_SPECS.filter((a) => index.get(a.state)?.type === 'Task');
    expect(tasks.map((a) => a.key)).toEqual(expect.arrayContaining(['quarantineRole', 'flowLogs', 'snapshot']));
    for (const a of tasks) expect({ key: a.key, summarised: typeof RESPONSE_LABELS.summaries[a.state] }).toEqual({ key: a.key, summarised: 'function' });
    expect(actionStatus({ status: 'succeeded', detail: 'x' })).toBe('status=succeeded');
    expect(actionStatus({ status: 'failed', reason: 'x' })).toBe('status=failed');
    expect(actionStatus({})).toBe('status=?');
    expect(RESPONSE_LABELS.summaries.EnableFlowLogs?.({ status: 'succeeded', flowLogs: [] })).toBe('succeeded');
  });

  it('is the table progress.ts re-exports', () => {
    expect(progress.RESPONSE_LABELS).toBe(RESPONSE_LABELS);
  });
});
