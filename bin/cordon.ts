/**
 * The `cordon` CLI. `bin/cordon.js` runs this file through tsx, so it works right after
 * `npm ci` with no build step. Importing it has no side effects: `main` does the work.
 *
 * Subcommands live in `COMMANDS`; add one (status, contain, release, simulate) by adding
 * an entry with its summary, usage and `run`.
 *
 * Exit codes: 0 success (for `plan`: respond or ignore), 2 reject or usage error, 1 crash.
 */
import { readFileSync } from 'node:fs';
import {
  decideAll,
  DEFAULT_INTAKE_POLICY,
  IntakePolicy,
  overallDecision,
  rejectDecision,
  type Decision,
  type DecisionKind,
} from '../lambdas/intake/decide';
import { MAX_EVENT_BYTES } from '../lambdas/intake/events';
import { describeZodError } from '../lambdas/shared/schemas';
import { runSimulate, SIMULATE_USAGE, SimulateUsageError } from './cli/simulate';

export const EXIT_OK = 0;
export const EXIT_CRASH = 1;
export const EXIT_REJECT = 2;
export const EXIT_USAGE = 2;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Read a file as UTF-8; `-` means standard input. */
  readonly readFile: (path: string) => string;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
};

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: readonly string[], io: CliIo) => number | Promise<number>;
}

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// ---------------------------------------------------------------------------
// plan
// ---------------------------------------------------------------------------

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
function readJson(io: CliIo, path: string, label: string): { ok: true; value: unknown } | { ok: false; reason: string } {
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

const plan: Command = {
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
      const read = readJson(io, policyPath, 'policy file');
      if (!read.ok) return print(planned(rejectDecision(read.reason)));
      const parsed = IntakePolicy.safeParse(read.value);
      if (!parsed.success) return print(planned(rejectDecision(`policy file ${policyPath}: ${describeZodError(parsed.error)}`)));
      policy = parsed.data;
    }

    const read = readJson(io, eventPath, 'event file');
    if (!read.ok) return print(planned(rejectDecision(read.reason)));
    return print(planOutput(decideAll(read.value, policy)));
  },
};

// ---------------------------------------------------------------------------
// dispatcher
// ---------------------------------------------------------------------------

const simulate: Command = {
  summary: 'run a finding through the real workflow against a simulated AWS account',
  usage: SIMULATE_USAGE,
  async run(args, io) {
    try {
      return await runSimulate(args, io);
    } catch (err) {
      if (err instanceof SimulateUsageError) throw new UsageError(err.message);
      throw err;
    }
  },
};

export const COMMANDS: Readonly<Record<string, Command>> = { plan, simulate };

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: cordon <command> [options]', '', 'commands:', ...lines, '', 'cordon <command> --help for details.'].join('\n');
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${usage()}\n`);
    return EXIT_OK;
  }
  const command = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`${name === undefined ? 'cordon: missing command' : `cordon: unknown command ${JSON.stringify(name)}`}\n\n${usage()}\n`);
    return EXIT_USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`cordon ${name}: ${err.message}\n\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
