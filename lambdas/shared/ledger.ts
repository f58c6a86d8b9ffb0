/**
 * The incident ledger (DynamoDB, DESIGN.md §4). One incident per
 * (account, region, instance) — the incident id is derived from that triple —
 * holding one RESPONSE item per workflow execution.
 *
 *   pk = incidentId, sk = "INCIDENT"              status, target, request ids, finding ids
 *   pk = incidentId, sk = "RESPONSE#<requestId>"  request, before-state, outcome, after-state
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResponseRequest, Target } from './schemas';

export const INCIDENT_SK = 'INCIDENT';
export const responseSk = (requestId: string): string => `RESPONSE#${requestId}`;

export function incidentIdFor(target: Target): string {
  return `inc-${target.accountId}-${target.region}-${target.instanceId}`;
}

export type IncidentStatus = 'open' | 'contained' | 'partially-contained' | 'failed' | 'exempt';

/**
 * Create the incident if it is new, or add this request (and finding) to it.
 * ADD on string sets makes a retried call harmless.
 */
export async function openIncident(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  request: ResponseRequest,
  now: string,
): Promise<{ created: boolean }> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = {
    ':target': request.target,
    ':now': now,
    ':open': 'open',
    ':req': new Set([request.requestId]),
  };
  let update =
    'SET target = if_not_exists(target, :target), createdAt = if_not_exists(createdAt, :now), ' +
    'updatedAt = :now, #status = if_not_exists(#status, :open) ADD requestIds :req';
  if (request.finding) {
    update += ', findingIds :finding';
    values[':finding'] = new Set([request.finding.id]);
  }
  const out = await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: incidentId, sk: INCIDENT_SK },
      UpdateExpression: update,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_OLD',
    }),
  );
  return { created: !out.Attributes?.createdAt };
}

/**
 * Write the response item with its before-state exactly once. A retried
 * capture (same request id) gets the first before-state back instead of
 * overwriting it: release must restore what was there before cordon acted.
 */
export async function putResponseOnce<T extends Record<string, unknown>>(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  item: T,
): Promise<{ written: boolean; item: T }> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: table,
        Item: { pk: incidentId, sk: responseSk(requestId), ...item },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { written: true, item };
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    const existing = await ddb.send(
      new GetCommand({ TableName: table, Key: { pk: incidentId, sk: responseSk(requestId) }, ConsistentRead: true }),
    );
    if (!existing.Item) throw err;
    return { written: false, item: existing.Item as T };
  }
}

export async function recordResponseOutcome(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  fields: Record<string, unknown>,
  incidentStatus: IncidentStatus,
  now: string,
): Promise<void> {
  const keys = Object.keys(fields);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':now': now };
  const sets = keys.map((k, i) => {
    names[`#f${i}`] = k;
    values[`:v${i}`] = fields[k];
    return `#f${i} = :v${i}`;
  });
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: incidentId, sk: responseSk(requestId) },
      UpdateExpression: `SET ${[...sets, 'updatedAt = :now'].join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: incidentId, sk: INCIDENT_SK },
      UpdateExpression: 'SET #status = :status, updatedAt = :now, lastRequestId = :req',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': incidentStatus, ':now': now, ':req': requestId },
    }),
  );
}

/** Point the response item at an evidence object (key, SHA-256, size, version). */
export async function recordEvidence(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  name: string,
  evidence: { key: string; sha256: string; size: number; versionId?: string },
): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: incidentId, sk: responseSk(requestId) },
      UpdateExpression: 'SET evidence.#name = :e',
      ExpressionAttributeNames: { '#name': name },
      ExpressionAttributeValues: { ':e': evidence },
    }),
  );
}
