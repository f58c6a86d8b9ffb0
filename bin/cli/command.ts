/** One `cordon` subcommand: its one-line summary, its usage text and what it does. */
import type { CliDeps } from './deps';

export interface Command {
  readonly summary: string;
  readonly usage: string;
  /** Returns the exit code. Throws UsageError or CliError (bin/cli/errors.ts) for the dispatcher to report. */
  readonly run: (args: readonly string[], deps: CliDeps) => number | Promise<number>;
}
