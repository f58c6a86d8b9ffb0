/**
 * What every command receives: writers, the environment, a clock, an id source and a factory of
 * AWS clients. Production values are in `processDeps`; unit tests pass their own (clients under
 * aws-sdk-client-mock, a clock whose `sleep` only advances time), so no command constructs a
 * client or reads `process` itself.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AwsClients, AwsOptions } from './aws';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Read a file as UTF-8; `-` means standard input. */
  readonly readFile: (path: string) => string;
}

export interface Clock {
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface CliDeps extends CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal: human output may use colour. */
  readonly stdoutIsTTY: boolean;
  /** stderr is a terminal: progress may use colour and a status line rewritten in place. */
  readonly stderrIsTTY: boolean;
  readonly clock: Clock;
  /** A fresh request id (a UUID in production). */
  readonly newId: () => string;
  /** AWS clients for a region and profile (undefined: the SDK's own resolution, AWS_REGION / AWS_PROFILE). */
  readonly aws: (options: AwsOptions) => Promise<AwsClients>;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
};

export function processDeps(): CliDeps {
  return {
    ...processIo,
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    clock: { now: () => new Date(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    newId: () => randomUUID(),
    // Loaded on demand, so `cordon plan` never pays for the AWS SDK (require: see bin/cordon.ts COMMANDS).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    aws: async (options) => (require('./aws') as typeof import('./aws')).productionClients(options),
  };
}
