/**
 * `cordon plan <event.json>` (docs/design.md §2, contract): print intake's decision for an event as one
 * JSON object on stdout, calling no AWS. Exit 0 for respond or ignore, 2 for reject.
 */
import {
  decideAll,
  DEFAULT_INTAKE_POLICY,
  IntakePolicy,
  overallDecision,
  rejectDecision,
  type Decision,
  type DecisionKind,
} from '../../lambdas/intake/decide';
import { MAX_EVENT_BYTES } from '../../lambdas/intake/events';
import { describeZodError } from '../../lambdas/shared/schemas';
import type { Command } from './command';
import type { CliIo } from './deps';
import { EXIT_OK, EXIT_REJECT, UsageError } from './errors';

/** One decision as `plan` prints it: the request itself stays internal. */
export type PlannedDecision =
  | { decision: 'respond'; target: { accountId: string; region: string; instanceId: string }; actions: string[]; reason: string }
  | { decision: 'ignore' | 'reject'; reason: string };

/**
 * What `plan` prints: exactly one JSON object. One decision is printed as it is. An event
 * naming several targets (a Security Hub action on several findings or instances) prints
 * `{"decision": <overall>, "reason": "<counts>", "decisions": [<each, in order>]}`, where the
 * overall decision is respond if any target responds, else ignore if any is ignored, else reject.
 */
export type PlanOutput = PlannedDecision | { decision: DecisionKind; reason: string; decisions: PlannedDecision[] };

export function planned(d: Decision): PlannedDecision {
  if (d.decision === 'respond') return { decision: 'respond', target: d.target, actions: d.actions, reason: d.reason };
  return { decision: d.decision, reason: d.reason };
}

export function planOutput(decisions: readonly Decision[]): PlanOutput {
  const [only] = decisions;
  if (decisions.length === 1 && only) return planned(only);
  const count = (kind: DecisionKind): number => decisions.filter((d) => d.decision === kind).length;
  return {
    decision: overallDecision(decisions),
    reason: `${decisions.length} targets: ${count('respond')} respond, ${count('ignore')} ignore, ${count('reject')} reject`,
    decisions: decisions.map(planned),
  };
}

/** Read and parse a JSON file; a problem becomes the reason of a reject. */
export function readJson(io: CliIo, path: string, label: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const where = `${label} ${path === '-' ? '(stdin)' : path}`;
  let text: string;
  try {
    text = io.readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, reason: `${where}: cannot read (${typeof code === 'string' ? code : 'error'})` };
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_EVENT_BYTES) {
    return { ok: false, reason: `${where}: larger than ${MAX_EVENT_BYTES} bytes` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: `${where}: not valid JSON (${(err as Error).message})` };
  }
}

/** An IntakePolicy from a file, or the reason it can't be used. Shared with `contain --policy`. */
export function readPolicy(io: CliIo, path: string): { ok: true; policy: IntakePolicy } | { ok: false; reason: string } {
  const read = readJson(io, path, 'policy file');
  if (!read.ok) return read;
  const parsed = IntakePolicy.safeParse(read.value);
  if (!parsed.success) return { ok: false, reason: `policy file ${path}: ${describeZodError(parsed.error)}` };
  return { ok: true, policy: parsed.data };
}

function parsePlanArgs(args: readonly string[]): { eventPath: string; policyPath?: string } {
  const positional: string[] = [];
  let policyPath: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--policy') {
      policyPath = args[++i];
      if (policyPath === undefined) throw new UsageError('--policy needs a file');
    } else if (arg.startsWith('--policy=')) {
      policyPath = arg.slice('--policy='.length);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  const [eventPath, ...extra] = positional;
  if (eventPath === undefined) throw new UsageError('missing <event.json>');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  return policyPath === undefined ? { eventPath } : { eventPath, policyPath };
}

export const plan: Command = {
  summary: 'print what intake would decide for an event; calls no AWS',
  usage: [
    'usage: cordon plan <event.json|-> [--policy policy.json]',
    '',
    'Judge a GuardDuty finding event, a Security Hub custom action event or a manual',
    'ResponseRequest, and print the decision as one JSON object on stdout:',
    '  {"decision":"respond","target":{...},"actions":[...],"reason":"..."}',
    '  {"decision":"ignore"|"reject","reason":"..."}',
    'An event naming several targets prints {"decision","reason","decisions":[...]}; the',
    'overall decision is respond if any target responds, else ignore if any is ignored.',
    '',
    '--policy  an IntakePolicy JSON file (severityThreshold, allowTypes, denyTypes,',
    '          allowedAccounts, allowedRegions); defaults apply without it.',
    '',
    'Exit code: 0 respond or ignore, 2 reject (including unreadable or invalid input).',
  ].join('\n'),
  run(args, io) {
    const { eventPath, policyPath } = parsePlanArgs(args);
    const print = (output: PlanOutput): number => {
      io.stdout(`${JSON.stringify(output)}\n`);
      return output.decision === 'reject' ? EXIT_REJECT : EXIT_OK;
    };

    let policy = DEFAULT_INTAKE_POLICY;
    if (policyPath !== undefined) {
      const read = readPolicy(io, policyPath);
      if (!read.ok) return print(planned(rejectDecision(read.reason)));
      policy = read.policy;
    }

    const read = readJson(io, eventPath, 'event file');
    if (!read.ok) return print(planned(rejectDecision(read.reason)));
    return print(planOutput(decideAll(read.value, policy)));
  },
};
