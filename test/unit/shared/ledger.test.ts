import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { holdClaim, INCIDENT_SK, incidentIdFor, openIncident, releaseClaim, STALE_CLAIM_MS } from '../../../lambdas/shared/ledger';
import type { ResponseRequest } from '../../../lambdas/shared/schemas';
import { awsError, FAKE_CREDENTIALS, HUB_REGION, rejectionOf } from '../../support/clients';

const ddbMock = mockClient(DynamoDBDocumentClient);

const TABLE = 'cordon-ledger';
const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';
const NOW = '2025-06-01T12:00:00.000Z';
const KEY = { pk: INCIDENT, sk: INCIDENT_SK };
const CLAIM_CONDITION =
  'attribute_not_exists(activeRequestId) OR activeRequestId = :req OR #status IN (:failed, :exempt, :released) ' +
  'OR (#status = :open AND claimedAt < :stale AND attribute_not_exists(claimHeldUntil)) ' +
  'OR (#status = :open AND claimHeldUntil < :stale)';

const FINDING = {
  id: 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7',
  type: 'Backdoor:EC2/C&CActivity.B!DNS',
  severity: 8,
  title: 'Command and Control server domain name queried.',
  updatedAt: '2025-06-01T11:59:00.000Z',
};

function request(source: ResponseRequest['source'], requestId = 'req-1'): ResponseRequest {
  return {
    requestId,
    source,
    target: TARGET,
    ...(source === 'guardduty' || source === 'securityhub' ? { finding: FINDING } : {}),
    actions: ['isolate', 'flowLogs', 'snapshot', 'quarantineRole'],
    reason: 'test',
    requestedBy: source === 'manual' ? 'alice@example.com' : 'cordon-intake',
  };
}

const ddb = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }));
const updates = () => ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input);
const conditionalCheckFailed = () => awsError('ConditionalCheckFailedException', { message: 'The conditional request failed' });

beforeEach(() => {
  ddbMock.reset();
});

describe('incidentIdFor', () => {
  it('derives one incident per account, region and instance', () => {
    expect(incidentIdFor(TARGET)).toBe(INCIDENT);
  });
});

