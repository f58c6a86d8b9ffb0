/**
 * `cordon release <responseId> --reason "…"`: start the release workflow (docs/design.md §3.5),
 * which restores the instance's before-state and keeps every piece of evidence.
 *
 * Before starting anything the ledger is checked, so an obvious refusal is immediate and nothing
 * is started: the response must exist, its incident must be `contained` or `partially-contained`,
 * and a before-state must be known (the response's `restoreFrom`, or the incident's
 * `originalBeforeStateKey`). The release workflow checks again itself; this is for the person
 * at the keyboard. The input is the shared `ReleaseRequest` with source `manual`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionName } from '../../lambdas/intake/intake';
import { INCIDENT_SK } from '../../lambdas/shared/ledger';
import { describeZodError, ReleaseRequest, RequestId, Text } from '../../lambdas/shared/schemas';
import { AWS_OPTIONS, AWS_OPTIONS_USAGE, awsFlags, EXIT_CODES_USAGE, parse, requiredOption, WAIT_OPTIONS, waitFlags } from './args';
import { call, openSession } from './aws';
import type { Command } from './command';
import type { CliDeps } from './deps';
import { CliError, EXIT_OK, EXIT_OUTCOME, EXIT_STILL_RUNNING, UsageError } from './errors';
import { describeExecutionRaw, getItem, lookupResponse } from './lookup';
import { printJson, renderExecution, stderrStyle, stdoutStyle, statusWord } from './output';
import { ExecutionProgress, genericLabels, ProgressPrinter } from './progress';
import { executionView, incidentView } from './view';
import { follow } from './wait';

const USAGE = [
  'usage: cordon release <response-id> --reason "<why>" [--wait [--wait-timeout <s>]] [AWS options]',
  '',
  'Undo a response: the release workflow puts back each network interface\'s original security',
  'groups, the instance profile, and the termination and shutdown attributes, and removes',
  'cordon\'s deny policy. Every snapshot, evidence object and flow log is kept. Who released it',
  '(your identity, from STS) and why are recorded.',
  '',
  'Refused (exit 2, nothing started) unless the response\'s incident is contained or',
  'partially-contained and its before-state is recorded.',
  '',
  '  --reason <text>    why, recorded with the release (required)',
  '  --wait             follow the release live until the end; exit 0 only if it succeeded',
  '  --wait-timeout <s> stop waiting after this many seconds (default 3600)',
  '',
  ...AWS_OPTIONS_USAGE,
  '',
  ...EXIT_CODES_USAGE,
].join('\n');

const OPTIONS = { ...AWS_OPTIONS, ...WAIT_OPTIONS, reason: { type: 'string' } } as const;

/** Incident statuses a release may undo. */
export const RELEASABLE = new Set(['contained', 'partially-contained']);

