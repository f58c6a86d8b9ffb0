import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/release-load/handler';
import { loadContainment, type LoadDeps } from '../../../lambdas/release-load/release-load';
import { InstanceNotFoundError, InvalidRequestError, TransientAwsError } from '../../../lambdas/shared/errors';
import {
  BeforeStateMissingError,
  IncidentNotContainedError,
  ReleaseAlreadyRecordedError,
  ReleaseInProgressError,
  ResponseNotFoundError,
  type ReleaseRequest,
} from '../../../lambdas/shared/release';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const ddbMock = mockClient(DynamoDBDocumentClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const TABLE = 'cordon-ledger';
const NOW = new Date('2025-06-02T09:00:00.000Z');
const KEY = `incidents/${INCIDENT}/responses/req-1/before-state.json`;
const RERUN_KEY = `incidents/${INCIDENT}/responses/req-2/before-state.json`;
const VPC = 'vpc-0aaaaaaaaaaaaaaa1';
const ENI_0 = 'eni-0000000000000000a';
const ENI_1 = 'eni-1111111111111111b';
const SG_WEB = 'sg-0aaaaaaaaaaaaaa01';
const SG_SSH = 'sg-0aaaaaaaaaaaaaa02';
const SG_DB = 'sg-0aaaaaaaaaaaaaa03';
const SG_ISOLATION = 'sg-0cccccccccccccc01';
const SG_UNTRACK = 'sg-0cccccccccccccc02';
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };
const TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`;

const release: ReleaseRequest = {
  releaseId: 'rel-1',
  responseId: 'req-1',
  source: 'api',
  reason: 'instance rebuilt; forensic image kept',
  requestedBy: 'arn:aws:sts::111122223333:assumed-role/Soar/run-42',
};

const before = {
  attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
  autoScaling: { groupName: 'web-asg', lifecycleState: 'InService' },
  iamInstanceProfile: { associationId: 'iip-assoc-0aaaaaaaaaaaaaaa1', arn: PROFILE_ARN, state: 'associated' },
  networkInterfaces: [
    { networkInterfaceId: ENI_0, vpcId: VPC, deviceIndex: 0, groupIds: [SG_WEB, SG_SSH], ipv6: true, tcpEstablishedTimeout: 350, connectionTracking: { tcpEstablishedTimeout: 350, udpStreamTimeout: 180, udpTimeout: 30 } },
    { networkInterfaceId: ENI_1, vpcId: VPC, deviceIndex: 1, groupIds: [SG_DB], ipv6: false, tcpEstablishedTimeout: null, connectionTracking: null },
  ],
  volumes: [
    { volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda', deleteOnTermination: true },
    { volumeId: 'vol-0bbbbbbbbbbbbbbb2', deviceName: '/dev/sdf', deleteOnTermination: false },
  ],
  tags: { Name: 'web-1' },
};

function items(options: { incident?: Record<string, unknown>; response?: Record<string, unknown>; extra?: Record<string, unknown>[] } = {}) {
  return [
    { pk: INCIDENT, sk: 'INCIDENT', status: 'contained', target: TARGET, originalBeforeStateKey: KEY, originalRequestId: 'req-1', activeRequestId: 'req-1', ...options.incident },
    {
      pk: INCIDENT,
      sk: 'RESPONSE#req-1',
      responseId: 'req-1',
      request: { requestId: 'req-1', target: TARGET },
      beforeStateKey: KEY,
      restoreFrom: KEY,
      startedAt: '2025-06-01T12:00:00.000Z',
      before,
      evidence: { beforeState: { key: KEY, sha256: 'ab'.repeat(32), size: 100 } },
      actions: [
        { action: 'isolate', status: 'succeeded', detail: {} },
        {
          action: 'quarantineRole',
          status: 'succeeded',
          detail: { roleName: 'web-role', sessionsRevoked: { status: 'revoked', issuedBefore: '2025-06-01T12:00:01.000Z' } },
        },
        { action: 'preserve', status: 'succeeded', detail: { targetGroups: { status: 'done', deregistered: [{ targetGroupArn: TG, port: 80, availabilityZone: null }] } } },
      ],
      ...options.response,
    },
    ...GROUP_RECORDS,
    ...(options.extra ?? []),
  ];
}

/** The groups cordon created and recorded for the VPC (lambdas/shared/group-records.ts): the only way it knows them. */
const GROUPS_PK = `groups-${ACCOUNT}-${REGION}`;
const GROUP_RECORDS = [
  { pk: GROUPS_PK, sk: `GROUP#${VPC}#isolation`, vpcId: VPC, purpose: 'isolation', groupId: SG_ISOLATION },
  { pk: GROUPS_PK, sk: `GROUP#${VPC}#untrack`, vpcId: VPC, purpose: 'untrack', groupId: SG_UNTRACK },
];

