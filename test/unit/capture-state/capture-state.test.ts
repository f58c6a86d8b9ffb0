import { createHash } from 'node:crypto';
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type GetCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { approvalFromEnv, createHandler } from '../../../lambdas/capture-state/handler';
import { approvalPlan, captureBeforeState, NO_EXEMPTIONS, type CaptureDeps, type Exemptions } from '../../../lambdas/capture-state/capture-state';
import { ACTIONS, GATED_ACTIONS } from '../../../lambdas/shared/actions';
import { InstanceNotFoundError, InvalidRequestError } from '../../../lambdas/shared/errors';
import type { ResponseRequestInput } from '../../../lambdas/shared/schemas';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';
import { emptyPlan, fullPlan, planOf } from '../../support/plan';

const ec2Mock = mockClient(EC2Client);
const asMock = mockClient(AutoScalingClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const TABLE = 'cordon-ledger';
const BUCKET = 'cordon-evidence-111122223333';
const NOW = new Date('2025-06-01T12:00:00.000Z');
const KEY = `incidents/${INCIDENT}/responses/req-1/before-state.json`;
const VPC = 'vpc-0aaaaaaaaaaaaaaa1';
const ENI_0 = 'eni-0000000000000000a';
const ENI_1 = 'eni-1111111111111111b';
const SG_WEB = 'sg-0aaaaaaaaaaaaaa01';
const SG_SSH = 'sg-0aaaaaaaaaaaaaa02';
const SG_DB = 'sg-0aaaaaaaaaaaaaa03';
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;

const request = (extra: Partial<ResponseRequestInput> = {}): ResponseRequestInput => ({
  requestId: 'req-1',
  source: 'guardduty',
  target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE },
  finding: {
    id: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4',
    type: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    title: 'EC2 instance is querying a C&C domain',
    updatedAt: '2025-06-01T11:59:00.000Z',
  },
  reason: 'GuardDuty finding above threshold',
  requestedBy: 'cordon-intake',
  ...extra,
});

/** A running, dual-ENI instance; the ENIs come back from EC2 in reverse device order. */
function instance(extra: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running', Code: 16 },
    Tags: [
      { Key: 'Name', Value: 'web-1' },
      { Key: 'aws:autoscaling:groupName', Value: 'web-asg' },
    ],
    NetworkInterfaces: [
      {
        NetworkInterfaceId: ENI_1,
        VpcId: VPC,
        SubnetId: 'subnet-0aaaaaaaaaaaaaaa2',
        PrivateIpAddress: '10.0.2.10',
        Attachment: { DeviceIndex: 1 },
        Groups: [{ GroupId: SG_DB, GroupName: 'db' }],
        Ipv6Addresses: [],
        SourceDestCheck: true,
      },
      {
        NetworkInterfaceId: ENI_0,
        VpcId: VPC,
        SubnetId: 'subnet-0aaaaaaaaaaaaaaa1',
        PrivateIpAddress: '10.0.1.10',
        Attachment: { DeviceIndex: 0 },
        Groups: [
          { GroupId: SG_WEB, GroupName: 'web' },
          { GroupId: SG_SSH, GroupName: 'ssh' },
        ],
        Ipv6Addresses: [{ Ipv6Address: '2001:db8::10' }],
        SourceDestCheck: true,
        ConnectionTrackingConfiguration: { TcpEstablishedTimeout: 350, UdpStreamTimeout: 180, UdpTimeout: 30 },
      },
    ],
    BlockDeviceMappings: [
      { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-0aaaaaaaaaaaaaaa1', DeleteOnTermination: true } },
      { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-0bbbbbbbbbbbbbbb2', DeleteOnTermination: false } },
    ],
    ...extra,
  };
}

/**
 * A small fake ledger. The INCIDENT item takes the delivery, then the claim (a conditional update that
 * fails when another request owns containment); the RESPONSE item is written once.
 */
function ledger(
  options: {
    claimOwner?: string;
    firstResponse?: Record<string, unknown>;
    /** The security groups cordon recorded in this account and region (lambdas/shared/group-records.ts). */
    groups?: Array<{ vpcId: string; purpose: string; groupId: string }>;
    originalBeforeStateKey?: string;
  } = {},
): void {
  ddbMock.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    if (input.UpdateExpression?.startsWith('SET activeRequestId')) {
      if (options.claimOwner) return Promise.reject(awsError('ConditionalCheckFailedException'));
      return Promise.resolve({
        Attributes: { status: 'open', activeRequestId: 'req-1', deliveryCount: 2, originalBeforeStateKey: options.originalBeforeStateKey },
      });
    }
    return Promise.resolve({});
  });
  ddbMock.on(GetCommand).callsFake((input: GetCommandInput) => {
    if (input.Key?.sk === 'INCIDENT') {
      return Promise.resolve({ Item: { activeRequestId: options.claimOwner, status: 'contained', deliveryCount: 3 } });
    }
    return Promise.resolve({ Item: options.firstResponse });
  });
  ddbMock
    .on(QueryCommand, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `groups-${ACCOUNT}-${REGION}` } })
    .resolves({
      Items: (options.groups ?? []).map((g) => ({ pk: `groups-${ACCOUNT}-${REGION}`, sk: `GROUP#${g.vpcId}#${g.purpose}`, ...g })),
    });
  ddbMock.on(PutCommand).callsFake((input: { Item?: { sk?: string } }) =>
    options.firstResponse && input.Item?.sk?.startsWith('RESPONSE#')
      ? Promise.reject(awsError('ConditionalCheckFailedException'))
      : Promise.resolve({}),
  );
}

