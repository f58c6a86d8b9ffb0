/**
 * The `cordon` CLI. `bin/cordon.js` runs this file through tsx, so it works right after
 * `npm ci` with no build step. Importing it has no side effects: `main` does the work.
 *
 * The dispatcher and the command registry are in bin/cli/commands.ts; each subcommand is one
 * module under bin/cli/ (plan, contain, status, release). Usage and exit codes: docs/cli.md.
 *
 * Exit codes (bin/cli/errors.ts): 0 ok; 1 AWS or unexpected error; 2 bad input or refusal
 * (for `plan`: reject); 3 with --wait, ended not contained / not released; 4 with --wait,
 * still running when --wait-timeout ran out.
 */
export { COMMANDS, main, usage } from './cli/commands';
export { EXIT_ERROR as EXIT_CRASH, EXIT_OK, EXIT_OUTCOME, EXIT_REJECT, EXIT_STILL_RUNNING, EXIT_USAGE } from './cli/errors';
export type { CliDeps, CliIo } from './cli/deps';
export { processDeps, processIo } from './cli/deps';
