import { createHash } from 'node:crypto';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/release-record/handler';
import { decideRelease, recordRefusal, recordRelease, type RecordReleaseDeps, type ReleaseState } from '../../../lambdas/release-record/release-record';
import { silentLog } from '../../../lambdas/shared/handler';
import type { Containment, ReleaseRequest } from '../../../lambdas/shared/release';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const ddbMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };
const TABLE = 'cordon-ledger';
const BUCKET = 'cordon-evidence-111122223333';
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:cordon`;
const EXECUTION = `arn:aws:states:${REGION}:${ACCOUNT}:execution:cordon-release:rel-1`;
const NOW = new Date('2025-06-02T09:05:00.000Z');
const KEY = `incidents/${INCIDENT}/responses/req-1/before-state.json`;
const RELEASE_KEY = `incidents/${INCIDENT}/releases/rel-1/release.json`;
const ENI_0 = 'eni-0000000000000000a';
const ENI_1 = 'eni-1111111111111111b';
const SG_WEB = 'sg-0aaaaaaaaaaaaaa01';
const SG_DB = 'sg-0aaaaaaaaaaaaaa03';
const SG_ISOLATION = 'sg-0cccccccccccccc01';
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;

const release: ReleaseRequest = {
  releaseId: 'rel-1',
  responseId: 'req-1',
  source: 'manual',
  reason: 'instance rebuilt; forensic image kept',
  requestedBy: 'alice@example.com',
};

const found = {
  capturedAt: '2025-06-02T09:00:00.000Z',
  state: 'running',
  interfaces: [
    { networkInterfaceId: ENI_0, groupIds: [SG_ISOLATION], groupNames: ['cordon-isolation-vpc-0aaaaaaaaaaaaaaa1'], connectionTracking: null },
    { networkInterfaceId: ENI_1, groupIds: [SG_ISOLATION], groupNames: ['cordon-isolation-vpc-0aaaaaaaaaaaaaaa1'], connectionTracking: null },
  ],
  profileAssociations: [],
  attributes: { disableApiTermination: true, instanceInitiatedShutdownBehavior: 'stop' },
};

const iface = (id: string, groups: string[]) => ({
  networkInterfaceId: id,
  vpcId: 'vpc-0aaaaaaaaaaaaaaa1',
  groupIds: groups,
  connectionTracking: null,
  found: { foundIn: 'isolation' as const, groupIds: [SG_ISOLATION], connectionTracking: null },
  isolationGroupId: null,
});

const containment: Containment = {
  incidentId: INCIDENT,
  incidentStatus: 'contained',
  target: TARGET,
  responseId: 'req-1',
  releaseId: 'rel-1',
  instanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
  restoreFrom: { key: KEY, requestId: 'req-1', sha256: 'ab'.repeat(32) },
  interfaces: [iface(ENI_0, [SG_WEB]), iface(ENI_1, [SG_DB])],
  unknownInterfaces: [],
  profile: { arn: PROFILE_ARN },
  roleNames: ['web-role'],
  sessionRevocations: [],
  attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
  volumes: [],
  autoScalingGroupName: 'web-asg',
  targetGroups: [],
  found,
};

const call = { service: 'ec2', operation: 'ModifyNetworkInterfaceAttribute', requestId: 'r-1', at: '2025-06-02T09:01:00.000Z' };
const restored = (id: string) => ({ networkInterfaceId: id, status: 'restored', foundIn: 'isolation', awsCalls: [call] });
const autoScaling = { status: 'not-reattached', groupName: 'web-asg', reason: 'the group launched a replacement' };

const state = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  release,
  containment,
  network: [restored(ENI_0), restored(ENI_1)],
  role: { action: 'restoreRole', status: 'succeeded', awsCalls: [] },
  instance: { action: 'restoreInstance', status: 'succeeded', autoScaling, awsCalls: [] },
  ...extra,
});

/** A Lambda error's Cause as Step Functions hands it over: JSON with the message and a stack trace. */
const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at secret (/var/task/index.js:1:1)'] });

function hubAccepts(): void {
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v-1' });
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
  s3Mock.on(HeadObjectCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({});
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(QueryCommand).callsFake(async (input: QueryCommandInput) =>
    input.IndexName ? { Items: [{ pk: INCIDENT, sk: 'RESPONSE#req-1', responseId: 'req-1' }] } : { Items: [{ pk: INCIDENT, sk: 'INCIDENT', status: 'released' }] },
  );
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
}

function instanceIsBack(): void {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            State: { Name: 'running' },
            NetworkInterfaces: [
              { NetworkInterfaceId: ENI_0, Groups: [{ GroupId: SG_WEB, GroupName: 'web' }] },
              { NetworkInterfaceId: ENI_1, Groups: [{ GroupId: SG_DB, GroupName: 'db' }] },
            ],
          },
        ],
      },
    ],
  });
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
    IamInstanceProfileAssociations: [{ AssociationId: 'iip-assoc-new', IamInstanceProfile: { Arn: PROFILE_ARN }, State: 'associated' }],
  });
  ec2Mock.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: false } });
  ec2Mock.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
}

let factory: TestClientFactory;
const deps = (): RecordReleaseDeps => ({ factory, config: { ledgerTable: TABLE, evidenceBucket: BUCKET, topicArn: TOPIC }, log: silentLog, now: () => NOW });

beforeEach(() => {
  for (const m of [ec2Mock, ddbMock, s3Mock, snsMock]) m.reset();
  factory = testClientFactory();
});

function updateOf(sk: string) {
  return ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input).find((i) => i.Key?.sk === sk);
}

describe('decideRelease', () => {
  const parse = (extra: Record<string, unknown> = {}) => state(extra) as unknown as ReleaseState;

  it('is released only when every ENI, the role and the instance were given back', () => {
    expect(decideRelease(parse())).toEqual({ outcome: 'released', failures: [], summary: expect.stringContaining(`the before-state ${KEY} is restored`) });
    expect(decideRelease(parse({ role: { status: 'not-applicable' } })).outcome).toBe('released');
  });

  it('is partially-released when some part failed, naming it, with causes free of stack traces', () => {
    const decision = decideRelease(
      parse({
        network: [restored(ENI_0), { networkInterfaceId: ENI_1, status: 'failed', error: 'RestoreVerificationError', cause: lambdaCause('RestoreVerificationError', `${ENI_1} has groups [x]`) }],
      }),
    );

    expect(decision).toEqual({
      outcome: 'partially-released',
      failures: [{ part: 'network', error: 'RestoreVerificationError', cause: `${ENI_1} has groups [x]` }],
      summary: `partially-released: network not restored; network (${ENI_0}), role, instance restored`,
    });
  });

  it('is failed when nothing was given back, and counts a missing result as not attempted', () => {
    const decision = decideRelease(
      parse({ network: undefined, role: { status: 'failed', error: 'AssumeRoleError', cause: 'denied' }, instance: { status: 'failed', error: 'AssumeRoleError', cause: 'denied' } }),
    );

    expect(decision.outcome).toBe('failed');
    expect(decision.failures.map((f) => `${f.part}:${f.error}`)).toEqual(['network:NotAttempted', 'network:NotAttempted', 'role:AssumeRoleError', 'instance:AssumeRoleError']);
    expect(decision.summary).toBe('failed: network, role, instance not restored; nothing was given back');
  });
});

describe('recordRelease', () => {
  it('writes the release evidence with its SHA-256, the RELEASE item, the released incident, the manifest, and notifies', async () => {
    hubAccepts();
    instanceIsBack();

    const result = await recordRelease({ step: 'record', executionArn: EXECUTION, state: state() }, deps());

    expect(result).toEqual({ outcome: 'released', summary: expect.stringContaining('released'), failures: [], incidentStatus: 'released' });
    // Evidence: one object for this release, checksummed; then the manifest.
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([RELEASE_KEY, `incidents/${INCIDENT}/manifest.json`]);
    const body = puts[0]?.Body as Buffer;
    expect(puts[0]).toMatchObject({ Bucket: BUCKET, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: createHash('sha256').update(body).digest('base64') });
    const document = JSON.parse(body.toString());
    expect(document).toMatchObject({
      incidentId: INCIDENT,
      releaseId: 'rel-1',
      responseId: 'req-1',
      requestedBy: 'alice@example.com',
      reason: release.reason,
      outcome: 'released',
      restoredFrom: containment.restoreFrom,
      before: found,
      after: {
        capturedAt: NOW.toISOString(),
        interfaces: [
          { networkInterfaceId: ENI_0, groupIds: [SG_WEB] },
          { networkInterfaceId: ENI_1, groupIds: [SG_DB] },
        ],
        profileAssociations: [{ associationId: 'iip-assoc-new', arn: PROFILE_ARN, state: 'associated' }],
        attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
      },
    });
    expect(JSON.stringify(document.results)).not.toContain('awsCalls');
    // Ledger: the RELEASE item (who, why, how, evidence, the AWS calls), then the incident.
    expect(updateOf('RELEASE#rel-1')).toEqual({
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'RELEASE#rel-1' },
      UpdateExpression:
        'SET #status = :outcome, outcome = :outcome, summary = :summary, failures = :failures, results = :results, ' +
        'executionArn = :execution, recordedAt = :now, evidence = :evidence, awsCalls = :calls, releaseId = :rel, releasedResponseId = :rid, request = :request',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: expect.objectContaining({
        ':outcome': 'released',
        ':failures': [],
        ':execution': EXECUTION,
        ':evidence': { release: { bucket: BUCKET, key: RELEASE_KEY, sha256: createHash('sha256').update(body).digest('hex'), size: body.length, versionId: 'v-1' } },
        ':calls': [
          { ...call, step: '$.network[0]' },
          { ...call, step: '$.network[1]' },
        ],
        ':request': release,
      }),
    });
    expect(updateOf('INCIDENT')).toEqual({
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      UpdateExpression:
        'SET #status = :status, updatedAt = :now, lastReleaseId = :rel, releasedAt = :now, releasedBy = :by, releaseReason = :why ' +
        'REMOVE activeReleaseId, originalBeforeStateKey, originalRequestId',
      ConditionExpression: 'activeReleaseId = :rel',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':rel': 'rel-1', ':now': NOW.toISOString(), ':status': 'released', ':by': 'alice@example.com', ':why': release.reason },
    });
    const publish = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish).toMatchObject({ TopicArn: TOPIC, Subject: `[cordon] released: ${INSTANCE} in ${ACCOUNT}/${REGION}`, MessageAttributes: { outcome: { DataType: 'String', StringValue: 'released' } } });
    expect(JSON.parse(publish?.Message ?? '{}')).toMatchObject({ requestedBy: 'alice@example.com', reason: release.reason, notRestored: { autoScaling } });
    expect(factory.targetCalls).toEqual([{ target: TARGET, sessionName: 'cordon-release-rel-1' }]);
  });

  it('leaves a partially-released incident partially-contained, keeping its before-state for the next release', async () => {
    hubAccepts();
    instanceIsBack();

    const result = await recordRelease(
      { step: 'record', executionArn: EXECUTION, state: state({ role: { action: 'restoreRole', status: 'failed', error: 'ProfileConflictError', cause: 'another profile' } }) },
      deps(),
    );

    expect(result).toMatchObject({ outcome: 'partially-released', incidentStatus: 'partially-contained', failures: [{ part: 'role', error: 'ProfileConflictError' }] });
    expect(updateOf('INCIDENT')).toMatchObject({
      UpdateExpression: 'SET #status = :status, updatedAt = :now, lastReleaseId = :rel REMOVE activeReleaseId',
      ConditionExpression: 'activeReleaseId = :rel',
      ExpressionAttributeValues: { ':rel': 'rel-1', ':now': NOW.toISOString(), ':status': 'partially-contained' },
    });
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(`[cordon] release partially-released: ${INSTANCE} in ${ACCOUNT}/${REGION}`);
  });

  it("keeps the incident's status when nothing was given back", async () => {
    hubAccepts();
    instanceIsBack();
    const failed = { status: 'failed', error: 'AssumeRoleError', cause: 'denied' };

    const result = await recordRelease(
      { step: 'record', executionArn: EXECUTION, state: state({ network: [{ networkInterfaceId: ENI_0, ...failed }, { networkInterfaceId: ENI_1, ...failed }], role: failed, instance: failed }) },
      deps(),
    );

    expect(result).toMatchObject({ outcome: 'failed', incidentStatus: 'contained' });
    expect(updateOf('INCIDENT')?.ExpressionAttributeValues).toMatchObject({ ':status': 'contained' });
  });

  it("leaves the incident to its new owner when the lock was taken over, and says so", async () => {
    hubAccepts();
    instanceIsBack();
    ddbMock.on(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' } }).rejects(awsError('ConditionalCheckFailedException'));
    ddbMock.on(GetCommand).resolves({ Item: { status: 'open', activeRequestId: 'req-9', lastReleaseId: 'rel-0' } });

    const result = await recordRelease({ step: 'record', executionArn: EXECUTION, state: state() }, deps());

    expect(result).toMatchObject({ incidentStatus: 'unchanged', failures: [{ part: 'record', error: 'ReleaseLockLost' }] });
    expect(snsMock).toHaveReceivedCommand(PublishCommand);
  });

  it('is idempotent: a retry after the incident was written reports what the first attempt wrote, without a spurious failure', async () => {
    hubAccepts();
    instanceIsBack();
    ddbMock.on(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' } }).rejects(awsError('ConditionalCheckFailedException'));
    ddbMock.on(GetCommand).resolves({ Item: { status: 'released', lastReleaseId: 'rel-1' } });

    const result = await recordRelease({ step: 'record', executionArn: EXECUTION, state: state() }, deps());

    expect(result).toMatchObject({ outcome: 'released', incidentStatus: 'released', failures: [] });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: TABLE, Key: { pk: INCIDENT, sk: 'INCIDENT' }, ConsistentRead: true });
  });

  it('records the release even when the after-state cannot be read', async () => {
    hubAccepts();
    instanceIsBack();
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation'));

    await recordRelease({ step: 'record', executionArn: EXECUTION, state: state() }, deps());

    const document = JSON.parse((s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body as Buffer).toString());
    expect(document.after).toEqual({ status: 'not-captured', error: 'UnauthorizedOperation', cause: 'UnauthorizedOperation (test)' });
    expect(updateOf('INCIDENT')).toBeDefined();
  });

  it('rejects a state without a containment (the handler validates)', async () => {
    const err = await rejectionOf(createHandler(deps)({ step: 'record', executionArn: EXECUTION, state: { release } }));

    expect(err.name).toBe('InvalidRequestError');
    expect(err.message).toMatch(/containment/);
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe('recordRefusal', () => {
  it('records who asked and why it was refused, gives back its own lock, and notifies; stack traces stay out', async () => {
    hubAccepts();

    const result = await recordRefusal(
      {
        step: 'refused',
        executionArn: EXECUTION,
        release,
        failure: { Error: 'IncidentNotContainedError', Cause: lambdaCause('IncidentNotContainedError', `incident ${INCIDENT} is released`) },
      },
      deps(),
    );

    expect(result).toEqual({ outcome: 'refused', error: 'IncidentNotContainedError', cause: `incident ${INCIDENT} is released` });
    expect(ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Item: {
          pk: INCIDENT,
          sk: 'RELEASE#rel-1',
          releaseId: 'rel-1',
          releasedResponseId: 'req-1',
          request: release,
          status: 'refused',
          outcome: 'refused',
          error: 'IncidentNotContainedError',
          cause: `incident ${INCIDENT} is released`,
          summary: 'refused: IncidentNotContainedError: nothing was changed',
          executionArn: EXECUTION,
          recordedAt: NOW.toISOString(),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': 'in-progress' },
      },
    ]);
    expect(updateOf('INCIDENT')).toEqual({
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      UpdateExpression: 'SET updatedAt = :now REMOVE activeReleaseId',
      ConditionExpression: 'activeReleaseId = :rel',
      ExpressionAttributeValues: { ':now': NOW.toISOString(), ':rel': 'rel-1' },
    });
    const publish = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish?.Subject).toBe('[cordon] release refused: req-1');
    expect(publish?.Message).not.toContain('/var/task');
    expect(JSON.parse(publish?.Message ?? '{}')).toMatchObject({ outcome: 'refused', error: 'IncidentNotContainedError', requestedBy: 'alice@example.com' });
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('never overwrites a release that ran, nor another release’s lock', async () => {
    hubAccepts();
    ddbMock.on(PutCommand).rejects(awsError('ConditionalCheckFailedException'));
    ddbMock.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException'));

    const result = await recordRefusal({ step: 'refused', executionArn: EXECUTION, release, failure: { Error: 'ReleaseAlreadyRecordedError', Cause: 'ended' } }, deps());

    expect(result.outcome).toBe('refused');
    expect(snsMock).toHaveReceivedCommand(PublishCommand);
  });

  it('calls a failure that is not a refusal "failed" (nothing was changed either way)', async () => {
    hubAccepts();

    const result = await recordRefusal({ step: 'refused', executionArn: EXECUTION, release, failure: { Error: 'AssumeRoleError', Cause: 'Cannot assume CordonResponder' } }, deps());

    expect(result).toEqual({ outcome: 'failed', error: 'AssumeRoleError', cause: 'Cannot assume CordonResponder' });
    expect(ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ status: 'failed', outcome: 'failed' });
  });

  it('records nothing in the ledger for an invalid request (no incident to attach it to), and still notifies', async () => {
    hubAccepts();

    const result = await recordRefusal(
      { step: 'refused', executionArn: EXECUTION, release: { responseId: 'x; rm -rf /' }, failure: { Error: 'InvalidRequestError', Cause: 'release.releaseId: expected string' } },
      deps(),
    );

    expect(result.outcome).toBe('refused');
    expect(ddbMock.calls()).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe('[cordon] release refused: invalid request');
  });

  it('records nothing in the ledger for a response it cannot find', async () => {
    hubAccepts();
    ddbMock.on(QueryCommand).resolves({ Items: [] });

    await recordRefusal({ step: 'refused', executionArn: EXECUTION, release, failure: { Error: 'ResponseNotFoundError', Cause: 'no response' } }, deps());

    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(snsMock).toHaveReceivedCommand(PublishCommand);
  });
});