function awsHas(found: Instance | undefined = instance()): void {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: found ? [{ Instances: [found] }] : [] });
  ec2Mock
    .on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' })
    .resolves({ InstanceId: INSTANCE, DisableApiTermination: { Value: false } });
  ec2Mock
    .on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' })
    .resolves({ InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
    IamInstanceProfileAssociations: [
      { AssociationId: 'iip-assoc-0123456789abcdef0', InstanceId: INSTANCE, State: 'associated', IamInstanceProfile: { Arn: PROFILE_ARN, Id: 'AIPAEXAMPLE' } },
    ],
  });
  asMock.on(DescribeAutoScalingInstancesCommand).resolves({
    AutoScalingInstances: [
      { InstanceId: INSTANCE, AutoScalingGroupName: 'web-asg', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService', HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false },
    ],
  });
  ledger();
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
}

/** Nothing of this response was written: no response item, no evidence object. */
function noResponseWritten(): void {
  expect(ddbMock).not.toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ sk: 'RESPONSE#req-1' }) });
  expect(ddbMock).not.toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' } });
  expect(s3Mock).not.toHaveReceivedAnyCommand();
}

let factory: TestClientFactory;
let deps: CaptureDeps;

beforeEach(() => {
  ec2Mock.reset();
  asMock.reset();
  ddbMock.reset();
  s3Mock.reset();
  factory = testClientFactory();
  deps = {
    factory,
    config: {
      ledgerTable: TABLE,
      evidenceBucket: BUCKET,
      exemptions: NO_EXEMPTIONS,
      settleSeconds: 10,
      partition: 'aws',
    },
    now: () => NOW,
  };
});

function noAwsCallAtAll(): void {
  expect(ec2Mock).not.toHaveReceivedAnyCommand();
  expect(asMock).not.toHaveReceivedAnyCommand();
  expect(ddbMock).not.toHaveReceivedAnyCommand();
  expect(s3Mock).not.toHaveReceivedAnyCommand();
}

describe('captureBeforeState: refusals', () => {
  it('rejects a hostile instance id with InvalidRequestError and makes no AWS call at all', async () => {
    const hostile = request({ target: { accountId: ACCOUNT, region: REGION, instanceId: 'i-1234567$(curl evil)' } });

    const err = await rejectionOf(captureBeforeState(hostile, deps));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.message).toContain('target.instanceId');
    noAwsCallAtAll();
    expect(factory.targetCalls).toHaveLength(0);
  });

  it('rejects the same hostile request through the handler, by name', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(
      handler({ request: request({ target: { accountId: ACCOUNT, region: REGION, instanceId: 'i-../../etc/passwd' } }) }),
    );

    expect(err.name).toBe('InvalidRequestError');
    noAwsCallAtAll();
  });

  it('turns InvalidInstanceID.NotFound into InstanceNotFoundError', async () => {
    awsHas();
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));

    const err = await rejectionOf(captureBeforeState(request(), deps));

    expect(err).toBeInstanceOf(InstanceNotFoundError);
    expect(err.name).toBe('InstanceNotFoundError');
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: [INSTANCE] });
    noResponseWritten();
  });

  it.each(['terminated', 'shutting-down'] as const)('refuses a %s instance with InstanceNotFoundError and writes no response or evidence', async (state) => {
    awsHas(instance({ State: { Name: state, Code: 48 } }));

    const err = await rejectionOf(captureBeforeState(request(), deps));

    expect(err).toBeInstanceOf(InstanceNotFoundError);
    expect(err.message).toContain(state);
    noResponseWritten();
  });

  it('lets a throttled DescribeInstances surface as TransientAwsError through the handler', async () => {
    awsHas();
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded'));
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ request: request() }));

    expect(err.name).toBe('TransientAwsError');
    noResponseWritten();
  });
});

