/**
 * `cordon approve <responseId> --reason "…"` and `cordon deny <responseId> --reason "…"`: answer a
 * response waiting at the approval gate (docs/approval.md). Both call the same
 * `submitApprovalDecision` as `POST /v1/responses/{id}/approval`. Who decided is the caller's
 * identity from STS, never text the caller typed.
 *
 * Exit codes: 0 decided; 2 bad input, unknown response, or nothing to decide (not waiting,
 * already decided, expired); 1 AWS errors.
 */
import { submitApprovalDecision } from '../../lambdas/shared/approval';
import { CordonError } from '../../lambdas/shared/errors';
import { ApprovalDecision, describeZodError } from '../../lambdas/shared/schemas';
import { AWS_OPTIONS, AWS_OPTIONS_USAGE, awsFlags, parse, requiredOption } from './args';
import { openSession } from './aws';
import type { Command } from './command';
import type { CliDeps } from './deps';
import { CliError, EXIT_OK, UsageError } from './errors';
import { printJson } from './output';

const OPTIONS = { ...AWS_OPTIONS, reason: { type: 'string' } } as const;

/** Refusals from submitApprovalDecision, as the CLI reports them. */
const REFUSALS: Record<string, 'not-found' | 'refused'> = {
  ResponseNotFoundError: 'not-found',
  ApprovalNotPendingError: 'refused',
  ApprovalAlreadyDecidedError: 'refused',
  ApprovalExpiredError: 'refused',
  ApprovalTaskClosedError: 'refused',
  InvalidRequestError: 'refused',
};

function usage(verb: 'approve' | 'deny'): string {
  return [
    `usage: cordon ${verb} <response-id> --reason "<why>" [AWS options]`,
    '',
    verb === 'approve'
      ? 'Approve a response waiting at the approval gate: its network isolation and role quarantine go ahead.'
      : 'Deny a response waiting at the approval gate: the instance is not isolated and its role is not quarantined;',
    ...(verb === 'deny' ? ['evidence collection (snapshots, flow logs) has already run and is kept.'] : []),
    'Your identity (from STS) and the reason are recorded with the decision. One decision per response: a',
    'second one, or one after the gate timed out, is refused (exit 2).',
    '',
    '  --reason <text>    why, recorded with the decision (required)',
    '',
    ...AWS_OPTIONS_USAGE,
    '',
    'Exit code: 0 decided; 1 AWS error; 2 bad input, unknown response, or nothing waiting for a decision.',
  ].join('\n');
}

function command(verb: 'approve' | 'deny'): Command {
  const run = async (args: readonly string[], deps: CliDeps): Promise<number> => {
    const parsed = parse(args, OPTIONS, { max: 1 });
    const [responseId] = parsed.positionals;
    if (responseId === undefined) throw new UsageError('missing <response-id>');
    const reason = requiredOption(parsed, 'reason');
    const flags = awsFlags(parsed);
    const session = await openSession(deps, flags);
    const caller = await session.caller();
    const decision = ApprovalDecision.safeParse({ responseId, decision: verb, reason, decidedBy: caller.arn });
    if (!decision.success) throw new CliError('invalid-request', `the decision is not valid: ${describeZodError(decision.error)}`);
    const table = await session.hub.ledgerTable();
    let result;
    try {
      result = await submitApprovalDecision({ ddb: session.clients.ddb, sfn: session.clients.sfn, table }, decision.data, deps.clock.now());
    } catch (err) {
      const kind = err instanceof CordonError ? REFUSALS[err.name] : undefined;
      if (kind) throw new CliError(kind, `${verb} refused: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    if (flags.json) printJson(deps, result);
    else {
      deps.stdout(
        [
          `${result.approved ? 'Approved' : 'Denied'} response ${result.responseId} (incident ${result.incidentId})`,
          `  by         ${result.decidedBy}`,
          `  reason     ${result.reason}`,
          `  execution  ${result.executionArn}`,
          result.approved ? 'Isolation and role quarantine go ahead: cordon status ' + result.responseId : 'Nothing is isolated or quarantined; evidence is kept: cordon status ' + result.responseId,
        ].join('\n') + '\n',
      );
    }
    return EXIT_OK;
  };
  return {
    summary: verb === 'approve' ? 'approve a response waiting at the approval gate' : 'deny a response waiting at the approval gate',
    usage: usage(verb),
    run,
  };
}

export const approve = command('approve');
export const deny = command('deny');
