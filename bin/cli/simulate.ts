/**
 * `cordon simulate [event.json] [--scenario file] [--json]` (issue 4): run a finding through the
 * real intake and response workflow against the simulated account. With no event, the embedded
 * demo finding (lib/simulator/demo-finding.json). Calls no AWS.
 *
 * Exit codes: 0 every after-check passed, or intake ignored the event; 3 a check failed;
 * 2 bad input (unreadable event or scenario, rejected event).
 */
import { join } from 'node:path';
import { Scenario, type ScenarioInput } from '../../lib/simulator/scenario';
import { renderReport } from '../../lib/simulator/report';
import { simulate } from '../../lib/simulator/simulate';
import { describeZodError } from '../../lambdas/shared/schemas';
import type { Command } from './command';
import type { CliIo } from './deps';
import { UsageError } from './errors';

export const DEMO_FINDING = join(__dirname, '..', '..', 'lib', 'simulator', 'demo-finding.json');

export const SIMULATE_USAGE = [
  'usage: cordon simulate [event.json|-] [--scenario scenario.json] [--json]',
  '',
  'Run a GuardDuty or Security Hub event (default: the embedded demo finding) through the real',
  'intake and response state machine, with the real Lambda handlers, against a simulated AWS',
  'account on a simulated clock. Prints the timeline, the outcome and the after-checks: is the',
  "attacker's connection cut, are the stolen credentials denied, does the neighbour still work,",
  'are the snapshots in the hub, does the evidence carry its hashes. Calls no AWS.',
  '',
  '--scenario  a JSON file of scenario settings (see docs/simulator.md): latencyMs, settleSeconds,',
  '            singleAccount, instance.profile (shared|own|none), instance.state, attacker.*, ...',
  '--json      print the report as one JSON document',
  '',
  'Exit code: 0 all after-checks passed (or the event is ignored), 3 a check failed, 2 bad input.',
].join('\n');

function parseArgs(args: readonly string[]): { eventPath?: string; scenarioPath?: string; json: boolean } {
  let eventPath: string | undefined;
  let scenarioPath: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg === '--scenario') {
      scenarioPath = args[++i];
      if (scenarioPath === undefined) throw new UsageError('--scenario needs a file');
    } else if (arg.startsWith('--scenario=')) scenarioPath = arg.slice('--scenario='.length);
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
    else if (eventPath === undefined) eventPath = arg;
    else throw new UsageError(`unexpected argument ${arg}`);
  }
  return { ...(eventPath !== undefined ? { eventPath } : {}), ...(scenarioPath !== undefined ? { scenarioPath } : {}), json };
}

function readJson(io: CliIo, path: string, label: string): unknown {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (err) {
    throw new UsageError(`${label} ${path}: cannot read (${String((err as { code?: unknown }).code ?? 'error')})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${label} ${path}: not valid JSON (${(err as Error).message})`);
  }
}

export async function runSimulate(args: readonly string[], io: CliIo): Promise<number> {
  const { eventPath, scenarioPath, json } = parseArgs(args);
  const event = readJson(io, eventPath ?? DEMO_FINDING, 'event file');
  let scenario: ScenarioInput = {};
  if (scenarioPath !== undefined) {
    const parsed = Scenario.safeParse(readJson(io, scenarioPath, 'scenario file'));
    if (!parsed.success) throw new UsageError(`scenario file ${scenarioPath}: ${describeZodError(parsed.error)}`);
    scenario = parsed.data;
  }
  // Simulation calls no AWS: the SDK's Node-version notice would only be noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { report } = await simulate(event, scenario);
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  if (report.executions.length === 0) return report.decisions.some((d) => d.decision === 'reject') ? 2 : 0;
  return report.ok ? 0 : 3;
}

export const simulateCommand: Command = {
  summary: 'run a finding through the real workflow against a simulated AWS account; calls no AWS',
  usage: SIMULATE_USAGE,
  run: (args, deps) => runSimulate(args, deps),
};