/** The release workflow's definition, when this checkout has it: better progress labels. Optional by design. */
function releaseDefinition(): unknown {
  const path = join(__dirname, '..', '..', 'state-machines', 'release.asl.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function refusal(incidentId: string, status: string): string {
  const why: Record<string, string> = {
    open: 'a response is still running on it; wait for it to end (cordon status)',
    released: 'it has already been released',
    exempt: 'the instance is exempt and was never contained',
    failed: 'containment failed, so there is nothing cordon holds to undo; check the instance by hand',
  };
  return `refused: incident ${incidentId} is ${status}; release only undoes a contained or partially-contained incident${why[status] ? ` (${why[status]})` : ''}`;
}

async function run(args: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parse(args, OPTIONS, { max: 1 });
  const [responseId] = parsed.positionals;
  if (responseId === undefined) throw new UsageError('missing <response-id>');
  const reason = requiredOption(parsed, 'reason');
  const flags = awsFlags(parsed);
  const wait = waitFlags(parsed);
  if (!RequestId.safeParse(responseId).success) throw new CliError('invalid-request', `${JSON.stringify(responseId)} is not a response id`);
  const reasonCheck = Text.safeParse(reason);
  if (!reasonCheck.success) throw new CliError('invalid-request', `--reason ${describeZodError(reasonCheck.error).replace(/^\(root\): /, '')}`);

  const session = await openSession(deps, flags);
  const caller = await session.caller();

  // Pre-check: the ledger, read consistently for the incident's current status.
  const found = await lookupResponse(session, responseId, { consistentIncident: true });
  if (!found) throw new CliError('not-found', `unknown response ${responseId}: the ledger has no such response in ${session.region}`);
  if (!found.item) {
    throw new CliError('refused', `refused: response ${responseId} has recorded nothing yet (its execution is ${found.view.execution?.status ?? 'unknown'}); nothing to release`);
  }
  const incidentId = found.view.incidentId ?? '?';
  const status = found.view.incident?.status ?? 'unknown';
  if (!RELEASABLE.has(status)) throw new CliError('refused', refusal(incidentId, status));
  if (!found.view.restoreFrom) {
    throw new CliError('refused', `refused: no before-state is recorded for response ${responseId} or incident ${incidentId}, so release would not know what to restore`);
  }

  const request = ReleaseRequest.safeParse({ releaseId: deps.newId(), responseId, source: 'manual', reason, requestedBy: caller.arn });
  if (!request.success) throw new CliError('invalid-request', `the release request is not valid: ${describeZodError(request.error)}`);
  const release = request.data;
  const machine = await session.hub.releaseStateMachineArn();
  const started = await call(`states:StartExecution on ${machine}`, () =>
    session.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: executionName(release.releaseId), input: JSON.stringify(release) })),
  );
  const executionArn = started.executionArn ?? '';
  const head = {
    releaseId: release.releaseId,
    responseId,
    incidentId,
    executionArn,
    startDate: started.startDate ? started.startDate.toISOString() : null,
    restoreFrom: found.view.restoreFrom,
    request: release,
  };
  const headline = [
    `Started release ${release.releaseId} of response ${responseId}`,
    `  incident   ${incidentId} (${status})`,
    `  restores   ${found.view.restoreFrom}`,
    `  by         ${release.requestedBy}`,
    `  execution  ${executionArn}`,
  ].join('\n');

  if (!wait.wait) {
    if (flags.json) printJson(deps, head);
    else deps.stdout(`${headline}\nFollow it: cordon status ${responseId} --region ${session.region}  (or run release with --wait)\n`);
    return EXIT_OK;
  }

  const printer = new ProgressPrinter(deps.stderr, stderrStyle(deps), deps.stderrIsTTY);
  printer.note(headline);
  const progress = new ExecutionProgress(releaseDefinition(), genericLabels('release'));
  const result = await follow(session.clients.sfn, deps.clock, executionArn, progress, printer, wait.timeoutSeconds);
  const described = await describeExecutionRaw(session, executionArn);
  const execution = described ? executionView(described) : null;
  const after = await getItem(session, incidentId, INCIDENT_SK, true);
  const incidentAfter = after ? incidentView(after) : null;
  const executionStatus = execution?.status ?? progress.ended?.status ?? 'UNKNOWN';
  const output = parseOutput(described?.output);

  const code = !result.ended ? EXIT_STILL_RUNNING : executionStatus === 'SUCCEEDED' ? EXIT_OK : EXIT_OUTCOME;
  if (!result.ended) printer.note(`Stopped waiting after ${wait.timeoutSeconds} s; the release goes on. Check it later: cordon status ${responseId} --region ${session.region}`);
  if (flags.json) {
    printJson(deps, { ...head, ended: result.ended, status: executionStatus, error: execution?.error ?? null, cause: execution?.cause ?? null, output, incident: incidentAfter });
  } else {
    const style = stdoutStyle(deps);
    const lines = [`Release ${release.releaseId} of response ${responseId}: ${statusWord(style, executionStatus)}`];
    if (execution) lines.push(...renderExecution(style, execution));
    if (incidentAfter) lines.push(`  incident   ${incidentAfter.incidentId} is now ${statusWord(style, incidentAfter.status)}`);
    deps.stdout(`${lines.join('\n')}\n`);
  }
  return code;
}

/** The release's output, parsed: its shape belongs to the release workflow, so it is shown as it is. */
function parseOutput(output: string | undefined): unknown {
  if (output === undefined) return null;
  try {
    return JSON.parse(output) as unknown;
  } catch {
    return output;
  }
}

export const release: Command = { summary: "undo a response: restore the instance's before-state", usage: USAGE, run };