describe('openIncident', () => {
  it('records the delivery as its own item once per request id, counts it, then claims the incident conditionally (GuardDuty)', async () => {
    // Prepare
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(UpdateCommand).resolves({ Attributes: { deliveryCount: 2 } });

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('guardduty'), NOW);

    // Assess: first the delivery item (the incident item stays small however often a finding repeats)
    expect(ddbMock).toHaveReceivedNthCommandWith(1, PutCommand, {
      TableName: TABLE,
      Item: {
        pk: INCIDENT,
        sk: 'DELIVERY#req-1',
        requestId: 'req-1',
        source: 'guardduty',
        receivedAt: NOW,
        findingId: FINDING.id,
        findingType: FINDING.type,
        findingUpdatedAt: FINDING.updatedAt,
        requestedBy: 'cordon-intake',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    const [append, claimUpdate] = updates();
    expect(append).toEqual({
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET target = if_not_exists(target, :target), createdAt = if_not_exists(createdAt, :now), ' +
        'updatedAt = :now, #status = if_not_exists(#status, :open) ADD deliveryCount :one',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':target': TARGET, ':now': NOW, ':open': 'open', ':one': 1 },
    });
    // Then the claim, conditional
    expect(claimUpdate).toEqual({
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil',
      ConditionExpression: CLAIM_CONDITION,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':req': 'req-1',
        ':now': NOW,
        ':open': 'open',
        ':failed': 'failed',
        ':exempt': 'exempt',
        ':released': 'released',
        ':stale': new Date(Date.parse(NOW) - STALE_CLAIM_MS).toISOString(),
      },
      ReturnValues: 'ALL_NEW',
    });
    expect(claimUpdate?.ExpressionAttributeValues?.[':stale']).toBe('2025-06-01T11:00:00.000Z');
    expect(ddbMock).not.toHaveReceivedCommand(GetCommand);
    expect(claim).toEqual({ claimed: true, ownerRequestId: 'req-1', status: 'open', deliveries: 2 });
  });

  it('claims conditionally for Security Hub too', async () => {
    ddbMock.on(UpdateCommand).resolves({ Attributes: {} });

    await openIncident(ddb(), TABLE, INCIDENT, request('securityhub'), NOW);

    expect(updates()[1]?.ConditionExpression).toBe(CLAIM_CONDITION);
  });

  it.each(['manual', 'api'] as const)('takes the claim with no condition for a %s request', async (source) => {
    // Prepare
    ddbMock.on(UpdateCommand).resolves({ Attributes: { deliveryCount: 1 } });

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request(source), NOW);

    // Assess
    const claimUpdate = updates()[1];
    expect(claimUpdate).toEqual({
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':req': 'req-1', ':now': NOW, ':open': 'open' },
      ReturnValues: 'ALL_NEW',
    });
    expect(claimUpdate).not.toHaveProperty('ConditionExpression');
    // The delivery still records who asked, and no finding
    expect(ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input.Item)).toEqual([
      {
        pk: INCIDENT,
        sk: 'DELIVERY#req-1',
        requestId: 'req-1',
        source,
        receivedAt: NOW,
        findingId: null,
        findingType: null,
        findingUpdatedAt: null,
        requestedBy: source === 'manual' ? 'alice@example.com' : 'cordon-intake',
      },
    ]);
    expect(claim.claimed).toBe(true);
  });

  it('tolerates a delivery already recorded (a retried request): no second count, and still claims', async () => {
    // Prepare: the retried request's delivery item is already there
    ddbMock.on(PutCommand).rejects(conditionalCheckFailed());
    ddbMock.on(UpdateCommand).resolves({ Attributes: { deliveryCount: 1 } });

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('guardduty'), NOW);

    // Assess
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(updates()[0]?.UpdateExpression).not.toContain('deliveryCount');
    expect(updates()[0]?.ExpressionAttributeValues).not.toHaveProperty(':one');
    expect(updates()[0]?.UpdateExpression).toBe(
      'SET target = if_not_exists(target, :target), createdAt = if_not_exists(createdAt, :now), updatedAt = :now, #status = if_not_exists(#status, :open)',
    );
    expect(claim).toEqual({ claimed: true, ownerRequestId: 'req-1', status: 'open', deliveries: 1 });
  });

  it('rethrows any other delivery error without claiming', async () => {
    ddbMock.on(PutCommand).rejects(awsError('ProvisionedThroughputExceededException'));

    const err = await rejectionOf(openIncident(ddb(), TABLE, INCIDENT, request('guardduty'), NOW));

    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('reports a lost claim with the owner and status, read strongly consistently', async () => {
    // Prepare: another request is containing this instance
    ddbMock
      .on(UpdateCommand, { UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil' })
      .rejects(conditionalCheckFailed());
    ddbMock.on(GetCommand).resolves({
      Item: { ...KEY, activeRequestId: 'req-0', status: 'contained', deliveryCount: 3 },
    });

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('guardduty', 'req-7'), NOW);

    // Assess
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: TABLE, Key: KEY, ConsistentRead: true });
    expect(ddbMock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({ TableName: TABLE, Key: KEY, ConsistentRead: true });
    expect(claim).toEqual({ claimed: false, ownerRequestId: 'req-0', status: 'contained', deliveries: 3 });
  });

  it('rethrows a claim error other than the condition', async () => {
    ddbMock
      .on(UpdateCommand, { UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil' })
      .rejects(awsError('AccessDeniedException'));

    const err = await rejectionOf(openIncident(ddb(), TABLE, INCIDENT, request('guardduty'), NOW));

    expect(err.name).toBe('AccessDeniedException');
    expect(ddbMock).not.toHaveReceivedCommand(GetCommand);
  });

  it('counts one delivery and no original before-state when the claim returns no attributes', async () => {
    // Prepare
    ddbMock.on(UpdateCommand).resolves({});

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('guardduty'), NOW);

    // Assess
    expect(claim).toEqual({ claimed: true, ownerRequestId: 'req-1', status: 'open', deliveries: 1 });
    expect(claim).not.toHaveProperty('originalBeforeStateKey');
  });

  it('returns the original before-state key the incident remembers (a responder re-running containment)', async () => {
    // Prepare
    ddbMock.on(UpdateCommand).resolves({ Attributes: { deliveryCount: 4, originalBeforeStateKey: 'before/inc/req-0.json' } });

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('manual', 'req-9'), NOW);

    // Assess
    expect(claim).toEqual({
      claimed: true,
      ownerRequestId: 'req-9',
      status: 'open',
      deliveries: 4,
      originalBeforeStateKey: 'before/inc/req-0.json',
    });
  });

  it('ignores an original before-state key that is not a string', async () => {
    // Prepare: an odd item
    ddbMock.on(UpdateCommand).resolves({ Attributes: { deliveryCount: 1, originalBeforeStateKey: 42 } });

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('api'), NOW);

    // Assess
    expect(claim).toEqual({ claimed: true, ownerRequestId: 'req-1', status: 'open', deliveries: 1 });
    expect(claim).not.toHaveProperty('originalBeforeStateKey');
  });

  it('reports a lost claim on an incident item that has gone: no owner, open, no deliveries', async () => {
    // Prepare
    ddbMock
      .on(UpdateCommand, { UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil' })
      .rejects(conditionalCheckFailed());
    ddbMock.on(GetCommand).resolves({});

    // Act
    const claim = await openIncident(ddb(), TABLE, INCIDENT, request('guardduty', 'req-7'), NOW);

    // Assess
    expect(claim).toEqual({ claimed: false, ownerRequestId: '', status: 'open', deliveries: 0 });
  });
});

describe('holdClaim', () => {
  const UNTIL = '2025-06-01T12:30:00.000Z';

  it('holds its own claim until the given time, conditionally', async () => {
    // Prepare
    ddbMock.on(UpdateCommand).resolves({});

    // Act
    const held = await holdClaim(ddb(), TABLE, INCIDENT, 'req-1', UNTIL);

    // Assess
    expect(held).toBe(true);
    expect(updates()).toEqual([
      {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression: 'SET claimHeldUntil = :until',
        ConditionExpression: 'activeRequestId = :req',
        ExpressionAttributeValues: { ':until': UNTIL, ':req': 'req-1' },
      },
    ]);
  });

  it("returns false when the claim is another request's", async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());

    const held = await holdClaim(ddb(), TABLE, INCIDENT, 'req-1', UNTIL);

    expect(held).toBe(false);
  });

  it('rethrows any other error', async () => {
    const denied = awsError('AccessDeniedException');
    ddbMock.on(UpdateCommand).rejects(denied);

    const err = await rejectionOf(holdClaim(ddb(), TABLE, INCIDENT, 'req-1', UNTIL));

    expect(err).toBe(denied);
  });
});

