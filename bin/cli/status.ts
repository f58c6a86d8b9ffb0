/**
 * `cordon status <responseId|instanceId|incidentId>`: what cordon did, from the ledger and the
 * execution. A response id is found through the ledger's `byResponseId` index (and its execution,
 * named `executionName(responseId)`); an instance id names the incident `inc-<account>-<region>-<id>`,
 * whose latest response is shown.
 */
import { InstanceId, RequestId } from '../../lambdas/shared/schemas';
import { AWS_OPTIONS, AWS_OPTIONS_USAGE, awsFlags, parse, stringOption } from './args';
import { checkAccount, openSession } from './aws';
import type { Command } from './command';
import type { CliDeps } from './deps';
import { CliError, EXIT_OK, UsageError } from './errors';
import { lookupInstance, lookupResponse } from './lookup';
import { printJson, renderResponse, stdoutStyle } from './output';

const USAGE = [
  'usage: cordon status <response-id | instance-id | incident-id> [--account <id>] [AWS options]',
  '',
  'Show a response: its status and outcome, each action\'s result (per network interface for',
  'isolation), failures, snapshots and their copies, flow logs, and the evidence objects with',
  'their SHA-256. An instance id (i-…) shows the latest response on that instance\'s incident;',
  '--account names its account (default: yours), --region its region.',
  '',
  ...AWS_OPTIONS_USAGE,
  '',
  'Exit codes: 0 found; 1 AWS or unexpected error; 2 unknown response or instance, or bad input.',
].join('\n');

const OPTIONS = { ...AWS_OPTIONS, account: { type: 'string' } } as const;

const INCIDENT_ID = /^inc-(\d{12})-([a-z0-9-]+)-(i-[0-9a-f]{8,17})$/;

async function run(args: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parse(args, OPTIONS, { max: 1 });
  const [id] = parsed.positionals;
  if (id === undefined) throw new UsageError('missing <response-id | instance-id | incident-id>');
  const account = stringOption(parsed, 'account');
  if (account !== undefined) checkAccount(account);
  const incident = INCIDENT_ID.exec(id);
  const isInstance = InstanceId.safeParse(id).success;
  if (!incident && !isInstance && !RequestId.safeParse(id).success) {
    throw new CliError('invalid-request', `${JSON.stringify(id)} is neither a response id, an instance id (i-…) nor an incident id (inc-…)`);
  }
  if (account !== undefined && !isInstance) throw new UsageError('--account only applies to an instance id');
  const flags = awsFlags(parsed);

  const session = await openSession(deps, flags);
  let found;
  if (incident) {
    const [, accountId = '', region = '', instanceId = ''] = incident;
    found = await lookupInstance(session, { accountId, region, instanceId });
  } else if (isInstance) {
    found = await lookupInstance(session, { accountId: account ?? (await session.caller()).account, region: session.region, instanceId: id });
  } else {
    found = await lookupResponse(session, id);
    if (!found) {
      throw new CliError(
        'not-found',
        `unknown response ${id}: neither the ledger (${await session.hub.ledgerTable()}) nor the response workflow in ${session.region} knows it`,
      );
    }
  }
  if (flags.json) printJson(deps, found.view);
  else deps.stdout(renderResponse(stdoutStyle(deps), found.view));
  return EXIT_OK;
}

export const status: Command = { summary: "show a response (by response id) or an instance's latest one", usage: USAGE, run };