function ledgerHas(all: Record<string, unknown>[]): void {
  ddbMock.on(QueryCommand).callsFake(async (input: QueryCommandInput) => {
    if (input.IndexName) return { Items: all.filter((i) => i.responseId === input.ExpressionAttributeValues?.[':rid']) };
    return { Items: all.filter((i) => i.pk === input.ExpressionAttributeValues?.[':pk']) };
  });
  ddbMock.on(UpdateCommand).resolves({});
  ddbMock.on(PutCommand).resolves({});
}

/** The instance under containment: ENI 0 in the isolation group, ENI 1 left in the untrack group by a stopped execution. */
function instance(extra: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    State: { Name: 'running', Code: 16 },
    NetworkInterfaces: [
      {
        NetworkInterfaceId: ENI_0,
        VpcId: VPC,
        Groups: [{ GroupId: SG_ISOLATION, GroupName: `cordon-isolation-${VPC}-5f0c1e2a9b3d` }],
        ConnectionTrackingConfiguration: { TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 },
      },
      { NetworkInterfaceId: ENI_1, VpcId: VPC, Groups: [{ GroupId: SG_UNTRACK, GroupName: `cordon-untrack-${VPC}-77aa01bc23de` }] },
    ],
    ...extra,
  };
}

function awsHas(found: Instance | null = instance()): void {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: found ? [{ Instances: [found] }] : [] });
  ec2Mock.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: true } });
  ec2Mock.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
}

let factory: TestClientFactory;
const deps = (): LoadDeps => ({ factory, config: { ledgerTable: TABLE, partition: 'aws' }, now: () => NOW });

beforeEach(() => {
  ec2Mock.reset();
  ddbMock.reset();
  factory = testClientFactory();
});

/** Nothing was written anywhere, and nothing was asked of the target account beyond reads. */
function expectNothingWritten(): void {
  expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
}