describe('releaseClaim', () => {
  const releaseUpdate = (status: string) => ({
    TableName: TABLE,
    Key: KEY,
    UpdateExpression: 'SET #status = :status, updatedAt = :now REMOVE activeRequestId',
    ConditionExpression: 'activeRequestId = :req',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': status, ':now': NOW, ':req': 'req-1' },
  });

  it('gives a new incident back as failed, reading the previous status strongly consistently', async () => {
    // Prepare
    ddbMock.on(GetCommand).resolves({ Item: { ...KEY, activeRequestId: 'req-1', status: 'open', previousStatus: 'open' } });
    ddbMock.on(UpdateCommand).resolves({});

    // Act
    await releaseClaim(ddb(), TABLE, INCIDENT, 'req-1', NOW);

    // Assess
    expect(ddbMock.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([{ TableName: TABLE, Key: KEY, ConsistentRead: true }]);
    expect(updates()).toEqual([releaseUpdate('failed')]);
  });

  it('restores the previous status of an incident that was contained', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { ...KEY, activeRequestId: 'req-1', status: 'open', previousStatus: 'contained' } });
    ddbMock.on(UpdateCommand).resolves({});

    await releaseClaim(ddb(), TABLE, INCIDENT, 'req-1', NOW);

    expect(updates()).toEqual([releaseUpdate('contained')]);
  });

  it.each([
    ['no incident item', {}],
    ['no previous status', { Item: { ...KEY, activeRequestId: 'req-1', status: 'open' } }],
    ['a previous status that is not a string', { Item: { ...KEY, activeRequestId: 'req-1', status: 'open', previousStatus: 7 } }],
  ])('releases as failed with %s', async (_label, got) => {
    ddbMock.on(GetCommand).resolves(got);
    ddbMock.on(UpdateCommand).resolves({});

    await releaseClaim(ddb(), TABLE, INCIDENT, 'req-1', NOW);

    expect(updates()).toEqual([releaseUpdate('failed')]);
  });

  it("leaves another request's claim alone", async () => {
    ddbMock.on(GetCommand).resolves({ Item: { ...KEY, activeRequestId: 'req-2', status: 'open', previousStatus: 'contained' } });
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());

    await expect(releaseClaim(ddb(), TABLE, INCIDENT, 'req-1', NOW)).resolves.toBeUndefined();

    expect(updates()).toEqual([releaseUpdate('contained')]);
  });

  it('rethrows any other error', async () => {
    const denied = awsError('AccessDeniedException');
    ddbMock.on(GetCommand).resolves({ Item: { ...KEY, activeRequestId: 'req-1', previousStatus: 'open' } });
    ddbMock.on(UpdateCommand).rejects(denied);

    const err = await rejectionOf(releaseClaim(ddb(), TABLE, INCIDENT, 'req-1', NOW));

    expect(err).toBe(denied);
  });
});