describe('captureBeforeState: happy path', () => {
  it('writes the before-state to S3 with a SHA-256 checksum that matches the body', async () => {
    // Prepare
    awsHas();

    // Act
    await captureBeforeState(request(), deps);

    // Assess
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, Key: KEY, ChecksumAlgorithm: 'SHA256', ContentType: 'application/json' });
    const body = put?.Body as Buffer;
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(put?.ChecksumSHA256).toBe(createHash('sha256').update(body).digest('base64'));
    const document = JSON.parse(body.toString('utf8'));
    expect(document).toMatchObject({
      capturedAt: NOW.toISOString(),
      target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE },
      instanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
      state: 'running',
      tags: { Name: 'web-1', 'aws:autoscaling:groupName': 'web-asg' },
      attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
      autoScaling: { groupName: 'web-asg', lifecycleState: 'InService' },
      iamInstanceProfile: { associationId: 'iip-assoc-0123456789abcdef0', arn: PROFILE_ARN, state: 'associated' },
      volumes: [
        { volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda', deleteOnTermination: true },
        { volumeId: 'vol-0bbbbbbbbbbbbbbb2', deviceName: '/dev/sdf', deleteOnTermination: false },
      ],
    });
    expect(document.networkInterfaces.map((n: { networkInterfaceId: string }) => n.networkInterfaceId)).toEqual([ENI_0, ENI_1]);
  });

  it('describes everything release needs', async () => {
    awsHas();

    await captureBeforeState(request(), deps);

    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeInstancesCommand, { InstanceIds: [INSTANCE] });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstanceAttributeCommand, { InstanceId: INSTANCE, Attribute: 'disableApiTermination' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstanceAttributeCommand, {
      InstanceId: INSTANCE,
      Attribute: 'instanceInitiatedShutdownBehavior',
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeIamInstanceProfileAssociationsCommand, {
      Filters: [
        { Name: 'instance-id', Values: [INSTANCE] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    });
    expect(asMock).toHaveReceivedCommandWith(DescribeAutoScalingInstancesCommand, { InstanceIds: [INSTANCE] });
    expect(factory.targetCalls).toEqual([
      { target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE }, sessionName: 'cordon-req-1' },
    ]);
  });

  it('appends the delivery and claims the incident BEFORE touching the target', async () => {
    // Prepare
    awsHas();

    // Act
    await captureBeforeState(request(), deps);

    // Assess: the delivery, its own item, written once per request id
    expect(ddbMock).toHaveReceivedNthCommandWith(1, PutCommand, {
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({
        pk: INCIDENT,
        sk: 'DELIVERY#req-1',
        requestId: 'req-1',
        source: 'guardduty',
        findingId: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4',
        receivedAt: NOW.toISOString(),
      }),
    });
    // Assess: the incident upserted and counted
    expect(ddbMock).toHaveReceivedNthCommandWith(2, UpdateCommand, { TableName: TABLE, Key: { pk: INCIDENT, sk: 'INCIDENT' } });
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input.UpdateExpression).toContain('ADD deliveryCount :one');
    // Assess: the claim, conditional for a GuardDuty delivery
    expect(ddbMock).toHaveReceivedNthCommandWith(3, UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      UpdateExpression: 'SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil',
    });
    const claim = ddbMock.commandCalls(UpdateCommand)[1];
    expect(claim?.args[0].input.ConditionExpression).toContain('attribute_not_exists(activeRequestId)');
    expect(claim?.args[0].input.ExpressionAttributeValues?.[':req']).toBe('req-1');
    // Assess: both before any EC2 or Auto Scaling call
    const firstDescribe = ec2Mock.commandCalls(DescribeInstancesCommand)[0];
    expect(claim && firstDescribe && claim.calledBefore(firstDescribe)).toBe(true);
  });

  it('lets a manual request take the claim unconditionally', async () => {
    awsHas();

    await captureBeforeState(request({ source: 'manual' }), deps);

    const claim = ddbMock.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(claim?.UpdateExpression).toBe('SET activeRequestId = :req, claimedAt = :now, previousStatus = #status, #status = :open REMOVE claimHeldUntil');
    expect(claim?.ConditionExpression).toBeUndefined();
  });

  it('writes the response item once (conditional), then S3, then points the ledger at the evidence', async () => {
    // Prepare
    awsHas();

    // Act
    await captureBeforeState(request(), deps);

    // Assess: ledger order after the claim
    expect(ddbMock).toHaveReceivedNthCommandWith(4, QueryCommand, {
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `groups-${ACCOUNT}-${REGION}` },
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(5, PutCommand, {
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const item = ddbMock.commandCalls(PutCommand)[1]?.args[0].input.Item;
    expect(item).toMatchObject({
      pk: INCIDENT,
      sk: 'RESPONSE#req-1',
      status: 'in-progress',
      startedAt: NOW.toISOString(),
      beforeStateKey: KEY,
      before: {
        attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
        autoScaling: { groupName: 'web-asg' },
      },
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(6, UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' },
      UpdateExpression: 'SET evidence.#name = :e',
      ExpressionAttributeNames: { '#name': 'beforeState' },
    });
    const evidence = ddbMock.commandCalls(UpdateCommand)[2]?.args[0].input.ExpressionAttributeValues?.[':e'];
    const body = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body as Buffer;
    expect(evidence).toEqual({
      bucket: BUCKET,
      key: KEY,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
      versionId: 'v1',
    });
    // delivery, incident, claim, cordon's recorded groups, conditional put, evidence pointer, and the incident's original
    // before-state (instance untouched by cordon)
    expect(ddbMock.calls()).toHaveLength(7);
    expect(ddbMock.calls()[6]?.args[0].input).toMatchObject({
      Key: { sk: 'INCIDENT' },
      UpdateExpression: 'SET originalBeforeStateKey = if_not_exists(originalBeforeStateKey, :key), originalRequestId = if_not_exists(originalRequestId, :req)',
    });
    // S3 lands between the conditional put and the evidence pointer
    const condPut = ddbMock.commandCalls(PutCommand)[1];
    const s3Put = s3Mock.commandCalls(PutObjectCommand)[0];
    const pointer = ddbMock.commandCalls(UpdateCommand)[2];
    expect(condPut && s3Put && condPut.calledBefore(s3Put)).toBe(true);
    expect(s3Put && pointer && s3Put.calledBefore(pointer)).toBe(true);
  });

  it('returns a small summary: ENIs sorted by device index with their groups and conntrack timeout', async () => {
    awsHas();

    const summary = await captureBeforeState(request(), deps);

    expect(summary).toEqual({
      incidentId: INCIDENT,
      exempt: false,
      exemption: null,
      duplicate: false,
      ownerRequestId: 'req-1',
      incidentStatus: 'open',
      deliveries: 2,
      instanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
      findingId: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4',
      autoScalingGroupName: 'web-asg',
      profile: { associationId: 'iip-assoc-0123456789abcdef0', arn: PROFILE_ARN },
      interfaces: [
        { networkInterfaceId: ENI_0, vpcId: VPC, deviceIndex: 0, groupIds: [SG_WEB, SG_SSH], ipv6: true, tcpEstablishedTimeout: 350 },
        { networkInterfaceId: ENI_1, vpcId: VPC, deviceIndex: 1, groupIds: [SG_DB], ipv6: false, tcpEstablishedTimeout: null },
      ],
      volumes: [
        { volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda' },
        { volumeId: 'vol-0bbbbbbbbbbbbbbb2', deviceName: '/dev/sdf' },
      ],
      settleSeconds: 10,
      plan: fullPlan(),
      beforeStateKey: KEY,
    });
  });

  it('plans only the requested actions', async () => {
    awsHas();

    const summary = await captureBeforeState(request({ actions: ['isolate', 'snapshot'] }), deps);

    expect(summary.plan).toEqual(planOf('isolate', 'snapshot'));
  });

  it('reports no profile and no Auto Scaling group when there are none', async () => {
    awsHas();
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });

    const summary = await captureBeforeState(request(), deps);

    expect(summary.profile).toBeNull();
    expect(summary.autoScalingGroupName).toBeNull();
  });
});

describe('captureBeforeState: exemption (hub configuration only)', () => {
  const exempting = (exemptions: Partial<Exemptions>): CaptureDeps => ({
    ...deps,
    config: { ...deps.config, exemptions: { ...NO_EXEMPTIONS, ...exemptions } },
  });
  const responseItem = () =>
    ddbMock.commandCalls(PutCommand).find((c) => (c.args[0].input.Item as { sk?: string } | undefined)?.sk === 'RESPONSE#req-1')?.args[0].input
      .Item as Record<string, unknown> | undefined;

  it.each([
    ['accounts', { accounts: [ACCOUNT] }, ACCOUNT],
    ['instanceIds', { instanceIds: [INSTANCE] }, INSTANCE],
    ['autoScalingGroups', { autoScalingGroups: [`${ACCOUNT}/web-asg`] }, `${ACCOUNT}/web-asg`],
  ] as const)('exempts by %s: evidence planned, nothing disruptive, and still records it', async (field, exemptions, value) => {
    awsHas();

    const summary = await captureBeforeState(request(), exempting(exemptions));

    expect(summary.exempt).toBe(true);
    expect(summary.exemption).toEqual({ field, value, overridden: false, overriddenBy: null, overriddenBySource: null });
    expect(summary.plan).toEqual(planOf('flowLogs', 'snapshot'));
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' } });
    expect(responseItem()?.exemption).toEqual(summary.exemption);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });

  it('plans only the evidence the request asked for', async () => {
    awsHas();

    const summary = await captureBeforeState(request({ actions: ['isolate', 'snapshot'] }), exempting({ accounts: [ACCOUNT] }));

    expect(summary.plan).toEqual(planOf('snapshot'));
  });

  it('reads the Auto Scaling group from AWS membership: the same name in another account, or a tag naming the group, exempts nothing', async () => {
    awsHas(instance({ Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'exempt-asg' }] }));

    const summary = await captureBeforeState(
      request(),
      exempting({ autoScalingGroups: ['999988887777/web-asg', `${ACCOUNT}/exempt-asg`] }),
    );

    expect(summary.exempt).toBe(false);
    expect(summary.exemption).toBeNull();
    expect(summary.plan).toEqual(fullPlan());
  });

  it('ignores a cordon:exempt=true tag: the member account can write tags, so the instance is contained', async () => {
    awsHas(instance({ Tags: [{ Key: 'cordon:exempt', Value: 'true' }] }));

    const summary = await captureBeforeState(request(), deps);

    expect(summary.exempt).toBe(false);
    expect(summary.exemption).toBeNull();
    expect(summary.plan).toEqual(fullPlan());
  });

  it.each(['manual', 'api'] as const)('a responder\'s %s request overrides the exemption and records who overrode it', async (source) => {
    awsHas();

    const summary = await captureBeforeState(request({ source, requestedBy: 'arn:aws:iam::444455556666:role/responder' }), exempting({ instanceIds: [INSTANCE] }));

    expect(summary.exempt).toBe(false);
    expect(summary.plan).toEqual(fullPlan());
    const overridden = {
      field: 'instanceIds',
      value: INSTANCE,
      overridden: true,
      overriddenBy: 'arn:aws:iam::444455556666:role/responder',
      overriddenBySource: source,
    };
    expect(summary.exemption).toEqual(overridden);
    expect(responseItem()?.exemption).toEqual(overridden);
  });

  it('a Security Hub request does not override it', async () => {
    awsHas();

    const summary = await captureBeforeState(request({ source: 'securityhub' }), exempting({ accounts: [ACCOUNT] }));

    expect(summary.exempt).toBe(true);
    expect(summary.exemption?.overridden).toBe(false);
  });
});

