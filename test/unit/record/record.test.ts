import { createHash } from 'node:crypto';
import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/record/handler';
import type { EvidenceResult, OutcomeResult, RecordDeps } from '../../../lambdas/record/record';
import type { Log } from '../../../lambdas/shared/handler';
import type { ResponseRequestInput } from '../../../lambdas/shared/schemas';
import type { BeforeSummary } from '../../../lambdas/shared/workflow';
import { awsError, testClientFactory, type TestClientFactory } from '../../support/clients';
import { emptyPlan, fullPlan } from '../../support/plan';

const ec2Mock = mockClient(EC2Client);
const ddbMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const TABLE = 'cordon-ledger';
const BUCKET = 'cordon-evidence-111122223333';
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:cordon-notifications`;
const EXECUTION = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-response:req-1`;
const NOW = new Date('2025-06-01T12:05:00.000Z');
const PREFIX = `incidents/${INCIDENT}/responses/req-1/`;
const ISOLATION_SG = 'sg-0aaaaaaaaaaaaaa02';

const request = (): ResponseRequestInput => ({
  requestId: 'req-1',
  source: 'guardduty',
  target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE },
  reason: 'GuardDuty finding above threshold',
  requestedBy: 'cordon-intake',
});

function beforeSummary(extra: Partial<BeforeSummary> = {}): BeforeSummary {
  return {
    incidentId: INCIDENT,
    exempt: false,
    duplicate: false,
    ownerRequestId: 'req-1',
    incidentStatus: 'open',
    deliveries: 1,
    instanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
    findingId: null,
    autoScalingGroupName: null,
    profile: null,
    interfaces: [],
    volumes: [],
    settleSeconds: 10,
    plan: fullPlan(),
    beforeStateKey: `${PREFIX}before-state.json`,
    ...extra,
  };
}

const ISOLATED = { action: 'isolate', status: 'attempted', interfaces: [{ networkInterfaceId: 'eni-0000000000000000a', status: 'isolated' }] };
const QUARANTINED = { action: 'quarantineRole', status: 'succeeded' };
const QUARANTINE_FAILED = { action: 'quarantineRole', status: 'failed', error: 'AccessDenied', cause: 'not authorized to perform iam:PutRolePolicy' };
const FLOW_LOGS = { action: 'flowLogs', status: 'succeeded' };
const SNAPSHOTS = {
  action: 'snapshot',
  status: 'started',
  pollSeconds: 120,
  snapshots: [{ snapshotId: 'snap-0aaaaaaaaaaaaaaa1' }, { snapshotId: 'snap-0bbbbbbbbbbbbbbb2' }],
};
const PROTECTED = { autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'enabled' } };

const outcomeEvent = (state: Record<string, unknown>) => ({ step: 'outcome', executionArn: EXECUTION, state });

let factory: TestClientFactory;
let log: Log & { warn: jest.Mock };
let deps: RecordDeps;

function awsWorks(): void {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            State: { Name: 'running', Code: 16 },
            NetworkInterfaces: [{ NetworkInterfaceId: 'eni-0000000000000000a', Groups: [{ GroupId: ISOLATION_SG }] }],
          },
        ],
      },
    ],
  });
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
  // The incident as a first claim left it: status open, nothing before it.
  ddbMock.on(GetCommand).resolves({ Item: { pk: INCIDENT, sk: 'INCIDENT', status: 'open', previousStatus: 'open', activeRequestId: 'req-1' } });
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
  // The manifest rebuild reads the ledger and the evidence prefix back.
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3Mock.on(HeadObjectCommand).resolves({});
  ddbMock.on(QueryCommand).resolves({ Items: [] });
  ddbMock.on(UpdateCommand).resolves({});
  ddbMock.on(PutCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
}

/** The task result without the AWS call journal the thin handler appends (covered by the journal's own tests). */
function core<T extends object>(result: T): Omit<T, 'awsCalls'> {
  const { awsCalls: _awsCalls, ...rest } = result as T & { awsCalls?: unknown };
  return rest;
}

