/**
 * The modules `npm run mutate` measures (issue 16): each security-critical module, mutated on its own,
 * against the unit tests that own it. bin/mutate.ts turns each entry into one Stryker run.
 *
 * `mutate` uses folder globs, so a module split into more files stays measured. A module that shares
 * its file with non-critical code names functions instead (`functions`): the line ranges are found in
 * the source when the run starts, so they follow edits to the file.
 *
 * Mutants that no test can kill (equivalent mutants) are listed, each with its reason, in
 * test/mutation/EQUIVALENT.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MutationModule {
  /** Short name, the argument to `npm run mutate -- <name>`. */
  name: string;
  /** What it is, for the table. */
  title: string;
  /** Globs of the source files to mutate (relative to the repository). */
  mutate: string[];
  /** For a shared file: mutate only these exported functions of it. */
  functions?: { file: string; names: string[] };
  /** Globs of the test files that own the module (relative to the repository). */
  tests: string[];
}

export const MODULES: readonly MutationModule[] = [
  {
    name: 'isolate',
    title: 'network isolation',
    mutate: ['lambdas/isolate/**/*.ts'],
    tests: ['test/unit/isolate/**/*.test.ts'],
  },
  {
    name: 'quarantine-role',
    title: 'role quarantine',
    mutate: ['lambdas/quarantine-role/**/*.ts', '!lambdas/quarantine-role/handler.ts'],
    tests: ['test/unit/quarantine-role/**/*.test.ts'],
  },
  {
    name: 'intake-decide',
    title: 'intake decision + finding types',
    mutate: ['lambdas/intake/decide.ts', 'lambdas/intake/finding-types.ts', 'lambdas/intake/parsers/**/*.ts'],
    tests: ['test/unit/intake/**/*.test.ts'],
  },
  {
    name: 'outcome',
    title: 'outcome decision',
    mutate: ['lambdas/record/outcome.ts'],
    tests: ['test/unit/record/**/*.test.ts'],
  },
  {
    name: 'release-restore',
    title: 'release restore',
    mutate: ['lambdas/release-restore/**/*.ts', '!lambdas/release-restore/handler.ts'],
    tests: ['test/unit/release-restore/**/*.test.ts'],
  },
  {
    name: 'ledger-claim',
    title: "ledger's incident claim",
    mutate: [],
    functions: { file: 'lambdas/shared/ledger.ts', names: ['openIncident', 'holdClaim', 'releaseClaim'] },
    tests: ['test/unit/shared/ledger.test.ts'],
  },
  {
    name: 'approval',
    title: 'approval decision',
    mutate: ['lambdas/shared/approval.ts'],
    tests: ['test/unit/shared/approval.test.ts'],
  },
];

/**
 * `file:start-end` ranges for the named top-level functions: from the `export [async] function name(`
 * line to the first later line that is a lone closing brace at column 0.
 */
export function functionRanges(root: string, file: string, names: readonly string[]): string[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  return names.map((name) => {
    const start = lines.findIndex((l) => new RegExp(`^export (async )?function ${name}\\b`).test(l));
    if (start < 0) throw new Error(`${file}: no top-level function ${name}`);
    const end = lines.findIndex((l, i) => i > start && l === '}');
    if (end < 0) throw new Error(`${file}: no end of ${name}`);
    return `${file}:${start + 1}-${end + 1}`;
  });
}

/** The Stryker options for one module (the jest runner with ts-jest, per-test coverage). */
export function strykerOptions(root: string, m: MutationModule, concurrency: number): Record<string, unknown> {
  const mutate = [...m.mutate, ...(m.functions ? functionRanges(root, m.functions.file, m.functions.names) : [])];
  return {
    testRunner: 'jest',
    testRunner_comment: 'ts-jest transpiles (isolatedModules) so a mutant never fails on types; jest.config.js narrowed to the module tests',
    coverageAnalysis: 'perTest',
    mutate,
    jest: {
      projectType: 'custom',
      configFile: 'jest.config.js',
      config: { testMatch: m.tests.map((t) => `<rootDir>/${t}`) },
      enableFindRelatedTests: false,
    },
    checkers: [],
    concurrency,
    timeoutMS: 10_000,
    disableTypeChecks: '{lambdas,test}/**/*.ts',
    ignorePatterns: ['cdk.out', 'coverage', 'dist', 'docs', 'reports', '.stryker-tmp'],
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    reporters: process.env.MUTATE_PROGRESS ? ['json', 'progress-append-only'] : ['json'],
    jsonReporter: { fileName: `reports/mutation/${m.name}.json` },
    logLevel: process.env.MUTATE_LOG ?? 'warn',
    fileLogLevel: 'off',
    incremental: false,
  };
}