describe('captureBeforeState: retried capture', () => {
  /** What the first capture stored: the ENI was still in its ORIGINAL group then. */
  const firstItem = (evidence: Record<string, unknown>) => ({
    pk: INCIDENT,
    sk: 'RESPONSE#req-1',
    beforeStateKey: KEY,
    evidence,
    before: {
      attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'stop' },
      autoScaling: { groupName: 'web-asg', lifecycleState: 'InService' },
      iamInstanceProfile: { associationId: 'iip-assoc-0aaaaaaaaaaaaaaa1', arn: PROFILE_ARN, state: 'associated' },
      networkInterfaces: [
        { networkInterfaceId: ENI_0, vpcId: VPC, deviceIndex: 0, groupIds: ['sg-0111111111111111a'], ipv6: false, tcpEstablishedTimeout: 432000 },
      ],
      volumes: [{ volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda', deleteOnTermination: true }],
      tags: {},
    },
  });

  it('returns the FIRST before-state from the ledger, not what it sees now, and does not rewrite S3', async () => {
    // Prepare: the instance is already half-contained (isolation group, no profile, not in the ASG)
    awsHas(
      instance({
        NetworkInterfaces: [
          { NetworkInterfaceId: ENI_0, VpcId: VPC, Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: 'sg-0cccccccccccccccc' }] },
        ],
      }),
    );
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    ledger({ firstResponse: firstItem({ beforeState: { key: KEY, sha256: 'abc', size: 10 } }) });

    // Act
    const summary = await captureBeforeState(request(), deps);

    // Assess
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' },
      ConsistentRead: true,
    });
    expect(summary.interfaces).toEqual([
      { networkInterfaceId: ENI_0, vpcId: VPC, deviceIndex: 0, groupIds: ['sg-0111111111111111a'], ipv6: false, tcpEstablishedTimeout: 432000 },
    ]);
    expect(summary.profile).toEqual({ associationId: 'iip-assoc-0aaaaaaaaaaaaaaa1', arn: PROFILE_ARN });
    expect(summary.autoScalingGroupName).toBe('web-asg');
    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(ddbMock).not.toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeNames: { '#name': 'beforeState' } });
  });

  it('still lands the S3 document when the first attempt crashed between the ledger and S3 writes', async () => {
    awsHas();
    ledger({ firstResponse: firstItem({}) });

    await captureBeforeState(request(), deps);

    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: BUCKET, Key: KEY });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeNames: { '#name': 'beforeState' } });
  });
});