/** Rebuild the `SET #fN = :vN` fields of a recordResponseOutcome update. */
function fieldsOf(input: UpdateCommandInput | undefined): Record<string, unknown> {
  const names = input?.ExpressionAttributeNames ?? {};
  const values = input?.ExpressionAttributeValues ?? {};
  return Object.fromEntries(Object.entries(names).map(([alias, field]) => [field, values[`:v${alias.slice(2)}`]]));
}

function published() {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]?.args[0].input;
  return { input, message: JSON.parse(input?.Message ?? 'null') };
}

beforeEach(() => {
  ec2Mock.reset();
  ddbMock.reset();
  s3Mock.reset();
  snsMock.reset();
  factory = testClientFactory();
  log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  deps = { factory, config: { ledgerTable: TABLE, evidenceBucket: BUCKET, topicArn: TOPIC }, log, now: () => NOW };
});

describe('record step "outcome"', () => {
  it('publishes "[cordon] partially-contained: …" naming the failed action, with the outcome attribute', async () => {
    // Prepare
    awsWorks();
    const handler = createHandler(() => deps);

    // Act
    const result = (await handler(
      outcomeEvent({ request: request(), before: beforeSummary(), protect: PROTECTED, branches: [ISOLATED, QUARANTINE_FAILED, FLOW_LOGS, SNAPSHOTS] }),
    )) as OutcomeResult;

    // Assess
    const { input, message } = published();
    expect(input?.TopicArn).toBe(TOPIC);
    expect(input?.Subject).toBe(`[cordon] partially-contained: ${INSTANCE} in ${ACCOUNT}/${REGION}`);
    expect(input?.MessageAttributes).toEqual({ outcome: { DataType: 'String', StringValue: 'partially-contained' } });
    expect(message.outcome).toBe('partially-contained');
    expect(message.failures).toEqual([
      { action: 'quarantineRole', error: 'AccessDenied', cause: 'not authorized to perform iam:PutRolePolicy' },
    ]);
    expect(message.summary).toContain('quarantineRole failed');
    expect(result).toMatchObject({ incidentId: INCIDENT, outcome: 'partially-contained' });
  });

  it('writes the outcome to the response item and the incident status to the ledger', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    await handler(outcomeEvent({ request: request(), before: beforeSummary(), protect: PROTECTED, branches: [ISOLATED, QUARANTINE_FAILED, FLOW_LOGS, SNAPSHOTS] }));

    expect(ddbMock).toHaveReceivedNthCommandWith(1, UpdateCommand, { TableName: TABLE, Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' } });
    const fields = fieldsOf(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input);
    expect(fields).toMatchObject({
      status: 'partially-contained',
      outcome: 'partially-contained',
      executionArn: EXECUTION,
      recordedAt: NOW.toISOString(),
      snapshotIds: ['snap-0aaaaaaaaaaaaaaa1', 'snap-0bbbbbbbbbbbbbbb2'],
    });
    expect((fields.actions as Array<{ action: string; status: string }>).map(({ action, status }) => ({ action, status }))).toEqual([
      { action: 'isolate', status: 'succeeded' },
      { action: 'quarantineRole', status: 'failed' },
      { action: 'flowLogs', status: 'succeeded' },
      { action: 'snapshot', status: 'succeeded' },
    ]);
    // Details travel with each action (release reads them), without the per-task AWS call journals.
    expect((fields.actions as Array<{ detail: unknown }>)[0]?.detail).toMatchObject({ action: 'isolate', status: 'attempted' });
    expect(JSON.stringify(fields.actions)).not.toContain('awsCalls');
    expect(ddbMock).toHaveReceivedNthCommandWith(2, UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      ExpressionAttributeValues: { ':status': 'partially-contained', ':now': NOW.toISOString(), ':req': 'req-1' },
    });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeNames: { '#name': 'outcome' } });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeNames: { '#name': 'afterState' } });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('captures the after-state and writes both evidence documents with matching SHA-256 checksums', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    await handler(outcomeEvent({ request: request(), before: beforeSummary(), protect: PROTECTED, branches: [ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS] }));

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: [INSTANCE] });
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([
      `${PREFIX}after-state.json`,
      `${PREFIX}outcome.json`,
      `incidents/${INCIDENT}/manifest.json`,
    ]);
    for (const put of puts) {
      expect(put.Bucket).toBe(BUCKET);
      expect(put.ChecksumAlgorithm).toBe('SHA256');
      expect(put.ChecksumSHA256).toBe(createHash('sha256').update(put.Body as Buffer).digest('base64'));
    }
    // The manifest is rebuilt from the ledger and the bucket before anyone is notified.
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, { TableName: TABLE, ExpressionAttributeValues: { ':pk': INCIDENT } });
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: BUCKET, Prefix: `incidents/${INCIDENT}/` });
    const manifestPut = s3Mock.commandCalls(PutObjectCommand)[2];
    const publish = snsMock.commandCalls(PublishCommand)[0];
    expect(manifestPut && publish && manifestPut.calledBefore(publish)).toBe(true);
    const after = JSON.parse((puts[0]?.Body as Buffer).toString('utf8'));
    expect(after.networkInterfaces).toEqual([{ networkInterfaceId: 'eni-0000000000000000a', groupIds: [ISOLATION_SG] }]);
  });

  it('asks the workflow to await the started snapshots', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    const result = (await handler(
      outcomeEvent({ request: request(), before: beforeSummary(), protect: PROTECTED, branches: [ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS] }),
    )) as OutcomeResult;

    expect(core(result)).toEqual({
      incidentId: INCIDENT,
      outcome: 'contained',
      summary: 'all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot',
      failures: [],
      awaitSnapshots: true,
      snapshotIds: ['snap-0aaaaaaaaaaaaaaa1', 'snap-0bbbbbbbbbbbbbbb2'],
      snapshotPollSeconds: 120,
    });
    expect(published().input?.Subject).toBe(`[cordon] contained: ${INSTANCE} in ${ACCOUNT}/${REGION}`);
  });

  it('still records and notifies when the after-state cannot be captured, and writes the gap down', async () => {
    // Prepare
    awsWorks();
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', { message: 'not authorized' }));
    const handler = createHandler(() => deps);

    // Act
    const result = (await handler(
      outcomeEvent({ request: request(), before: beforeSummary(), protect: PROTECTED, branches: [ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS] }),
    )) as OutcomeResult;

    // Assess
    expect(result.outcome).toBe('contained');
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      `${PREFIX}outcome.json`,
      `incidents/${INCIDENT}/manifest.json`,
    ]);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' } });
    expect(ddbMock).not.toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeNames: { '#name': 'afterState' } });
    const { message } = published();
    expect(message.evidence.afterState).toEqual({ status: 'not-captured', error: 'UnauthorizedOperation', cause: 'not authorized' });
    expect(log.warn).toHaveBeenCalledWith('after-state not captured', expect.objectContaining({ error: 'UnauthorizedOperation' }));
  });

  it('records an invalid request as a REJECTED ledger item and a failed notification, with no target access', async () => {
    // Prepare
    awsWorks();
    const handler = createHandler(() => deps);
    const hostile = { ...request(), target: { accountId: ACCOUNT, region: REGION, instanceId: 'i-;rm -rf /' } };

    // Act
    const result = (await handler(
      outcomeEvent({ request: hostile, failure: { Error: 'InvalidRequestError', Cause: 'target.instanceId: must be an EC2 instance id' } }),
    )) as OutcomeResult;

    // Assess
    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
    const item = ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({
      pk: 'REJECTED',
      executionArn: EXECUTION,
      outcome: 'failed',
      recordedAt: NOW.toISOString(),
      failures: [{ action: 'captureBeforeState', error: 'InvalidRequestError', cause: 'target.instanceId: must be an EC2 instance id' }],
    });
    expect(String(item?.sk)).toMatch(new RegExp(`^${NOW.toISOString()}#[0-9a-f]{16}$`));
    const { input } = published();
    expect(input?.Subject).toBe('[cordon] failed: invalid response request');
    expect(input?.MessageAttributes?.outcome?.StringValue).toBe('failed');
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(factory.targetCalls).toHaveLength(0);
    expect(result).toMatchObject({ incidentId: null, outcome: 'failed', awaitSnapshots: false });
  });

  it('writes a failed response item when capture failed before the item existed', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    await handler(outcomeEvent({ request: request(), failure: { Error: 'InstanceNotFoundError', Cause: 'instance is terminated' } }));

    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
    // An update, not a put: if capture got as far as writing the response item, its before-state stays.
    const responseUpdate = ddbMock
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .find((i) => i.Key?.sk === 'RESPONSE#req-1' && i.UpdateExpression?.includes('if_not_exists'));
    expect(responseUpdate?.Key).toEqual({ pk: INCIDENT, sk: 'RESPONSE#req-1' });
    const values = Object.values(responseUpdate?.ExpressionAttributeValues ?? {});
    expect(values).toContain('failed');
    expect(values).toContainEqual(expect.objectContaining({ requestId: 'req-1' }));
    expect(responseUpdate?.UpdateExpression).toMatch(/#f\d+ = if_not_exists\(#f\d+, :v\d+\)/);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' }, ConditionExpression: 'activeRequestId = :req' });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' }, UpdateExpression: 'SET evidence.#name = :e' });
    expect(published().input?.Subject).toBe(`[cordon] failed: ${INSTANCE} in ${ACCOUNT}/${REGION}`);
  });

  it('still notifies, naming the gap, when the manifest cannot be written; and the snapshots are still awaited', async () => {
    awsWorks();
    s3Mock.on(ListObjectsV2Command).rejects(awsError('AccessDenied', { message: 'not authorized to list the evidence bucket' }));
    const handler = createHandler(() => deps);

    const result = (await handler(outcomeEvent({ request: request(), failure: { Error: 'InstanceNotFoundError', Cause: 'instance is terminated' } }))) as OutcomeResult;

    const { message } = published();
    expect(message.evidence.manifest).toEqual({
      key: `incidents/${INCIDENT}/manifest.json`,
      status: 'not-written',
      error: 'AccessDenied',
      cause: 'not authorized to list the evidence bucket',
    });
    expect(result.outcome).toBe('failed');
    expect(log.error).toHaveBeenCalledWith('manifest not written', expect.objectContaining({ incidentId: INCIDENT, error: 'AccessDenied' }));
  });

  it('gives a contained incident back as contained when a responder re-run fails to capture', async () => {
    awsWorks();
    ddbMock.on(GetCommand).resolves({ Item: { pk: INCIDENT, sk: 'INCIDENT', status: 'open', previousStatus: 'contained', activeRequestId: 'req-1' } });
    const handler = createHandler(() => deps);

    await handler(outcomeEvent({ request: request(), failure: { Error: 'AssumeRoleError', Cause: 'Cannot assume CordonResponder' } }));

    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      ConditionExpression: 'activeRequestId = :req',
      ExpressionAttributeValues: expect.objectContaining({ ':status': 'contained', ':req': 'req-1' }),
    });
  });

  it('releases the incident claim when capture failed after claiming it, so later findings are contained', async () => {
    // Prepare: CaptureBeforeState claimed the incident (activeRequestId = req-1), then failed
    awsWorks();
    const handler = createHandler(() => deps);

    // Act
    await handler(outcomeEvent({ request: request(), failure: { Error: 'AssumeRoleError', Cause: 'Cannot assume CordonResponder' } }));

    // Assess: the INCIDENT item no longer says "open" with this request active; otherwise every
    // GuardDuty finding on this instance is treated as a duplicate for an hour and never contained
    const incidentUpdates = ddbMock
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.Key?.sk === 'INCIDENT');
    expect(incidentUpdates).toHaveLength(1);
    expect(Object.values(incidentUpdates[0]?.ExpressionAttributeValues ?? {})).toContain('failed');
  });

  it('does not overwrite the owning request\'s incident status when recording a duplicate delivery', async () => {
    // Prepare: req-0 owns containment; this delivery was appended to the incident and routed to RecordOutcome
    awsWorks();
    const handler = createHandler(() => deps);
    const duplicate = beforeSummary({
      duplicate: true,
      ownerRequestId: 'req-0',
      plan: emptyPlan(),
    });

    // Act
    const result = (await handler(outcomeEvent({ request: request(), before: duplicate }))) as OutcomeResult;

    // Assess
    expect(result.outcome).toBe('duplicate');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(ddbMock).not.toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' } });
    expect(published().input?.MessageAttributes?.outcome?.StringValue).toBe('duplicate');
  });

  it('records and notifies an exempt instance without touching it', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    const result = (await handler(outcomeEvent({ request: request(), before: beforeSummary({ exempt: true }) }))) as OutcomeResult;

    expect(result.outcome).toBe('exempt');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      ExpressionAttributeValues: { ':status': 'exempt', ':now': NOW.toISOString(), ':req': 'req-1' },
    });
    const { input } = published();
    expect(input?.Subject).toBe(`[cordon] exempt: ${INSTANCE} in ${ACCOUNT}/${REGION}`);
    expect(input?.MessageAttributes?.outcome?.StringValue).toBe('exempt');
  });

  it('lets an SNS throttle surface as TransientAwsError for a retry', async () => {
    awsWorks();
    snsMock.on(PublishCommand).rejects(awsError('Throttling'));
    const handler = createHandler(() => deps);

    await expect(
      handler(outcomeEvent({ request: request(), before: beforeSummary(), protect: PROTECTED, branches: [ISOLATED, QUARANTINED] })),
    ).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});

