/**
 * The containment actions a request may ask for, declared once (docs/design.md §2).
 *
 * Runtime data only: no CDK, no AWS SDK. Everything that needs to know the actions derives from
 * this list: the request schema's `actions` enum and its default, the plan CaptureBeforeState
 * makes, what the approval gate holds back, what counts towards `contained`, the CLI's labels,
 * the generated workflow (state-machines/), the simulator's handler registry, and the OpenAPI
 * enum (held to this list by a test). The CDK side of each action (its Lambda's grants and the
 * member permissions it needs) is declared in lib/ with a type keyed by {@link ActionKey}, so a
 * forgotten one does not compile.
 */

export interface ActionSpec {
  /** The contract name, as callers send it in `ResponseRequest.actions`. */
  readonly key: string;
  /** The Lambda folder under lambdas/ that performs it. */
  readonly lambda: string;
  /** The runbook's name for the step (the ASL Task state). */
  readonly state: string;
  /** The Choice state that asks whether the request planned it (the ASL `Should…` state). */
  readonly shouldState: string;
  /**
   * True when it waits at the approval gate: it disrupts the instance, so a human may hold it
   * back. Evidence actions never wait.
   */
  readonly gated: boolean;
  /** True when it counts towards `contained`; otherwise it is evidence. */
  readonly containment: boolean;
  /** Short label for progress lines and views. */
  readonly label: string;
  /** What it does, in the words an approver reads before deciding. */
  readonly describe: string;
  /** What release undoes, or null when release leaves it in place (evidence is never removed). */
  readonly releaseUndoes: string | null;
}

export const ACTION_SPECS = [
  {
    key: 'isolate',
    lambda: 'isolate',
    state: 'IsolateNetwork',
    shouldState: 'ShouldIsolate',
    gated: true,
    containment: true,
    label: 'isolate',
    describe: 'move every network interface to the isolation security group',
    releaseUndoes: "puts each network interface's original security groups back",
  },
  {
    key: 'flowLogs',
    lambda: 'flow-logs',
    state: 'EnableFlowLogs',
    shouldState: 'ShouldEnableFlowLogs',
    gated: false,
    containment: false,
    label: 'flow logs',
    describe: 'enable an ALL-traffic flow log on its VPC, delivered to the evidence bucket',
    releaseUndoes: null,
  },
  {
    key: 'snapshot',
    lambda: 'snapshot',
    state: 'CreateSnapshots',
    shouldState: 'ShouldSnapshot',
    gated: false,
    containment: false,
    label: 'snapshots',
    describe: 'snapshot every attached EBS volume and copy the snapshots into the security account',
    releaseUndoes: null,
  },
  {
    key: 'quarantineRole',
    lambda: 'quarantine-role',
    state: 'QuarantineRole',
    shouldState: 'ShouldQuarantineRole',
    gated: true,
    containment: true,
    label: 'quarantine',
    describe: "deny its role's credentials when used from this instance, and disassociate the instance profile",
    releaseUndoes: "re-associates the original instance profile and removes this instance from the role's deny",
  },
] as const satisfies readonly ActionSpec[];

export type ActionKey = (typeof ACTION_SPECS)[number]['key'];

/** Every action key, in declaration order: the request's default. */
export const ACTIONS = ACTION_SPECS.map((a) => a.key) as unknown as readonly [ActionKey, ...ActionKey[]];

/** The actions held back by the approval gate, in declaration order. */
export const GATED_ACTIONS: readonly ActionKey[] = ACTION_SPECS.filter((a) => a.gated).map((a) => a.key);

/** The actions that count towards `contained`. */
export const CONTAINMENT_ACTIONS: readonly ActionKey[] = ACTION_SPECS.filter((a) => a.containment).map((a) => a.key);

const BY_KEY = new Map<string, ActionSpec>(ACTION_SPECS.map((a) => [a.key, a]));

/** The spec of `key`; throws on a key that is not an action, so a typo fails loudly. */
export function actionSpec(key: string): ActionSpec {
  const spec = BY_KEY.get(key);
  if (!spec) throw new Error(`unknown containment action '${key}' (known: ${ACTIONS.join(', ')})`);
  return spec;
}

export function isAction(key: string): key is ActionKey {
  return BY_KEY.has(key);
}
