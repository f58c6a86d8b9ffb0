/**
 * Exit codes and the two errors every command may throw. The dispatcher (bin/cordon.ts) turns
 * them into a message on stderr (and, with --json, one JSON document on stdout) and an exit code.
 *
 * Exit codes (documented in docs/cli.md):
 *   0  success: planned respond/ignore; started; found; with --wait, contained or released
 *   1  error: AWS refused or failed (credentials, access denied, throttling, network) or a bug
 *   2  bad input or refusal: usage, an invalid or rejected request, an unknown response or
 *      instance, a release refused by its pre-check, a hub stack or output not found
 *   3  with --wait: the execution ended, but not contained / not released (partially contained,
 *      failed, exempt, aborted, timed out)
 *   4  with --wait: still running when --wait-timeout ran out, outcome not yet known
 */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_REJECT = 2;
export const EXIT_REFUSED = 2;
export const EXIT_OUTCOME = 3;
export const EXIT_STILL_RUNNING = 4;

/** The command line itself is wrong: the dispatcher prints the command's usage after the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What a `--json` caller gets for an error: a stable `kind` to branch on, and the human message. */
export type CliErrorKind =
  | 'invalid-request'
  | 'rejected'
  | 'not-found'
  | 'refused'
  | 'configuration'
  | 'credentials'
  | 'access-denied'
  | 'throttled'
  | 'aws-error';

/** A failure with a human-readable message and the exit code it maps to. Never carries credentials. */
export class CliError extends Error {
  readonly kind: CliErrorKind;
  readonly exitCode: number;
  /** Extra fields for the --json error document (the denied action and resource, for instance). */
  readonly details: Readonly<Record<string, string>>;

  constructor(kind: CliErrorKind, message: string, options: { exitCode?: number; details?: Record<string, string>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.kind = kind;
    this.exitCode = options.exitCode ?? defaultExitCode(kind);
    this.details = options.details ?? {};
  }
}

function defaultExitCode(kind: CliErrorKind): number {
  switch (kind) {
    case 'invalid-request':
    case 'rejected':
    case 'not-found':
    case 'refused':
    case 'configuration':
      return EXIT_REFUSED;
    default:
      return EXIT_ERROR;
  }
}