describe('record step "evidence"', () => {
  const evidenceEvent = (snapshotProgress: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
    step: 'evidence',
    executionArn: EXECUTION,
    state: {
      request: request(),
      before: beforeSummary(),
      outcome: { incidentId: INCIDENT, outcome: 'contained', snapshotIds: ['snap-0aaaaaaaaaaaaaaa1'] },
      ...(snapshotProgress ? { snapshotProgress } : {}),
      ...extra,
    },
  });

  it('records completed snapshots without notifying', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    const result = (await handler(
      evidenceEvent({ done: true, timedOut: false, snapshots: [{ snapshotId: 'snap-0aaaaaaaaaaaaaaa1', state: 'completed' }] }),
    )) as EvidenceResult;

    expect(core(result)).toEqual({ snapshots: 'completed', failed: [] });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' },
      ExpressionAttributeValues: expect.objectContaining({
        ':s': [{ snapshotId: 'snap-0aaaaaaaaaaaaaaa1', state: 'completed' }],
        ':st': 'completed',
        ':f': [],
        ':now': NOW.toISOString(),
      }),
    });
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, { Key: `incidents/${INCIDENT}/manifest.json` });
    expect(snsMock).not.toHaveReceivedAnyCommand();
  });

  it('notifies "evidence incomplete" when a snapshot failed or the wait cap was reached', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    const result = (await handler(
      evidenceEvent({ done: true, timedOut: true, snapshots: [{ snapshotId: 'snap-0aaaaaaaaaaaaaaa1', state: 'pending' }] }),
    )) as EvidenceResult;

    expect(result.snapshots).toBe('incomplete');
    expect(result.failed).toEqual([
      'snap-0aaaaaaaaaaaaaaa1: pending',
      'the snapshot wait cap was reached before every snapshot completed',
    ]);
    const { input } = published();
    expect(input?.Subject).toBe(`[cordon] evidence incomplete: ${INSTANCE}`);
    expect(input?.MessageAttributes).toEqual({ outcome: { DataType: 'String', StringValue: 'evidence-incomplete' } });
  });

  it('treats a failed CheckSnapshots task as incomplete evidence', async () => {
    awsWorks();
    const handler = createHandler(() => deps);

    const result = (await handler(
      evidenceEvent(undefined, { snapshotFailure: { Error: 'AssumeRoleError', Cause: 'cannot assume' } }),
    )) as EvidenceResult;

    expect(core(result)).toEqual({ snapshots: 'incomplete', failed: ['snapshots: AssumeRoleError: cannot assume'] });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});
