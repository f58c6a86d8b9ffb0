/**
 * The ledger's records of cordon's own security groups (docs/design.md §3.3), in the incident ledger's table
 * (lambdas/shared/ledger.ts; apart from it to keep each file short):
 *
 *   pk = "groups-<account>-<region>", sk = "GROUP#<vpcId>#<purpose>"   the group cordon created for that VPC and purpose
 *
 * The only way cordon knows a security group is its own. Tags and names in a member account are that
 * account's to write, so they never decide which group cordon opens to everything or strips of its rules.
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type GroupPurpose = 'untrack' | 'isolation';

export const groupsPk = (accountId: string, region: string): string => `groups-${accountId}-${region}`;
export const groupSk = (vpcId: string, purpose: GroupPurpose): string => `GROUP#${vpcId}#${purpose}`;

export interface GroupRecord {
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly purpose: GroupPurpose;
  readonly groupId: string;
  readonly groupName: string;
  readonly createdAt: string;
  /** The incident (and request) whose containment created it. */
  readonly incidentId: string;
  readonly requestId: string;
}

function asGroupRecord(item: Record<string, unknown> | undefined): GroupRecord | undefined {
  if (!item || typeof item.groupId !== 'string' || typeof item.vpcId !== 'string') return undefined;
  if (item.purpose !== 'untrack' && item.purpose !== 'isolation') return undefined;
  return {
    accountId: String(item.accountId ?? ''),
    region: String(item.region ?? ''),
    vpcId: item.vpcId,
    purpose: item.purpose,
    groupId: item.groupId,
    groupName: String(item.groupName ?? ''),
    createdAt: String(item.createdAt ?? ''),
    incidentId: String(item.incidentId ?? ''),
    requestId: String(item.requestId ?? ''),
  };
}

/** The group recorded for (account, region, VPC, purpose), read consistently; undefined when cordon never made one. */
export async function getGroupRecord(
  ddb: DynamoDBDocumentClient,
  table: string,
  key: { accountId: string; region: string; vpcId: string; purpose: GroupPurpose },
): Promise<GroupRecord | undefined> {
  const out = await ddb.send(
    new GetCommand({ TableName: table, Key: { pk: groupsPk(key.accountId, key.region), sk: groupSk(key.vpcId, key.purpose) }, ConsistentRead: true }),
  );
  return asGroupRecord(out.Item);
}

/**
 * Record a group cordon just created. Conditional: only where nothing is recorded yet, or (`replacing`) where the
 * record still names the group found deleted. When another execution recorded first, its record is returned
 * (`winner`) and nothing is written.
 */
export async function recordGroup(
  ddb: DynamoDBDocumentClient,
  table: string,
  record: GroupRecord,
  replacing?: string,
): Promise<{ recorded: true } | { recorded: false; winner: GroupRecord }> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: table,
        Item: { pk: groupsPk(record.accountId, record.region), sk: groupSk(record.vpcId, record.purpose), ...record },
        ...(replacing
          ? { ConditionExpression: 'groupId = :old', ExpressionAttributeValues: { ':old': replacing } }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
    return { recorded: true };
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    const winner = await getGroupRecord(ddb, table, record);
    if (!winner) throw err;
    return { recorded: false, winner };
  }
}

/** Every item of one ledger partition, read consistently, every page. */
export async function partitionItems(ddb: DynamoDBDocumentClient, table: string, pk: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true, ExclusiveStartKey }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** Every group cordon recorded in the account and region (all VPCs, both purposes). */
export async function recordedGroups(
  ddb: DynamoDBDocumentClient,
  table: string,
  accountId: string,
  region: string,
): Promise<GroupRecord[]> {
  const items = await partitionItems(ddb, table, groupsPk(accountId, region));
  return items.map(asGroupRecord).filter((r): r is GroupRecord => r !== undefined);
}