describe('loadContainment', () => {
  it('returns what to restore, where each ENI was found, what the incident recorded, and takes the lock', async () => {
    // Prepare
    ledgerHas(items());
    awsHas();

    // Act
    const result = await loadContainment({ release }, deps());

    // Assess
    expect(result).toEqual({
      incidentId: INCIDENT,
      incidentStatus: 'contained',
      target: TARGET,
      responseId: 'req-1',
      releaseId: 'rel-1',
      instanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
      restoreFrom: { key: KEY, requestId: 'req-1', sha256: 'ab'.repeat(32) },
      interfaces: [
        {
          networkInterfaceId: ENI_0,
          vpcId: VPC,
          groupIds: [SG_WEB, SG_SSH].sort(),
          connectionTracking: { tcpEstablishedTimeout: 350, udpStreamTimeout: 180, udpTimeout: 30 },
          found: { foundIn: 'isolation', groupIds: [SG_ISOLATION], connectionTracking: { tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 } },
          isolationGroupId: null,
        },
        {
          networkInterfaceId: ENI_1,
          vpcId: VPC,
          groupIds: [SG_DB],
          connectionTracking: null,
          found: { foundIn: 'untrack', groupIds: [SG_UNTRACK], connectionTracking: null },
          isolationGroupId: SG_ISOLATION,
        },
      ],
      unknownInterfaces: [],
      profile: { arn: PROFILE_ARN },
      roleNames: ['web-role'],
      sessionRevocations: ['2025-06-01T12:00:01.000Z'],
      attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
      volumes: [
        { volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda', deleteOnTermination: true },
        { volumeId: 'vol-0bbbbbbbbbbbbbbb2', deviceName: '/dev/sdf', deleteOnTermination: false },
      ],
      autoScalingGroupName: 'web-asg',
      targetGroups: [{ targetGroupArn: TG, port: 80, availabilityZone: null }],
      found: {
        capturedAt: NOW.toISOString(),
        state: 'running',
        interfaces: [
          {
            networkInterfaceId: ENI_0,
            groupIds: [SG_ISOLATION],
            groupNames: [`cordon-isolation-${VPC}-5f0c1e2a9b3d`],
            connectionTracking: { tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 },
          },
          { networkInterfaceId: ENI_1, groupIds: [SG_UNTRACK], groupNames: [`cordon-untrack-${VPC}-77aa01bc23de`], connectionTracking: null },
        ],
        profileAssociations: [],
        attributes: { disableApiTermination: true, instanceInitiatedShutdownBehavior: 'stop' },
      },
    });
    expect(ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: TABLE, IndexName: 'byResponseId', KeyConditionExpression: 'responseId = :rid', ExpressionAttributeValues: { ':rid': 'req-1' }, Limit: 2 },
      { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': INCIDENT }, ConsistentRead: true, ExclusiveStartKey: undefined },
      { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': GROUPS_PK }, ConsistentRead: true, ExclusiveStartKey: undefined },
    ]);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      UpdateExpression: 'SET activeReleaseId = :rel, releaseClaimedAt = :now',
      ConditionExpression:
        '(#status IN (:contained, :partial) AND attribute_not_exists(activeReleaseId)) OR (#status IN (:contained, :partial) AND activeReleaseId = :rel) ' +
        'OR (#status IN (:contained, :partial) AND releaseClaimedAt < :stale)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':rel': 'rel-1', ':now': NOW.toISOString(), ':stale': '2025-06-02T08:00:00.000Z', ':contained': 'contained', ':partial': 'partially-contained' },
    });
    expect(ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Item: {
          pk: INCIDENT,
          sk: 'RELEASE#rel-1',
          releaseId: 'rel-1',
          releasedResponseId: 'req-1',
          request: release,
          status: 'in-progress',
          startedAt: NOW.toISOString(),
          restoreFrom: KEY,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': 'in-progress' },
      },
    ]);
    // cordon's groups come from the ledger: no security group is looked up in the target account.
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeIamInstanceProfileAssociationsCommand, {
      Filters: [
        { Name: 'instance-id', Values: [INSTANCE] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    });
    expect(factory.targetCalls).toEqual([{ target: TARGET, sessionName: 'cordon-release-rel-1' }]);
  });

  it("restores from the incident's original before-state when the named response is a re-run under cordon's isolation", async () => {
    const rerun = { pk: INCIDENT, sk: 'RESPONSE#req-2', responseId: 'req-2', beforeStateKey: RERUN_KEY, restoreFrom: KEY, before: { ...before, networkInterfaces: [] } };
    ledgerHas(items({ extra: [rerun] }));
    awsHas();

    const result = await loadContainment({ release: { ...release, responseId: 'req-2' } }, deps());

    expect(result.restoreFrom).toEqual({ key: KEY, requestId: 'req-1', sha256: 'ab'.repeat(32) });
    expect(result.interfaces.map((i) => i.groupIds)).toEqual([[SG_WEB, SG_SSH].sort(), [SG_DB]]);
  });

  it("falls back to the response's restoreFrom when the incident names no original", async () => {
    ledgerHas(items({ incident: { originalBeforeStateKey: undefined } }));
    awsHas();

    const result = await loadContainment({ release }, deps());

    expect(result.restoreFrom.key).toBe(KEY);
  });

  it("a foreign group carrying cordon's name (tagged or not) is not cordon's: the ENI is found in 'other', with no isolation group", async () => {
    // Prepare: the ledger records cordon's groups; the ENIs sit in look-alikes the tenant made
    ledgerHas(items());
    awsHas(
      instance({
        NetworkInterfaces: [
          { NetworkInterfaceId: ENI_0, VpcId: VPC, Groups: [{ GroupId: 'sg-0ddddddddddddd001', GroupName: `cordon-isolation-${VPC}` }] },
          { NetworkInterfaceId: ENI_1, VpcId: VPC, Groups: [{ GroupId: 'sg-0ddddddddddddd002', GroupName: `cordon-untrack-${VPC}` }] },
        ],
      }),
    );

    // Act
    const result = await loadContainment({ release }, deps());

    // Assess
    expect(result.interfaces.map((i) => [i.networkInterfaceId, i.found.foundIn, i.isolationGroupId])).toEqual([
      [ENI_0, 'other', null],
      [ENI_1, 'other', null],
    ]);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
  });

  it('with no group recorded for the VPC, nothing is taken for cordon\'s, whatever its name', async () => {
    ledgerHas(items().filter((i) => i.pk !== GROUPS_PK));
    awsHas();

    const result = await loadContainment({ release }, deps());

    expect(result.interfaces.map((i) => [i.networkInterfaceId, i.found.foundIn, i.isolationGroupId])).toEqual([
      [ENI_0, 'other', null],
      [ENI_1, 'other', null],
    ]);
  });

  it('reports ENIs no longer attached, ENIs the before-state does not know, and ENIs already back in their groups', async () => {
    ledgerHas(items());
    awsHas(
      instance({
        NetworkInterfaces: [
          { NetworkInterfaceId: ENI_0, VpcId: VPC, Groups: [{ GroupId: SG_SSH, GroupName: 'ssh' }, { GroupId: SG_WEB, GroupName: 'web' }] },
          { NetworkInterfaceId: 'eni-2222222222222222c', VpcId: VPC, Groups: [{ GroupId: SG_DB, GroupName: 'db' }] },
        ],
      }),
    );

    const result = await loadContainment({ release }, deps());

    expect(result.interfaces.map((i) => [i.networkInterfaceId, i.found.foundIn])).toEqual([
      [ENI_0, 'original'],
      [ENI_1, 'not-attached'],
    ]);
    expect(result.unknownInterfaces).toEqual(['eni-2222222222222222c']);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
  });

  it('reports only the target groups of the containment since the last release', async () => {
    const older = {
      pk: INCIDENT,
      sk: 'RESPONSE#req-0',
      responseId: 'req-0',
      startedAt: '2025-05-01T00:00:00.000Z',
      actions: [{ action: 'preserve', detail: { targetGroups: { status: 'done', deregistered: [{ targetGroupArn: `${TG}-old`, port: 443, availabilityZone: null }] } } }],
    };
    ledgerHas(items({ incident: { releasedAt: '2025-05-02T00:00:00.000Z' }, extra: [older] }));
    awsHas();

    const result = await loadContainment({ release }, deps());

    expect(result.targetGroups).toEqual([{ targetGroupArn: TG, port: 80, availabilityZone: null }]);
  });

  describe('refuses, with nothing written and nothing changed', () => {
    it.each([
      ['released', { status: 'released', lastReleaseId: 'rel-0', releasedBy: 'bob', releasedAt: '2025-06-01T18:00:00.000Z' }, /is released: .*already released \(release rel-0 by bob at 2025-06-01T18:00:00.000Z\)/],
      ['open', { status: 'open' }, /is open: .*still running/],
      ['exempt', { status: 'exempt' }, /is exempt: .*did not contain it/],
      ['failed', { status: 'failed' }, /is failed/],
    ])('an incident that is %s (IncidentNotContainedError)', async (_status, incident, message) => {
      ledgerHas(items({ incident }));
      awsHas();

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(IncidentNotContainedError);
      expect(err.name).toBe('IncidentNotContainedError');
      expect(err.message).toMatch(message);
      expectNothingWritten();
      expect(factory.targetCalls).toEqual([]);
    });

    it('a response the ledger does not know (ResponseNotFoundError)', async () => {
      ledgerHas([]);

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(ResponseNotFoundError);
      expect(err.message).toContain('req-1');
      expectNothingWritten();
    });

    it.each([
      ['the ledger lost the before-state', { response: { before: undefined } }, /is not in the ledger/],
      ['the before-state names no groups for an ENI', { response: { before: { ...before, networkInterfaces: [{ ...before.networkInterfaces[0], groupIds: [] }] } } }, /unreadable/],
      ['neither the incident nor the response names one', { incident: { originalBeforeStateKey: undefined }, response: { restoreFrom: null } }, /names a before-state/],
      ['the key points at another incident', { incident: { originalBeforeStateKey: 'incidents/inc-other/responses/req-1/before-state.json' } }, /is not in the ledger/],
    ])('a missing before-state: %s (BeforeStateMissingError)', async (_what, change, message) => {
      ledgerHas(items(change as Parameters<typeof items>[0]));
      awsHas();

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(BeforeStateMissingError);
      expect(err.message).toMatch(message);
      expectNothingWritten();
      expect(ec2Mock.calls()).toHaveLength(0);
    });

    it('another release holding a fresh lock (ReleaseInProgressError)', async () => {
      ledgerHas(items({ incident: { activeReleaseId: 'rel-0', releaseClaimedAt: '2025-06-02T08:59:00.000Z' } }));
      awsHas();

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(ReleaseInProgressError);
      expect(err.message).toContain('rel-0');
      expectNothingWritten();
    });

    it('a release id that already ended (ReleaseAlreadyRecordedError)', async () => {
      ledgerHas(items({ extra: [{ pk: INCIDENT, sk: 'RELEASE#rel-1', status: 'partially-released' }] }));
      awsHas();

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(ReleaseAlreadyRecordedError);
      expectNothingWritten();
    });

    it.each([
      ['terminated', instance({ State: { Name: 'terminated', Code: 48 } }), /is terminated/],
      ['gone', null, /not found/],
    ])('an instance that is %s (InstanceNotFoundError)', async (_what, found, message) => {
      ledgerHas(items());
      awsHas(found);

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(InstanceNotFoundError);
      expect(err.message).toMatch(message);
      expectNothingWritten();
    });

    it('a lock lost between the check and the claim: the conditional write says who holds it', async () => {
      ledgerHas(items());
      awsHas();
      ddbMock.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException'));
      ddbMock.on(GetCommand).resolves({ Item: { status: 'contained', activeReleaseId: 'rel-9' } });

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(ReleaseInProgressError);
      expect(err.message).toContain('rel-9');
      expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
    });

    it('a response re-run that reopened the incident between the check and the claim', async () => {
      ledgerHas(items());
      awsHas();
      ddbMock.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException'));
      ddbMock.on(GetCommand).resolves({ Item: { status: 'open' } });

      const err = await rejectionOf(loadContainment({ release }, deps()));

      expect(err).toBeInstanceOf(IncidentNotContainedError);
    });
  });

  it('takes over a stale lock (an execution stopped by hand an hour ago)', async () => {
    ledgerHas(items({ incident: { activeReleaseId: 'rel-0', releaseClaimedAt: '2025-06-02T07:00:00.000Z' } }));
    awsHas();

    await loadContainment({ release }, deps());

    expect(ddbMock).toHaveReceivedCommand(UpdateCommand);
    expect(ddbMock).toHaveReceivedCommand(PutCommand);
  });
});

describe('release-load handler', () => {
  it('rejects a hostile release request before any AWS call', async () => {
    const handler = createHandler(deps);

    const err = await rejectionOf(handler({ release: { ...release, responseId: 'req-1; rm -rf /' } }));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.message).toMatch(/release\.responseId/);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('turns throttling into TransientAwsError for the state machine to retry', async () => {
    ledgerHas(items());
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded'));
    const handler = createHandler(deps);

    const err = await rejectionOf(handler({ release }));

    expect(err).toBeInstanceOf(TransientAwsError);
    expectNothingWritten();
  });
});
