/**
 * `cordon plan` end to end: spawn the real shim (`node bin/cordon.js`), as a user would
 * after `npm ci`, and check the one JSON object on stdout and the exit code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENTS_DIR, isMulti, loadExpected, POLICIES_DIR, REPO_ROOT } from '../intake/fixtures';
import { ACTIONS } from '../../../lambdas/shared/actions';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cordon(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'cordon.js'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    input,
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stdout must be exactly one JSON object on one line. */
function oneObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  const parsed: unknown = JSON.parse(lines[0] as string);
  expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
  return parsed as Record<string, unknown>;
}

const ALL_ACTIONS = [...ACTIONS];;

describe('cordon plan <fixture>', () => {
  it.each(Object.entries(loadExpected()))('%s', (file, exp) => {
    const args = ['plan', join(EVENTS_DIR, file)];
    if (exp.policy) args.push('--policy', join(POLICIES_DIR, exp.policy));

    const run = cordon(args);

    expect(run.stderr).toBe('');
    const out = oneObject(run.stdout);
    expect(run.status).toBe(exp.decision === 'reject' ? 2 : 0);
    expect(out.decision).toBe(exp.decision);

    if (isMulti(exp)) {
      expect(Object.keys(out).sort()).toEqual(['decision', 'decisions', 'reason']);
      const decisions = out.decisions as Record<string, unknown>[];
      expect(decisions.map((d) => ({ decision: d.decision, target: d.target }))).toEqual(
        exp.decisions.map((d) => ({ decision: d.decision, target: d.target })),
      );
      return;
    }
    if (exp.decision === 'respond') {
      expect(Object.keys(out).sort()).toEqual(['actions', 'decision', 'reason', 'target']);
      expect(out.target).toEqual(exp.target);
      expect(out.actions).toEqual(exp.actions ?? ALL_ACTIONS);
    } else {
      expect(Object.keys(out).sort()).toEqual(['decision', 'reason']);
    }
    if (exp.field) expect(String(out.reason).startsWith(`${exp.field}: `)).toBe(true);
    if (exp.reasonIncludes) expect(out.reason).toContain(exp.reasonIncludes);
  });
});

describe('cordon plan: input problems are rejects with exit code 2', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cordon-plan-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unreadable file', () => {
    const missing = join(dir, 'missing.json');
    const run = cordon(['plan', missing]);
    expect(run.status).toBe(2);
    expect(oneObject(run.stdout)).toEqual({ decision: 'reject', reason: `event file ${missing}: cannot read (ENOENT)` });
  });

  it('invalid JSON', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"source": "aws.guardduty",');
    const run = cordon(['plan', file]);
    expect(run.status).toBe(2);
    const out = oneObject(run.stdout);
    expect(out.decision).toBe('reject');
    expect(out.reason).toMatch(new RegExp(`^event file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
  });

  it('a JSON value that is not an object', () => {
    const file = join(dir, 'number.json');
    writeFileSync(file, '42');
    const run = cordon(['plan', file]);
    expect(run.status).toBe(2);
    expect(oneObject(run.stdout)).toEqual({ decision: 'reject', reason: '(root): must be a JSON object, got a number' });
  });

  it('an invalid policy file', () => {
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ severityThreshold: 'high' }));
    const run = cordon(['plan', join(EVENTS_DIR, 'gd-portscan-outbound.json'), '--policy', policy]);
    expect(run.status).toBe(2);
    const out = oneObject(run.stdout);
    expect(out.decision).toBe('reject');
    expect(out.reason).toContain(`policy file ${policy}: severityThreshold:`);
  });

  it('reads the event from stdin with -', () => {
    const run = cordon(['plan', '-'], JSON.stringify({ source: 'aws.ec2', 'detail-type': 'x', id: '1' }));
    expect(run.status).toBe(2);
    expect(oneObject(run.stdout).decision).toBe('reject');
  });
});

describe('cordon plan: the policy changes the decision', () => {
  it('--policy=file form, severity threshold above the finding', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-policy-'));
    try {
      const policy = join(dir, 'strict.json');
      writeFileSync(policy, JSON.stringify({ severityThreshold: 9 }));
      const run = cordon(['plan', join(EVENTS_DIR, 'gd-backdoor-cc-activity-dns.json'), `--policy=${policy}`]);
      expect(run.status).toBe(0);
      expect(oneObject(run.stdout)).toEqual({ decision: 'ignore', reason: 'detail.severity: 8 is below the threshold 9' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cordon dispatcher', () => {
  it('--help prints usage listing plan, exit 0', () => {
    const run = cordon(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: cordon <command>');
    expect(run.stdout).toMatch(/^ {2}plan {2}/m);
  });

  it('plan --help prints the plan usage, exit 0', () => {
    const run = cordon(['plan', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: cordon plan <event.json|-> [--policy policy.json]');
  });

  it('an unknown subcommand prints usage on stderr and exits 2', () => {
    const run = cordon(['contain-everything']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('cordon: unknown command "contain-everything"');
    expect(run.stderr).toContain('usage: cordon <command>');
  });

  it('no subcommand exits 2 with usage on stderr', () => {
    const run = cordon([]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('cordon: missing command');
  });

  it('plan without a file, or with an unknown option, is a usage error', () => {
    for (const args of [['plan'], ['plan', 'a.json', '--force'], ['plan', 'a.json', 'b.json'], ['plan', 'a.json', '--policy']]) {
      const run = cordon(args);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('usage: cordon plan');
    }
  });
});
