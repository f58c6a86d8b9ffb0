/**
 * `cordon contain --instance i-… --reason "…"`: start the response workflow for one instance, as a
 * responder. The request is a `ResponseRequest` (docs/design.md §2) with source `manual`, a fresh UUID
 * as its id (the response id), the caller's ARN as `requestedBy`; it is validated with the shared
 * schema and judged by intake's own decision (lambdas/intake/decide.ts), so `cordon plan` on the
 * same request agrees. The execution is named `executionName(requestId)`, as intake names its own.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { decideAll, DEFAULT_INTAKE_POLICY } from '../../lambdas/intake/decide';
import { executionName } from '../../lambdas/intake/intake';
import responseDefinition from '../../state-machines/response.asl.json';
import { ACTIONS, describeZodError, InstanceId, ResponseRequest, Text, type ResponseRequestInput } from '../../lambdas/shared/schemas';
import { AWS_OPTIONS, AWS_OPTIONS_USAGE, awsFlags, EXIT_CODES_USAGE, parse, requiredOption, stringOption, WAIT_OPTIONS, waitFlags } from './args';
import { call, checkAccount, openSession, type Session } from './aws';
import type { Command } from './command';
import type { CliDeps } from './deps';
import { CliError, EXIT_OK, EXIT_OUTCOME, EXIT_STILL_RUNNING } from './errors';
import { lookupResponse, type FoundResponse } from './lookup';
import { printJson, renderResponse, stderrStyle, stdoutStyle } from './output';
import { readPolicy } from './plan';
import { ExecutionProgress, ProgressPrinter, RESPONSE_LABELS } from './progress';
import { follow } from './wait';

const USAGE = [
  'usage: cordon contain --instance <i-…> --reason "<why>" [--account <id>] [--actions a,b,…]',
  '                      [--policy policy.json] [--wait [--wait-timeout <s>]] [AWS options]',
  '',
  'Start the response workflow on one instance now. The request is a ResponseRequest with',
  'source "manual", a new response id (UUID), and your identity (STS) as requestedBy. It is',
  'checked exactly as intake checks it (cordon plan agrees), then started on the hub\'s response',
  'state machine. A manual request re-runs containment even on an instance already contained.',
  '',
  '  --instance <id>    the EC2 instance to contain (required)',
  '  --reason <text>    why, recorded in the ledger and the evidence (required)',
  '  --account <id>     the instance\'s account; default: your own (the caller\'s)',
  `  --actions <list>   comma-separated subset of ${ACTIONS.join(',')}; default: all`,
  '  --policy <file>    judge with this IntakePolicy (as `cordon plan --policy` does)',
  '  --wait             follow every branch live until the end; the exit code is the outcome',
  '  --wait-timeout <s> stop waiting after this many seconds (default 3600)',
  '',
  'The instance is in --region (the hub region).',
  '',
  ...AWS_OPTIONS_USAGE,
  '',
  ...EXIT_CODES_USAGE,
].join('\n');

const OPTIONS = {
  ...AWS_OPTIONS,
  ...WAIT_OPTIONS,
  instance: { type: 'string' },
  account: { type: 'string' },
  reason: { type: 'string' },
  actions: { type: 'string' },
  policy: { type: 'string' },
} as const;

function parseActions(raw: string | undefined): (typeof ACTIONS)[number][] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
  const unknown = names.filter((a) => !(ACTIONS as readonly string[]).includes(a));
  if (names.length === 0 || unknown.length > 0) {
    throw new CliError('invalid-request', `--actions: ${names.length === 0 ? 'names no action' : `unknown action ${unknown.map((u) => JSON.stringify(u)).join(', ')}`}; choose from ${ACTIONS.join(', ')}`);
  }
  if (new Set(names).size !== names.length) throw new CliError('invalid-request', '--actions: an action is named twice');
  return names as (typeof ACTIONS)[number][];
}

async function run(args: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parse(args, OPTIONS, { max: 0 });
  const instanceId = requiredOption(parsed, 'instance');
  const reason = requiredOption(parsed, 'reason');
  const flags = awsFlags(parsed);
  const wait = waitFlags(parsed);

  // Everything the caller typed is checked before any AWS call.
  if (!InstanceId.safeParse(instanceId).success) {
    throw new CliError('invalid-request', `--instance ${JSON.stringify(instanceId)} is not an EC2 instance id (i- followed by 8 or 17 hex digits)`);
  }
  const account = stringOption(parsed, 'account');
  if (account !== undefined) checkAccount(account);
  const reasonCheck = Text.safeParse(reason);
  if (!reasonCheck.success) throw new CliError('invalid-request', `--reason ${describeZodError(reasonCheck.error).replace(/^\(root\): /, '')}`);
  const actions = parseActions(stringOption(parsed, 'actions'));
  let policy = DEFAULT_INTAKE_POLICY;
  const policyPath = stringOption(parsed, 'policy');
  if (policyPath !== undefined) {
    const read = readPolicy(deps, policyPath);
    if (!read.ok) throw new CliError('invalid-request', read.reason);
    policy = read.policy;
  }

  const session = await openSession(deps, flags);
  const caller = await session.caller();
  const input: ResponseRequestInput = {
    requestId: deps.newId(),
    source: 'manual',
    target: { accountId: account ?? caller.account, region: session.region, instanceId },
    ...(actions ? { actions } : {}),
    reason,
    requestedBy: caller.arn,
  };
  const valid = ResponseRequest.safeParse(input);
  if (!valid.success) throw new CliError('invalid-request', `the request is not valid: ${describeZodError(valid.error)}`);
  const [decision] = decideAll(input, policy);
  if (!decision || decision.decision !== 'respond') {
    throw new CliError('rejected', `intake would ${decision?.decision ?? 'reject'} this request: ${decision?.reason ?? 'no decision'}`);
  }
  const request = decision.request;

  const machine = await session.hub.responseStateMachineArn();
  const started = await call(`states:StartExecution on ${machine}`, () =>
    session.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, name: executionName(request.requestId), input: JSON.stringify(request) }),
    ),
  );
  const executionArn = started.executionArn ?? '';
  const head = {
    responseId: request.requestId,
    executionArn,
    startDate: started.startDate ? started.startDate.toISOString() : null,
    request,
  };
  const headline = [
    `Started response ${request.requestId}`,
    `  instance   ${request.target.instanceId} in ${request.target.accountId} / ${request.target.region}`,
    `  actions    ${request.actions.join(', ')}`,
    `  by         ${request.requestedBy}`,
    `  execution  ${executionArn}`,
  ].join('\n');

  if (!wait.wait) {
    if (flags.json) printJson(deps, head);
    else deps.stdout(`${headline}\nFollow it: cordon status ${request.requestId} --region ${session.region}  (or run contain with --wait)\n`);
    return EXIT_OK;
  }

  const printer = new ProgressPrinter(deps.stderr, stderrStyle(deps), deps.stderrIsTTY);
  printer.note(headline);
  const progress = new ExecutionProgress(responseDefinition, RESPONSE_LABELS);
  const result = await follow(session.clients.sfn, deps.clock, executionArn, progress, printer, wait.timeoutSeconds);

  const found = result.ended ? await settled(session, deps, request.requestId) : await lookupResponse(session, request.requestId);
  const recorded = progress.outputOf('RecordOutcome')?.outcome;
  const ledgerOutcome = found && !['in-progress', 'not-recorded', 'unknown'].includes(found.view.status) ? found.view.status : undefined;
  const outcome = ledgerOutcome ?? (typeof recorded === 'string' ? recorded : null);
  const executionStatus = found?.view.execution?.status ?? progress.ended?.status ?? null;

  let code: number;
  if (result.ended) code = outcome === 'contained' && executionStatus === 'SUCCEEDED' ? EXIT_OK : EXIT_OUTCOME;
  else code = outcome === null ? EXIT_STILL_RUNNING : outcome === 'contained' ? EXIT_OK : EXIT_OUTCOME;
  if (!result.ended) {
    printer.note(
      `Stopped waiting after ${wait.timeoutSeconds} s; the execution goes on${outcome ? ` (outcome already recorded: ${outcome})` : ''}. ` +
        `Check it later: cordon status ${request.requestId} --region ${session.region}`,
    );
  }

  if (flags.json) {
    printJson(deps, { ...head, ended: result.ended, outcome, executionStatus, response: found?.view ?? null });
  } else if (found) {
    deps.stdout(renderResponse(stdoutStyle(deps), found.view));
  } else {
    deps.stdout(`Response ${request.requestId}: ${outcome ?? 'outcome unknown'} (execution ${executionStatus ?? 'unknown'})\n`);
  }
  return code;
}

/** After the end, the ledger's index may lag a moment behind: look a few times (bounded) until the outcome is there. */
async function settled(session: Session, deps: CliDeps, responseId: string): Promise<FoundResponse | undefined> {
  let found: FoundResponse | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await deps.clock.sleep(1000 * attempt);
    found = await lookupResponse(session, responseId);
    if (found && !['in-progress', 'not-recorded'].includes(found.view.status)) return found;
  }
  return found;
}

export const contain: Command = { summary: 'contain an instance now (starts the response workflow)', usage: USAGE, run };
