/**
 * Command-line parsing shared by the commands: `node:util` parseArgs in strict mode, with its
 * errors turned into `UsageError`, plus the options every AWS-facing command takes.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors';

export interface OptionSpec {
  readonly [name: string]: { readonly type: 'string' | 'boolean' };
}

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** Parse `args`: `--name value` and `--name=value`; unknown options and extra positionals are usage errors. */
export function parse(args: readonly string[], options: OptionSpec, positionals: { readonly max: number }): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options }, strict: true, allowPositionals: true });
  } catch (err) {
    // ERR_PARSE_ARGS_UNKNOWN_OPTION, ERR_PARSE_ARGS_INVALID_OPTION_VALUE, …: node's message names the option.
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length > positionals.max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
  }
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === 'string' && parsed.values[name] === '') throw new UsageError(`--${name} needs a value`);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(parsed: Parsed, name: string): string {
  const value = stringOption(parsed, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** Options of every command that talks to AWS. */
export const AWS_OPTIONS: OptionSpec = {
  region: { type: 'string' },
  profile: { type: 'string' },
  stack: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  'release-state-machine-arn': { type: 'string' },
  table: { type: 'string' },
  json: { type: 'boolean' },
};

/** Options of the commands that can follow an execution to its end. */
export const WAIT_OPTIONS: OptionSpec = {
  wait: { type: 'boolean' },
  'wait-timeout': { type: 'string' },
};

export interface AwsFlags {
  readonly region?: string;
  readonly profile?: string;
  readonly stack?: string;
  readonly responseStateMachineArn?: string;
  readonly releaseStateMachineArn?: string;
  readonly ledgerTable?: string;
  readonly json: boolean;
}

export function awsFlags(parsed: Parsed): AwsFlags {
  const pick = (name: string): string | undefined => stringOption(parsed, name);
  return {
    ...definedOnly({
      region: pick('region'),
      profile: pick('profile'),
      stack: pick('stack'),
      responseStateMachineArn: pick('state-machine-arn'),
      releaseStateMachineArn: pick('release-state-machine-arn'),
      ledgerTable: pick('table'),
    }),
    json: flag(parsed, 'json'),
  };
}

/** Default `--wait-timeout`: one hour. Snapshot copies can take longer; the outcome is known well before. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 3600;

export interface WaitFlags {
  readonly wait: boolean;
  readonly timeoutSeconds: number;
}

export function waitFlags(parsed: Parsed): WaitFlags {
  const raw = stringOption(parsed, 'wait-timeout');
  let timeoutSeconds = DEFAULT_WAIT_TIMEOUT_SECONDS;
  if (raw !== undefined) {
    if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) throw new UsageError(`--wait-timeout must be a whole number of seconds (1 or more), got ${JSON.stringify(raw)}`);
    if (!flag(parsed, 'wait')) throw new UsageError('--wait-timeout only applies with --wait');
    timeoutSeconds = Number(raw);
  }
  return { wait: flag(parsed, 'wait'), timeoutSeconds };
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The usage lines of AWS_OPTIONS, shared by every AWS-facing command's help. */
export const AWS_OPTIONS_USAGE = [
  'AWS options (standard credential chain, like the AWS CLI):',
  '  --region <r>     the hub region (also the target region of contain); default AWS_REGION,',
  '                   AWS_DEFAULT_REGION, then the profile\'s region',
  '  --profile <p>    a named profile; default AWS_PROFILE, then the default chain',
  '  --stack <name>   the hub stack to read outputs from; default CORDON_STACK, then CordonHub-<region>',
  '  --state-machine-arn <arn>          response workflow (env CORDON_RESPONSE_STATE_MACHINE_ARN)',
  '  --release-state-machine-arn <arn>  release workflow (env CORDON_RELEASE_STATE_MACHINE_ARN)',
  '  --table <name>   the incident ledger (env CORDON_LEDGER_TABLE)',
  '  --json           one JSON document on stdout (progress, if any, on stderr)',
];

export const EXIT_CODES_USAGE = [
  'Exit codes: 0 ok (with --wait: contained / released); 1 AWS or unexpected error;',
  '2 bad input or refusal; 3 with --wait: ended not contained / not released;',
  '4 with --wait: still running when --wait-timeout ran out.',
];