describe('captureBeforeState: another request owns the incident', () => {
  it('reports a duplicate with an all-false plan and never touches the target', async () => {
    // Prepare: req-0 is containing this instance right now
    awsHas();
    ledger({ claimOwner: 'req-0' });

    // Act
    const summary = await captureBeforeState(request(), deps);

    // Assess
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: TABLE, Key: { pk: INCIDENT, sk: 'INCIDENT' }, ConsistentRead: true });
    expect(summary).toMatchObject({
      incidentId: INCIDENT,
      duplicate: true,
      exempt: false,
      ownerRequestId: 'req-0',
      incidentStatus: 'contained',
      deliveries: 3,
      plan: emptyPlan(),
      interfaces: [],
      beforeStateKey: `incidents/${INCIDENT}/responses/req-0/before-state.json`,
    });
    expect(factory.targetCalls).toHaveLength(0);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(asMock).not.toHaveReceivedAnyCommand();
    noResponseWritten();
  });
});

describe('captureBeforeState: the approval gate', () => {
  const PRODUCTION = {
    requiredForTags: [{ key: 'tier', value: 'db' }, { key: 'env', value: 'production' }],
    requiredFor: { accounts: [], instanceIds: [] },
    timeoutSeconds: 900,
    onTimeout: 'deny' as const,
  };
  const BY_TAG = { matchedBy: 'tag', matchedHub: null };
  const tagged = (tags: Array<{ Key: string; Value: string }>) => instance({ Tags: [{ Key: 'Name', Value: 'web-1' }, ...tags] });

  it('requires approval for an instance carrying a configured tag; a tag-selected gate approves on timeout even when deny is configured', async () => {
    awsHas(tagged([{ Key: 'env', Value: 'production' }]));

    const summary = await captureBeforeState(request(), { ...deps, config: { ...deps.config, approval: PRODUCTION } });

    expect(summary.approval).toEqual({
      required: true,
      matchedTag: { key: 'env', value: 'production' },
      ...BY_TAG,
      timeoutSeconds: 900,
      onTimeout: 'approve',
    });
  });

  it.each([
    ['accounts', { accounts: [ACCOUNT], instanceIds: [] }, ACCOUNT],
    ['instanceIds', { accounts: [], instanceIds: [INSTANCE] }, INSTANCE],
  ] as const)('a hub-selected gate (approval.requiredFor.%s) keeps onTimeout deny, tagged or not', async (field, requiredFor, value) => {
    awsHas(tagged([{ Key: 'env', Value: 'production' }]));

    const summary = await captureBeforeState(request(), { ...deps, config: { ...deps.config, approval: { ...PRODUCTION, requiredFor } } });

    expect(summary.approval).toEqual({
      required: true,
      matchedTag: { key: 'env', value: 'production' },
      matchedBy: 'hub',
      matchedHub: { field, value },
      timeoutSeconds: 900,
      onTimeout: 'deny',
    });
  });

  it('matches key and value exactly: another value, or the value under another key, needs no approval', async () => {
    awsHas(tagged([{ Key: 'env', Value: 'Production' }, { Key: 'stage', Value: 'production' }]));

    const summary = await captureBeforeState(request(), { ...deps, config: { ...deps.config, approval: PRODUCTION } });

    expect(summary.approval).toEqual({ required: false, matchedTag: null, matchedBy: null, matchedHub: null, timeoutSeconds: 900, onTimeout: 'approve' });
  });

  it('needs no approval when only evidence is asked for: evidence never waits', async () => {
    awsHas(tagged([{ Key: 'env', Value: 'production' }]));

    const summary = await captureBeforeState(request({ source: 'manual', actions: ['snapshot', 'flowLogs'] }), {
      ...deps,
      config: { ...deps.config, approval: PRODUCTION },
    });

    expect(summary.approval).toMatchObject({ required: false, matchedTag: { key: 'env', value: 'production' } });
  });

  it('needs no approval for a hub-exempt instance: nothing disruptive is planned', async () => {
    awsHas(tagged([{ Key: 'env', Value: 'production' }]));

    const summary = await captureBeforeState(request(), {
      ...deps,
      config: { ...deps.config, approval: PRODUCTION, exemptions: { ...NO_EXEMPTIONS, accounts: [ACCOUNT] } },
    });

    expect(summary.exempt).toBe(true);
    expect(summary.approval?.required).toBe(false);
  });

  it('a cordon:exempt=true tag no longer skips the gate: the tagged instance still waits for approval', async () => {
    awsHas(tagged([{ Key: 'env', Value: 'production' }, { Key: 'cordon:exempt', Value: 'true' }]));

    const summary = await captureBeforeState(request(), { ...deps, config: { ...deps.config, approval: PRODUCTION } });

    expect(summary.exempt).toBe(false);
    expect(summary.approval?.required).toBe(true);
  });

  it('decides from the before-state the ledger kept: a retried capture decides as the first one did', async () => {
    // Prepare: the first capture saw the tag; by the retry someone has removed it
    awsHas(tagged([]));
    ledger({
      firstResponse: {
        before: {
          attributes: {},
          autoScaling: null,
          iamInstanceProfile: null,
          networkInterfaces: [],
          volumes: [],
          tags: { Name: 'web-1', env: 'production' },
        },
        evidence: { beforeState: { key: KEY } },
      },
    });

    const summary = await captureBeforeState(request(), { ...deps, config: { ...deps.config, approval: PRODUCTION } });

    expect(summary.approval?.required).toBe(true);
  });

  it('adds nothing when the gate is not configured', async () => {
    awsHas(tagged([{ Key: 'env', Value: 'production' }]));

    const summary = await captureBeforeState(request(), { ...deps, config: { ...deps.config, approval: { ...PRODUCTION, requiredForTags: [] } } });

    expect(summary.approval).toBeUndefined();
  });
});

