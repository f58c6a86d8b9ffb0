/**
 * `npm run mutate` (issue 16): mutation testing of the security-critical modules. Each module (see
 * test/mutation/modules.ts) is mutated on its own and run against the unit tests that own it, with
 * Stryker's jest runner, one module after another. Prints a table of scores and the run time; like
 * `npm run bench` it is a measurement, not part of `npm test` or CI. Equivalent mutants (no test can
 * kill them) are listed with their reasons in test/mutation/EQUIVALENT.md.
 *
 *   npm run mutate                         every module
 *   npm run mutate -- isolate outcome      only these modules
 *   npm run mutate -- --survivors          also list each surviving / uncovered mutant
 *   npm run mutate -- --concurrency 2      test-runner processes per module (default 1)
 *
 * The JSON report of each module is written to reports/mutation/<module>.json (gitignored).
 */
import { resolve } from 'node:path';
import { MODULES, strykerOptions, type MutationModule } from '../test/mutation/modules';

interface Mutant {
  status: string;
  fileName: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number } };
}

interface Row {
  module: MutationModule;
  mutants: number;
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  errors: number;
  score: number;
  seconds: number;
  open: Mutant[];
}

function parseArgs(argv: string[]): { names: string[]; survivors: boolean; concurrency: number } {
  const names: string[] = [];
  let survivors = false;
  let concurrency = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--survivors') survivors = true;
    else if (a === '--concurrency') concurrency = Number(argv[++i]);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else names.push(a);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency takes a positive integer');
  const unknown = names.filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown.length) throw new Error(`unknown module ${unknown.join(', ')}; modules: ${MODULES.map((m) => m.name).join(', ')}`);
  return { names, survivors, concurrency };
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function runModule(root: string, m: MutationModule, concurrency: number): Promise<Row> {
  // Stryker is ESM-only with `exports`, which this tsconfig's `moduleResolution: node` cannot type: the shape used here.
  const core = '@stryker-mutator/core';
  const { Stryker } = (await import(core)) as { Stryker: new (options: Record<string, unknown>) => { runMutationTest(): Promise<unknown[]> } };
  const started = Date.now();
  const results = (await new Stryker(strykerOptions(root, m, concurrency)).runMutationTest()) as unknown as Mutant[];
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const killed = count('Killed');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const timeout = count('Timeout');
  const errors = count('RuntimeError') + count('CompileError');
  const detected = killed + timeout;
  const valid = detected + survived + noCoverage;
  return {
    module: m,
    mutants: results.length,
    killed,
    survived,
    noCoverage,
    timeout,
    errors,
    score: valid ? (100 * detected) / valid : 100,
    seconds: (Date.now() - started) / 1000,
    open: results.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage'),
  };
}

async function main(): Promise<void> {
  const { names, survivors, concurrency } = parseArgs(process.argv.slice(2));
  const root = resolve(__dirname, '..');
  process.chdir(root);
  const chosen = names.length ? MODULES.filter((m) => names.includes(m.name)) : MODULES;
  const started = Date.now();
  const rows: Row[] = [];
  for (const m of chosen) {
    console.error(`mutate: ${m.name} (${m.title}) ...`);
    const row = await runModule(root, m, concurrency);
    console.error(`mutate: ${m.name}: ${row.score.toFixed(1)}% in ${row.seconds.toFixed(0)} s`);
    rows.push(row);
  }
  if (survivors) {
    for (const r of rows) {
      for (const s of r.open) {
        const at = `${s.fileName}:${s.location.start.line}:${s.location.start.column}`;
        console.log(`${r.module.name} ${s.status} ${at} ${s.mutatorName}: ${JSON.stringify(s.replacement ?? '')}`);
      }
    }
    console.log('');
  }
  console.log(
    table(
      ['module', 'mutants', 'killed', 'survived', 'no coverage', 'timeout', 'errors', 'score', 'time'],
      rows.map((r) => [
        `${r.module.name} (${r.module.title})`,
        r.mutants,
        r.killed,
        r.survived,
        r.noCoverage,
        r.timeout,
        r.errors,
        `${r.score.toFixed(1)}%`,
        `${r.seconds.toFixed(0)} s`,
      ]),
    ),
  );
  console.log(`\nrun time ${((Date.now() - started) / 1000).toFixed(0)} s (concurrency ${concurrency}); score = (killed + timeout) / (killed + timeout + survived + no coverage)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
