/**
 * The real `cordon` entry point (node bin/cordon.js, through tsx), as a responder runs it: every
 * command loads, help works, bad input is refused, and a missing-credentials machine gets a
 * readable error. No network: the child has no credentials and the instance metadata service off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../intake/fixtures';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cordon-home-'));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

/** A clean environment: no AWS credentials or config of any kind, IMDS disabled. */
function cordon(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    NODE_OPTIONS: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
  };
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'cordon.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('--help lists every command', () => {
  const run = cordon(['--help']);
  expect(run.status).toBe(0);
  for (const name of ['plan', 'contain', 'status', 'release']) expect(run.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
});

it.each(['contain', 'status', 'release'])('%s --help loads the command and prints its usage', (name) => {
  const run = cordon([name, '--help']);
  expect(run.status).toBe(0);
  expect(run.stdout).toContain(`usage: cordon ${name}`);
  expect(run.stdout).toContain('Exit codes');
});

it('refuses bad input before looking for credentials', () => {
  const run = cordon(['contain', '--instance', 'i-zzz', '--reason', 'test', '--json']);
  expect(run.status).toBe(2);
  expect(JSON.parse(run.stdout)).toEqual({ error: { kind: 'invalid-request', message: '--instance "i-zzz" is not an EC2 instance id (i- followed by 8 or 17 hex digits)' } });
});

it('no region: says how to give one', () => {
  const run = cordon(['status', 'i-0123456789abcdef0']);
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('cordon status: no AWS region: pass --region, set AWS_REGION, or set a region in your profile');
});

it('no credentials: says how to get some, exit 1, no stack trace', () => {
  const run = cordon(['contain', '--instance', 'i-0123456789abcdef0', '--reason', 'test', '--region', 'eu-west-1']);
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('cordon contain: no usable AWS credentials for sts:GetCallerIdentity');
  expect(run.stderr).toContain('--profile or AWS_PROFILE');
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
});