describe('approvalPlan', () => {
  const policy = {
    requiredForTags: [{ key: 'env', value: 'production' }],
    requiredFor: { accounts: [], instanceIds: [] },
    timeoutSeconds: 900,
    onTimeout: 'deny' as const,
  };
  const tags = { env: 'production' };
  const target = { accountId: ACCOUNT, instanceId: INSTANCE };

  it('waits when any one gated action is planned alone, and for none of the others', () => {
    const waits = ACTIONS.filter((a) => approvalPlan(target, tags, planOf(a), policy).required);
    expect(waits).toEqual(expect.arrayContaining(['isolate', 'quarantineRole']));
    expect(waits).not.toContain('flowLogs');
    expect(waits).not.toContain('snapshot');
    expect(waits).toEqual([...GATED_ACTIONS]);
  });

  it('waits for every gated action planned together, never for an empty plan or an untagged instance', () => {
    expect(approvalPlan(target, tags, fullPlan(), policy).required).toBe(true);
    expect(approvalPlan(target, tags, emptyPlan(), policy)).toEqual({
      required: false,
      matchedTag: { key: 'env', value: 'production' },
      matchedBy: 'tag',
      matchedHub: null,
      timeoutSeconds: 900,
      onTimeout: 'approve',
    });
    expect(approvalPlan(target, { env: 'staging' }, fullPlan(), policy)).toEqual({
      required: false,
      matchedTag: null,
      matchedBy: null,
      matchedHub: null,
      timeoutSeconds: 900,
      onTimeout: 'approve',
    });
  });

  it('a hub selector wins over a tag and keeps the configured onTimeout; another account or instance is not selected', () => {
    const hub = { ...policy, requiredFor: { accounts: ['999988887777'], instanceIds: [INSTANCE] } };
    expect(approvalPlan(target, tags, fullPlan(), hub)).toMatchObject({ required: true, matchedBy: 'hub', matchedHub: { field: 'instanceIds', value: INSTANCE }, onTimeout: 'deny' });
    expect(approvalPlan({ accountId: '999988887777', instanceId: 'i-0fffffffffffffff0' }, {}, fullPlan(), hub)).toMatchObject({
      required: true,
      matchedHub: { field: 'accounts', value: '999988887777' },
      onTimeout: 'deny',
    });
    expect(approvalPlan({ accountId: '222233334444', instanceId: 'i-0fffffffffffffff0' }, {}, fullPlan(), hub)).toMatchObject({
      required: false,
      matchedBy: null,
      onTimeout: 'approve',
    });
  });
});

