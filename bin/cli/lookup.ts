/**
 * Reading a response back: the ledger (RESPONSE through the `byResponseId` index, INCIDENT by key)
 * and the execution (DescribeExecution). Shared by status, contain --wait and release's pre-check.
 */
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { executionArnFor, executionName } from '../../lambdas/intake/intake';
import { findResponse, INCIDENT_SK, incidentIdFor, RESPONSE_INDEX, responseSk } from '../../lambdas/shared/ledger';
import type { Target } from '../../lambdas/shared/schemas';
import { call, explainAwsError, type Session } from './aws';
import { CliError } from './errors';
import { executionView, responseView, type ExecutionView, type ResponseView } from './view';

type Item = Record<string, unknown>;

export async function getItem(session: Session, incidentId: string, sk: string, consistent = false): Promise<Item | undefined> {
  const table = await session.hub.ledgerTable();
  const out = await call(`dynamodb:GetItem on ledger ${table}`, () =>
    session.clients.ddb.send(new GetCommand({ TableName: table, Key: { pk: incidentId, sk }, ...(consistent ? { ConsistentRead: true } : {}) })),
  );
  return out.Item;
}

/** DescribeExecution as it is (output included); null when the execution does not exist. */
export async function describeExecutionRaw(session: Session, executionArn: string): Promise<DescribeExecutionCommandOutput | null> {
  try {
    return await session.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionDoesNotExist') return null;
    throw explainAwsError(err, `states:DescribeExecution on ${executionArn}`);
  }
}

/** DescribeExecution; null when the execution does not exist. */
export async function describeExecution(session: Session, executionArn: string): Promise<ExecutionView | null> {
  const out = await describeExecutionRaw(session, executionArn);
  return out ? executionView(out) : null;
}

/** The response workflow's execution for a response id (its name is `executionName(responseId)`, as intake and contain start it). */
export async function responseExecutionArn(session: Session, responseId: string): Promise<string> {
  const machine = await session.hub.responseStateMachineArn();
  const arn = executionArnFor(machine, executionName(responseId));
  if (!arn) throw new CliError('configuration', `${machine} is not a state machine ARN`);
  return arn;
}

export interface FoundResponse {
  readonly view: ResponseView;
  readonly item: Item | undefined;
  readonly incident: Item | undefined;
}

/**
 * A response by id: the ledger, then its execution. Undefined when neither knows it. The index is
 * eventually consistent, so a response started a second ago may be found by its execution only.
 */
export async function lookupResponse(session: Session, responseId: string, options: { consistentIncident?: boolean } = {}): Promise<FoundResponse | undefined> {
  const table = await session.hub.ledgerTable();
  const found = await call(`dynamodb:Query on ledger ${table} index ${RESPONSE_INDEX}`, () => findResponse(session.clients.ddb, table, responseId));
  const incident = found ? await getItem(session, found.incidentId, INCIDENT_SK, options.consistentIncident) : undefined;
  return withExecution(session, responseId, found?.item, incident);
}

/** The latest response on an instance's incident: the one that last claimed it, else the one last recorded. */
export async function lookupInstance(session: Session, target: Target): Promise<FoundResponse> {
  const incidentId = incidentIdFor(target);
  const incident = await getItem(session, incidentId, INCIDENT_SK);
  if (!incident) {
    throw new CliError(
      'not-found',
      `no incident for ${target.instanceId} in ${target.accountId} / ${target.region}: cordon has not acted on it (check --account and --region)`,
    );
  }
  const latest = typeof incident.activeRequestId === 'string' ? incident.activeRequestId : typeof incident.lastRequestId === 'string' ? incident.lastRequestId : undefined;
  if (!latest) throw new CliError('not-found', `incident ${incidentId} has no response recorded`);
  const item = await getItem(session, incidentId, responseSk(latest));
  const found = await withExecution(session, latest, item, incident);
  if (!found) throw new CliError('not-found', `incident ${incidentId} names response ${latest}, which neither the ledger nor Step Functions knows`);
  return found;
}

async function withExecution(session: Session, responseId: string, item: Item | undefined, incident: Item | undefined): Promise<FoundResponse | undefined> {
  let executionArn = typeof item?.executionArn === 'string' ? item.executionArn : undefined;
  if (executionArn === undefined) {
    try {
      executionArn = await responseExecutionArn(session, responseId);
    } catch (err) {
      // Without the state machine (no stack output, no flag) the ledger alone still answers.
      if (!item || !(err instanceof CliError) || (err.kind !== 'configuration' && err.kind !== 'not-found')) throw err;
    }
  }
  const execution = executionArn === undefined ? null : await describeExecution(session, executionArn);
  if (!item && !execution) return undefined;
  return { view: responseView(responseId, item, incident, execution), item, incident };
}
