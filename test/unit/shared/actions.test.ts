/**
 * The action catalogue (lambdas/shared/actions.ts) is what every other place derives from, so its own
 * invariants are checked here: names unique in each namespace they live in, the derived lists
 * consistent with the specs, each action's Lambda and ASL states real, and unknown keys refused.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { ACTION_SPECS, ACTIONS, actionSpec, CONTAINMENT_ACTIONS, GATED_ACTIONS, isAction } from '../../../lambdas/shared/actions';

const ROOT = path.join(__dirname, '..', '..', '..');
const unique = (values: readonly string[]): string[] => values.filter((v, i) => values.indexOf(v) !== i);

/** Every state name of an ASL definition, nested Parallel branches and Map processors included. */
function stateNames(states: unknown): string[] {
  if (typeof states !== 'object' || states === null) return [];
  return Object.entries(states as Record<string, Record<string, unknown>>).flatMap(([name, s]) => [
    name,
    ...((s.Branches as Array<{ States: unknown }> | undefined) ?? []).flatMap((b) => stateNames(b.States)),
    ...stateNames((s.ItemProcessor as { States?: unknown } | undefined)?.States ?? (s.Iterator as { States?: unknown } | undefined)?.States),
  ]);
}

describe('the action catalogue', () => {
  it('gives every action a distinct key, Lambda, Task state, Choice state and label', () => {
    for (const field of ['key', 'lambda', 'state', 'shouldState', 'label'] as const) {
      expect({ field, repeated: unique(ACTION_SPECS.map((a) => a[field])) }).toEqual({ field, repeated: [] });
    }
    // A Task state and a Choice state share one namespace in the ASL.
    expect(unique(ACTION_SPECS.flatMap((a) => [a.state, a.shouldState]))).toEqual([]);
  });

  it('names states and keys the way the contract and the ASL expect', () => {
    for (const a of ACTION_SPECS) {
      expect(a.key).toMatch(/^[a-z][A-Za-z]*$/);
      expect(a.lambda).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(a.state).toMatch(/^[A-Z][A-Za-z]*$/);
      expect(a.shouldState).toMatch(/^Should[A-Z][A-Za-z]*$/);
      expect(a.describe.length).toBeGreaterThan(0);
    }
  });

  it('derives ACTIONS, GATED_ACTIONS and CONTAINMENT_ACTIONS from the specs, in declaration order', () => {
    expect([...ACTIONS]).toEqual(ACTION_SPECS.map((a) => a.key));
    expect(ACTIONS.length).toBeGreaterThan(0);
    expect([...GATED_ACTIONS]).toEqual(ACTION_SPECS.filter((a) => a.gated).map((a) => a.key));
    expect([...CONTAINMENT_ACTIONS]).toEqual(ACTION_SPECS.filter((a) => a.containment).map((a) => a.key));
    expect(GATED_ACTIONS.filter((a) => !ACTIONS.includes(a))).toEqual([]);
    expect(CONTAINMENT_ACTIONS.filter((a) => !ACTIONS.includes(a))).toEqual([]);
  });

  it('gates only containment, and releases only containment: evidence never waits and is never removed', () => {
    for (const a of ACTION_SPECS) {
      expect({ key: a.key, gated: a.gated }).toEqual({ key: a.key, gated: a.gated && a.containment });
      expect({ key: a.key, undone: a.releaseUndoes !== null }).toEqual({ key: a.key, undone: a.containment });
    }
    expect(GATED_ACTIONS.length).toBeGreaterThan(0);
  });

  it('returns the spec of a known key and refuses an unknown one, naming the known ones', () => {
    for (const a of ACTION_SPECS) expect(actionSpec(a.key)).toBe(a);
    expect(() => actionSpec('quarantine')).toThrow(`unknown containment action 'quarantine' (known: ${ACTION_SPECS.map((a) => a.key).join(', ')})`);
    expect(() => actionSpec('toString')).toThrow(/unknown containment action 'toString'/);
    expect(isAction('flowLogs')).toBe(true);
    expect(isAction('FlowLogs')).toBe(false);
    expect(isAction('constructor')).toBe(false);
  });

  it('points at a Lambda folder and at states the response workflow has', () => {
    const asl = JSON.parse(readFileSync(path.join(ROOT, 'state-machines', 'response.asl.json'), 'utf8')) as { States: unknown };
    const names = new Set(stateNames(asl.States));
    for (const a of ACTION_SPECS) {
      expect({ key: a.key, handler: existsSync(path.join(ROOT, 'lambdas', a.lambda, 'handler.ts')) }).toEqual({ key: a.key, handler: true });
      expect({ key: a.key, shouldState: names.has(a.shouldState) }).toEqual({ key: a.key, shouldState: true });
    }
    // Isolation runs as a sub-flow (PrepareIsolationGroups, IsolateEachInterface, …) in the hand-written ASL: its runbook
    // name IsolateNetwork is not yet a state there. Every other action's Task state is.
    expect(ACTION_SPECS.map((a) => a.state).filter((s) => !names.has(s))).toEqual(['IsolateNetwork']);
  });
});