describe('approvalFromEnv', () => {
  it('reads the gate the hub stack configures, and no tags means no gate', () => {
    expect(
      approvalFromEnv({ APPROVAL_REQUIRED_FOR_TAGS: '[{"key":"env","value":"production"}]', APPROVAL_TIMEOUT_SECONDS: '600', APPROVAL_ON_TIMEOUT: 'deny' }),
    ).toEqual({ requiredForTags: [{ key: 'env', value: 'production' }], requiredFor: { accounts: [], instanceIds: [] }, timeoutSeconds: 600, onTimeout: 'deny' });
    expect(approvalFromEnv({ APPROVAL_REQUIRED_FOR_TAGS: '[]' })).toBeUndefined();
    expect(
      approvalFromEnv({
        APPROVAL_REQUIRED_FOR_TAGS: '[]',
        APPROVAL_REQUIRED_FOR: `{"accounts":["${ACCOUNT}"],"instanceIds":[]}`,
        APPROVAL_TIMEOUT_SECONDS: '600',
        APPROVAL_ON_TIMEOUT: 'deny',
      }),
    ).toEqual({ requiredForTags: [], requiredFor: { accounts: [ACCOUNT], instanceIds: [] }, timeoutSeconds: 600, onTimeout: 'deny' });
  });

  it('fails loudly on a missing or malformed setting instead of dropping the gate', () => {
    expect(() => approvalFromEnv({})).toThrow('Environment variable APPROVAL_REQUIRED_FOR_TAGS is not set');
    expect(() => approvalFromEnv({ APPROVAL_REQUIRED_FOR_TAGS: '[{"key":"env"}]', APPROVAL_TIMEOUT_SECONDS: '600', APPROVAL_ON_TIMEOUT: 'deny' })).toThrow();
    expect(() =>
      approvalFromEnv({ APPROVAL_REQUIRED_FOR_TAGS: '[{"key":"env","value":"prod"}]', APPROVAL_TIMEOUT_SECONDS: '600', APPROVAL_ON_TIMEOUT: 'maybe' }),
    ).toThrow();
  });
});
