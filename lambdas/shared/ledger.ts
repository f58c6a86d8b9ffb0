/**
 * The incident ledger (DynamoDB, docs/design.md §4). One incident per
 * (account, region, instance) — the incident id is derived from that triple —
 * holding one RESPONSE item per workflow execution.
 *
 *   pk = incidentId, sk = "INCIDENT"              status, target, delivery count, the claim
 *   pk = incidentId, sk = "DELIVERY#<requestId>"  each finding or request that arrived for the instance
 *   pk = incidentId, sk = "RESPONSE#<requestId>"  request, before-state, outcome, after-state
 *   pk = incidentId, sk = "RELEASE#<releaseId>"   who released, why, and how it ended (lambdas/shared/release.ts)
 *   pk = "groups-<account>-<region>", sk = "GROUP#<vpcId>#<purpose>"   cordon's own security groups (lambdas/shared/group-records.ts)
 *
 * A response's public id (`responseId`, what the CLI and the API return) is its request id. Every
 * RESPONSE item carries it as `responseId`, the partition key of the `byResponseId` index, so a
 * response is found without knowing its instance.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResponseRequest, Target } from './schemas';

export const INCIDENT_SK = 'INCIDENT';
export const responseSk = (requestId: string): string => `RESPONSE#${requestId}`;
export const deliverySk = (requestId: string): string => `DELIVERY#${requestId}`;
/** The global secondary index over RESPONSE items, keyed by `responseId` (contract with lib/constructs/evidence-store.ts). */
export const RESPONSE_INDEX = 'byResponseId';

export function incidentIdFor(target: Target): string {
  return `inc-${target.accountId}-${target.region}-${target.instanceId}`;
}

export type IncidentStatus = 'open' | 'contained' | 'partially-contained' | 'failed' | 'exempt' | 'released' | 'declined';

/**
 * A claim older than this on an incident still `open` is abandoned (its execution died before recording).
 * A response waiting at the approval gate holds its claim until the approval expires (`claimHeldUntil`),
 * and this long after.
 */
export const STALE_CLAIM_MS = 60 * 60_000;

export interface IncidentClaim {
  /** True when this request owns containment of the incident. */
  claimed: boolean;
  /** The request that owns it (this one when claimed). */
  ownerRequestId: string;
  /** The incident's status as the claim saw it. */
  status: string;
  /** How many deliveries (findings or requests) the incident has recorded. */
  deliveries: number;
  /** The before-state taken before cordon first changed this instance (what release restores), once known. */
  originalBeforeStateKey?: string;
}

/**
 * One incident per (account, region, instance). First append this delivery to
 * the incident (idempotent per request id), then claim containment with a
 * conditional write: only one request at a time may contain an instance.
 * A repeat GuardDuty finding on an instance already being contained, or
 * contained, is appended and reported as a duplicate. Manual and API requests
 * are a responder asking explicitly, so they take the claim regardless.
 */
export async function openIncident(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  request: ResponseRequest,
  now: string,
): Promise<IncidentClaim> {
  const key = { pk: incidentId, sk: INCIDENT_SK };
  const delivery = {
    requestId: request.requestId,
    source: request.source,
    receivedAt: now,
    findingId: request.finding?.id ?? null,
    findingType: request.finding?.type ?? null,
    findingUpdatedAt: request.finding?.updatedAt ?? null,
    requestedBy: request.requestedBy,
  };
  // One item per delivery, idempotent per request id: the incident item stays small however often a finding repeats.
  let newDelivery = true;
  try {
    await ddb.send(
      new PutCommand({
        TableName: table,
        Item: { pk: incidentId, sk: deliverySk(request.requestId), ...delivery },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    // Already recorded by an earlier attempt of this same request.
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    newDelivery = false;
  }
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression:
        'SET target = if_not_exists(target, :target), createdAt = if_not_exists(createdAt, :now), ' +
        'updatedAt = :now, #status = if_not_exists(#status, :open)' +
        (newDelivery ? ' ADD deliveryCount :one' : ''),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':target': request.target,
        ':now': now,
        ':open': 'open',
        ...(newDelivery ? { ':one': 1 } : {}),
      },
    }),
  );

  const force = request.source === 'manual' || request.source === 'api';
  const stale = new Date(Date.parse(now) - STALE_CLAIM_MS).toISOString();
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        // previousStatus lets a request whose capture fails give the incident back as it found it.
        UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil',
        ...(force
          ? {}
          : {
              ConditionExpression:
                'attribute_not_exists(activeRequestId) OR activeRequestId = :req OR #status IN (:failed, :exempt, :released) ' +
                'OR (#status = :open AND claimedAt < :stale AND attribute_not_exists(claimHeldUntil)) ' +
                'OR (#status = :open AND claimHeldUntil < :stale)',
            }),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':req': request.requestId,
          ':now': now,
          ':open': 'open',
          ...(force ? {} : { ':failed': 'failed', ':exempt': 'exempt', ':released': 'released', ':stale': stale }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const deliveries = Number(out.Attributes?.deliveryCount ?? 1);
    const original = out.Attributes?.originalBeforeStateKey;
    return {
      claimed: true,
      ownerRequestId: request.requestId,
      status: 'open',
      deliveries,
      ...(typeof original === 'string' ? { originalBeforeStateKey: original } : {}),
    };
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    const current = await ddb.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return {
      claimed: false,
      ownerRequestId: String(current.Item?.activeRequestId ?? ''),
      status: String(current.Item?.status ?? 'open'),
      deliveries: Number(current.Item?.deliveryCount ?? 0),
    };
  }
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
        Item: { pk: incidentId, sk: responseSk(requestId), responseId: requestId, ...item },
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

