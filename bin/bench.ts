/**
 * `npm run bench` (issue 4, docs/design.md §7): prints a table, asserts nothing, and is not part of
 * `npm test`. Every time figure is on the simulated clock (deterministic), except cold init,
 * which is measured in fresh `node` processes on this machine.
 *
 *   npm run bench                 everything (bursts of 50, 200 and 500)
 *   npm run bench -- --burst 50   one burst size (repeatable)
 *   npm run bench -- --json       one JSON document instead of the table
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { DEMO_FINDING } from './cli/simulate';
import { FUNCTIONS } from '../lib/functions';
import { bucketFor, tokenBucketLowerBoundSeconds, type BucketSpec } from '../lib/simulator/throttle';
import { simulate } from '../lib/simulator/simulate';
import type { SimAttempt } from '../lib/simulator/clients';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const demoEvent = JSON.parse(readFileSync(DEMO_FINDING, 'utf8')) as { id: string; detail: Record<string, unknown> };

/** The demo finding, re-aimed at the n-th instance of a fleet (its own event id and finding id). */
function eventFor(n: number): unknown {
  const e = structuredClone(demoEvent) as { id: string; detail: { id: string; resource: { instanceDetails: { instanceId: string } } } };
  const instanceId = `i-${(0xf1ee70000 + n).toString(16).padStart(17, '0')}`;
  e.id = `0be4c400-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  e.detail.id = `be4c4${n.toString(16).padStart(27, '0')}`;
  e.detail.resource.instanceDetails.instanceId = instanceId;
  return e;
}

/** The Lambdas on the path to containment: what a burst must get through before every instance is contained. */
const CONTAINMENT_LAMBDAS = new Set(['intake', 'capture-state', 'protect', 'isolate', 'quarantine-role']);

interface Containment {
  ttc: number;
  calls: number;
  transitions: number;
  totalSeconds: number;
  ok: boolean;
}

async function timeToContainment(): Promise<Containment> {
  const { report } = await simulate(demoEvent, {});
  const e = report.executions[0];
  if (!e?.timeToContainmentSeconds) throw new Error(`demo not contained: ${JSON.stringify(e?.checks)}`);
  return { ttc: e.timeToContainmentSeconds, calls: e.criticalPathCalls ?? 0, transitions: e.transitions, totalSeconds: report.totalSeconds, ok: report.ok };
}

interface Burst {
  n: number;
  allContainedSeconds: number;
  finishedSeconds: number;
  lowerBoundSeconds: number;
  boundBy: string;
  ratio: number;
  throttled: number;
  stepRetries: number;
  lost: number;
  /** The longest an ENI sat in the allow-all untrack group (untrack → isolation), simulated seconds. */
  maxOpenSeconds: number;
  realSeconds: number;
}

/** EC2 requests per action that containing one instance takes (containment's Lambdas, no throttling, no retries). */
let perInstance: Map<string, { count: number; spec: BucketSpec }> | undefined;
async function containmentDemand(): Promise<Map<string, { count: number; spec: BucketSpec }>> {
  if (perInstance) return perInstance;
  const attempts: SimAttempt[] = [];
  await simulate(eventFor(0), { instance: { profile: 'own' }, throttling: false }, { onAttempt: (a) => attempts.push(a) });
  const demand = new Map<string, { count: number; spec: BucketSpec }>();
  for (const a of attempts) {
    if (a.service !== 'ec2' || !CONTAINMENT_LAMBDAS.has(a.lambda)) continue;
    const d = demand.get(a.command) ?? { count: 0, spec: bucketFor(a.command, a.command.startsWith('Describe') ? { Filters: [] } : {}) };
    d.count += 1;
    demand.set(a.command, d);
  }
  perInstance = demand;
  return demand;
}

async function burst(n: number): Promise<Burst> {
  const began = Date.now();
  const attempts: SimAttempt[] = [];
  const events = Array.from({ length: n }, (_, i) => eventFor(i));
  // Each instance has its own role: one role shared by hundreds of instances would pass IAM's inline-policy size quota (docs/containment.md).
  const { report, steps, world } = await simulate(events[0], { instance: { profile: 'own' } }, { extraEvents: events.slice(1), onAttempt: (a) => attempts.push(a) });
  const contained = report.executions.map((e) => e.timeToContainmentSeconds);
  const lost = report.executions.filter((e) => e.outcome !== 'contained' || e.timeToContainmentSeconds === undefined).length + (n - report.executions.length);
  const containedTimes = contained.filter((c): c is number => c !== undefined);
  // Until every instance was contained; with losses, until the last one that was (the lost are counted apart).
  const allContainedSeconds = containedTimes.length > 0 ? Math.max(...containedTimes) : NaN;
  // The lower bound: the EC2 requests containment needs per instance (one unthrottled run), times N, against the buckets.
  const demand = new Map<string, { count: number; spec: BucketSpec }>();
  for (const [action, d] of await containmentDemand()) demand.set(action, { count: d.count * n, spec: d.spec });
  const bound = tokenBucketLowerBoundSeconds(demand);
  // Exposure: an ENI is open to everything between its move to the untrack group and its move to isolation.
  let maxOpen = 0;
  for (const history of world.eniHistory.values()) {
    let openedAt: number | undefined;
    for (const h of history) {
      const allowAll = h.rules.some((r) => !r.egress && r.protocol === '-1' && r.cidr4 === '0.0.0.0/0');
      if (allowAll) openedAt ??= h.at;
      else if (openedAt !== undefined) {
        maxOpen = Math.max(maxOpen, h.at - openedAt);
        openedAt = undefined;
      }
    }
    if (openedAt !== undefined) maxOpen = Infinity;
  }
  return {
    n,
    allContainedSeconds,
    finishedSeconds: report.totalSeconds,
    lowerBoundSeconds: bound.seconds,
    boundBy: bound.action,
    ratio: bound.seconds > 0 ? allContainedSeconds / bound.seconds : NaN,
    throttled: report.throttled,
    stepRetries: steps.filter((s) => s.error === 'TransientAwsError' || s.error === 'LimitExceededError').length,
    lost,
    maxOpenSeconds: maxOpen / 1000,
    realSeconds: (Date.now() - began) / 1000,
  };
}

interface Bundle {
  name: string;
  kib: number;
  coldInitMs: number;
}

function bundles(): Bundle[] {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  try {
    return FUNCTIONS.map((r) => {
      const outfile = join(dir, r.name, 'index.js');
      // As CordonFunction bundles them: one handler per bundle, minified, the AWS SDK included.
      buildSync({
        entryPoints: [join(__dirname, '..', 'lambdas', r.name, 'handler.ts')],
        bundle: true,
        minify: true,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        outfile,
        logLevel: 'silent',
      });
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const probe = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
        const out = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'us-east-1' } });
        times.push(Number(out.stdout));
      }
      times.sort((a, b) => a - b);
      return { name: r.name, kib: Math.round(statSync(outfile).size / 1024), coldInitMs: times[2] ?? NaN };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(r.map(String)))].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const sizes = argv.flatMap((a, i) => (a === '--burst' ? [Number(argv[i + 1])] : [])).filter((n) => Number.isInteger(n) && n > 0);
  const ns = sizes.length > 0 ? sizes : [50, 200, 500];
  const log = (text: string) => process.stderr.write(`${text}\n`);

  log('bench: time to containment (demo scenario)…');
  const ttc = await timeToContainment();
  const bursts: Burst[] = [];
  for (const n of ns) {
    log(`bench: burst of ${n}…`);
    bursts.push(await burst(n));
  }
  log('bench: bundles and cold init…');
  const sizesAndInit = bundles();

  if (json) {
    process.stdout.write(`${JSON.stringify({ timeToContainment: ttc, bursts, bundles: sizesAndInit }, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  out.push('## Time to containment (demo scenario: 2 ENIs, shared role; 150 ms per AWS call, 25 ms per invocation, settle 15 s)', '');
  out.push(
    table(
      ['time to containment', 'AWS calls on the critical path', 'state transitions per incident', 'all after-checks'],
      [[`${ttc.ttc.toFixed(2)} s`, ttc.calls, ttc.transitions, ttc.ok ? 'pass' : 'FAIL']],
    ),
  );
  out.push('', '## Burst: N instances contained at once, one account and region (EC2 token buckets on)', '');
  out.push(
    table(
      ['N', 'all contained', 'lower bound (token buckets)', 'bound by', 'ratio', 'throttled calls', 'step retries', 'executions lost', 'longest allow-all window', 'all finished (evidence)', 'real time'],
      bursts.map((b) => [
        b.n,
        `${b.allContainedSeconds.toFixed(1)} s`,
        `${b.lowerBoundSeconds.toFixed(1)} s`,
        b.boundBy || '(within burst)',
        Number.isFinite(b.ratio) ? b.ratio.toFixed(2) : 'n/a',
        b.throttled,
        b.stepRetries,
        b.lost,
        `${b.maxOpenSeconds.toFixed(1)} s`,
        `${b.finishedSeconds.toFixed(0)} s`,
        `${b.realSeconds.toFixed(1)} s`,
      ]),
    ),
  );
  out.push('', '## Lambda bundles (minified, AWS SDK included) and cold init (require() in a fresh node, median of 5)', '');
  out.push(table(['Lambda', 'bundle', 'cold init'], sizesAndInit.map((b) => [b.name, `${b.kib} KiB`, `${b.coldInitMs.toFixed(0)} ms`])));
  process.stdout.write(`${out.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
