/**
 * The command registry and dispatcher of the `cordon` CLI (bin/cordon.ts re-exports it; the
 * shim bin/cordon.js runs it). One module per subcommand in this folder, loaded only when run:
 * `cordon plan` never loads the AWS SDK. To add a command, write bin/cli/<name>.ts exporting a
 * `Command` (bin/cli/command.ts) and add one entry to COMMANDS.
 */
import type { Command } from './command';
import { processDeps, type CliDeps } from './deps';
import { CliError, EXIT_OK, EXIT_USAGE, UsageError } from './errors';


interface Entry {
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/*
 * Commands are loaded with require, not import(): tsx's CommonJS hook (bin/cordon.js) compiles what
 * require loads, while a dynamic import() would go to Node's ESM loader, which knows no TypeScript.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const COMMANDS: Readonly<Record<string, Entry>> = {
  plan: { summary: 'print what intake would decide for an event; calls no AWS', load: async () => (require('./plan') as typeof import('./plan')).plan },
  contain: { summary: 'contain an instance now (starts the response workflow)', load: async () => (require('./contain') as typeof import('./contain')).contain },
  status: { summary: "show a response (by response id) or an instance's latest one", load: async () => (require('./status') as typeof import('./status')).status },
  release: { summary: "undo a response: restore the instance's before-state", load: async () => (require('./release') as typeof import('./release')).release },
  simulate: {
    summary: 'run a finding through the real workflow against a simulated AWS account; calls no AWS',
    load: async () => (require('./simulate') as typeof import('./simulate')).simulateCommand,
  },
  approve: { summary: 'approve a response waiting at the approval gate', load: async () => (require('./decide') as typeof import('./decide')).approve },
  deny: { summary: 'deny a response waiting at the approval gate', load: async () => (require('./decide') as typeof import('./decide')).deny },
};
/* eslint-enable @typescript-eslint/no-require-imports */

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: cordon <command> [options]', '', 'commands:', ...lines, '', 'cordon <command> --help for details.'].join('\n');
}

/** An AWS SDK error that escaped a command's own handling: it has the SDK's `$metadata`. */
function isAwsError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ('$metadata' in err || (err as { name?: unknown }).name === 'CredentialsProviderError');
}

export async function main(argv: readonly string[], deps: CliDeps = processDeps()): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    deps.stdout(`${usage()}\n`);
    return EXIT_OK;
  }
  const entry = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    deps.stderr(`${name === undefined ? 'cordon: missing command' : `cordon: unknown command ${JSON.stringify(name)}`}\n\n${usage()}\n`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    deps.stdout(`${command.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(args, deps);
  } catch (err) {
    if (err instanceof UsageError) {
      deps.stderr(`cordon ${name}: ${err.message}\n\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    let failure: CliError | undefined = err instanceof CliError ? err : undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (!failure && isAwsError(err)) failure = (require('./aws') as typeof import('./aws')).explainAwsError(err, `cordon ${name}`);
    if (!failure) throw err;
    deps.stderr(`cordon ${name}: ${failure.message}\n`);
    if (args.includes('--json')) {
      deps.stdout(`${JSON.stringify({ error: { kind: failure.kind, message: failure.message, ...failure.details } })}\n`);
    }
    return failure.exitCode;
  }
}