/** Set fields on a response item, creating it if it does not exist yet (UpdateItem never replaces what it doesn't name). */
export async function updateResponse(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  fields: Record<string, unknown>,
  now: string,
  /** Fields set only where the item doesn't have them yet (`if_not_exists`). */
  defaults: Record<string, unknown> = {},
): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':now': now, ':rid': requestId };
  const entries = [...Object.entries(fields).map(([k, v]) => [k, v, false] as const), ...Object.entries(defaults).map(([k, v]) => [k, v, true] as const)];
  const sets = entries.map(([k, v, onlyIfMissing], i) => {
    names[`#f${i}`] = k;
    values[`:v${i}`] = v;
    return onlyIfMissing ? `#f${i} = if_not_exists(#f${i}, :v${i})` : `#f${i} = :v${i}`;
  });
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: incidentId, sk: responseSk(requestId) },
      UpdateExpression: `SET ${[...sets, 'updatedAt = :now', 'responseId = :rid'].join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
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
  await updateResponse(ddb, table, incidentId, requestId, fields, now);
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

/**
 * Hold this request's claim on the incident until `until` (a response waiting at the approval gate):
 * a repeat finding meanwhile is appended as a duplicate, not taken for an abandoned claim. Only its own claim.
 */
export async function holdClaim(ddb: DynamoDBDocumentClient, table: string, incidentId: string, requestId: string, until: string): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: incidentId, sk: INCIDENT_SK },
        UpdateExpression: 'SET claimHeldUntil = :until',
        ConditionExpression: 'activeRequestId = :req',
        ExpressionAttributeValues: { ':until': until, ':req': requestId },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    return false;
  }
}

/**
 * A request whose capture failed gives its claim back (status `failed`), or every later finding on the
 * instance would be treated as a repeat until the claim went stale. Only its own claim: never another's.
 */
export async function releaseClaim(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  now: string,
): Promise<void> {
  const current = await ddb.send(new GetCommand({ TableName: table, Key: { pk: incidentId, sk: INCIDENT_SK }, ConsistentRead: true }));
  const previous = current.Item?.previousStatus;
  // An incident that was contained stays contained when a responder's re-run fails to capture; a new one is failed.
  const status = typeof previous === 'string' && previous !== 'open' ? previous : 'failed';
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: incidentId, sk: INCIDENT_SK },
        UpdateExpression: 'SET #status = :status, updatedAt = :now REMOVE activeRequestId',
        ConditionExpression: 'activeRequestId = :req',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':now': now, ':req': requestId },
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err; // someone else owns it: leave it
  }
}

/**
 * Remember the first before-state captured while the instance was still untouched by cordon. A later
 * response (a responder re-running containment) captures cordon's own isolation as its "before": release
 * must restore this one instead.
 */
export async function recordOriginalBeforeState(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  key: string,
): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: incidentId, sk: INCIDENT_SK },
      UpdateExpression: 'SET originalBeforeStateKey = if_not_exists(originalBeforeStateKey, :key), originalRequestId = if_not_exists(originalRequestId, :req)',
      ExpressionAttributeValues: { ':key': key, ':req': requestId },
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

export interface FoundResponse {
  readonly incidentId: string;
  /** The RESPONSE item (request, before-state, actions, outcome, evidence pointers). */
  readonly item: Record<string, unknown>;
}

/**
 * Find a response by its id through the `byResponseId` index. The index is eventually
 * consistent: a response started a moment ago may not be there yet (undefined).
 */
export async function findResponse(
  ddb: DynamoDBDocumentClient,
  table: string,
  responseId: string,
): Promise<FoundResponse | undefined> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: table,
      IndexName: RESPONSE_INDEX,
      KeyConditionExpression: 'responseId = :rid',
      ExpressionAttributeValues: { ':rid': responseId },
      Limit: 2,
    }),
  );
  const item = out.Items?.find((i) => String(i.sk).startsWith('RESPONSE#'));
  if (!item) return undefined;
  return { incidentId: String(item.pk), item };
}
