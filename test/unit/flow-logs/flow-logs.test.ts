import { CreateFlowLogsCommand, DescribeFlowLogsCommand, EC2Client, type DescribeFlowLogsCommandInput, type FlowLog } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { InterfaceSummary } from '../../../lambdas/shared/workflow';
import { createHandler } from '../../../lambdas/flow-logs/handler';
import { enableFlowLogs, FLOW_LOG_FORMAT, FlowLogCreationError, type FlowLogsDeps, type FlowLogsInput } from '../../../lambdas/flow-logs/flow-logs';
import { awsError, rejectionOf, testClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';
const VPC_A = 'vpc-0aaaaaaaaaaaaaaa1';
const VPC_B = 'vpc-0bbbbbbbbbbbbbbb2';
const ENI_0 = 'eni-0000000000000000a';
const ENI_1 = 'eni-1111111111111111b';
const BUCKET_ARN = 'arn:aws:s3:::cordon-evidence-111122223333';

/** Every field of the flow-log record formats v2 to v5, written out here independently of the handler. */
const V2_TO_V5_FIELDS = [
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes',
  'start', 'end', 'action', 'log-status',
  'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr',
  'region', 'az-id', 'sublocation-type', 'sublocation-id',
  'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path',
];

function eni(id: string, vpcId: string, deviceIndex: number): InterfaceSummary {
  return { networkInterfaceId: id, vpcId, deviceIndex, groupIds: ['sg-0f0f0f0f0f0f0f0f0'], ipv6: false, tcpEstablishedTimeout: null };
}

const input = (interfaces: InterfaceSummary[] = [eni(ENI_0, VPC_A, 0)]): FlowLogsInput => ({
  target: TARGET,
  incidentId: INCIDENT,
  requestId: 'req-1',
  interfaces,
});

/** DescribeFlowLogs answered from a per-resource table. */
function flowLogsOn(table: Record<string, FlowLog[]>): void {
  ec2Mock.on(DescribeFlowLogsCommand).callsFake((i: DescribeFlowLogsCommandInput) => {
    const ids = i.Filter?.find((f) => f.Name === 'resource-id')?.Values ?? [];
    return { FlowLogs: ids.flatMap((id) => table[id] ?? []) };
  });
}

const OURS = `${BUCKET_ARN}/flow-logs/`;
const ELSEWHERE = 'arn:aws:s3:::someone-elses-bucket';

/** A flow log as cordon creates it (ALL traffic to the evidence bucket, its format, 60 s), changed by `extra`. */
const log = (id: string, resourceId: string, extra: Partial<FlowLog>): FlowLog => ({
  FlowLogId: id,
  ResourceId: resourceId,
  TrafficType: 'ALL',
  FlowLogStatus: 'ACTIVE',
  DeliverLogsStatus: 'SUCCESS',
  LogDestinationType: 's3',
  LogDestination: OURS,
  LogFormat: FLOW_LOG_FORMAT,
  MaxAggregationInterval: 60,
  ...extra,
});
const found = (f: FlowLog) => ({
  resourceId: f.ResourceId,
  flowLogId: f.FlowLogId,
  trafficType: f.TrafficType,
  status: f.FlowLogStatus,
  destination: f.LogDestination,
});

let deps: FlowLogsDeps;

beforeEach(() => {
  ec2Mock.reset();
  deps = { factory: testClientFactory(), config: { bucketArn: BUCKET_ARN } };
});

describe('enableFlowLogs', () => {
  it("reuses cordon's own flow log on the VPC (ALL traffic to the evidence bucket) and records the others as found", async () => {
    // Prepare
    const reject = log('fl-0reject', VPC_A, { TrafficType: 'REJECT', LogDestination: ELSEWHERE });
    flowLogsOn({ [VPC_A]: [reject, log('fl-0all', VPC_A, {})] });

    // Act
    const result = await enableFlowLogs(input(), deps);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeFlowLogsCommand, { Filter: [{ Name: 'resource-id', Values: [VPC_A] }] });
    expect(ec2Mock).not.toHaveReceivedCommand(CreateFlowLogsCommand);
    expect(result).toStrictEqual({
      action: 'flowLogs',
      status: 'succeeded',
      flowLogs: [{ resourceId: VPC_A, resourceType: 'VPC', flowLogId: 'fl-0all', status: 'reused', destination: OURS }],
      found: [found(reject)],
    });
  });

  it('never reuses an ALL-traffic flow log that delivers to a bucket in another account: creates its own, records that one as found', async () => {
    // Prepare: the member account (or the attacker in it) pointed an ALL log elsewhere
    const foreign = log('fl-0foreign', VPC_A, { LogDestination: ELSEWHERE });
    flowLogsOn({ [VPC_A]: [foreign] });
    ec2Mock.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ['fl-0new'] });

    // Act
    const result = await enableFlowLogs(input(), deps);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateFlowLogsCommand, { ResourceIds: [VPC_A], ResourceType: 'VPC', LogDestination: OURS });
    expect(result).toStrictEqual({
      action: 'flowLogs',
      status: 'succeeded',
      flowLogs: [{ resourceId: VPC_A, resourceType: 'VPC', flowLogId: 'fl-0new', status: 'created', destination: OURS }],
      found: [found(foreign)],
    });
  });

  it.each<[string, Partial<FlowLog>]>([
    ['a CloudWatch Logs destination', { LogDestinationType: 'cloud-watch-logs', LogDestination: undefined }],
    ['another prefix of the evidence bucket', { LogDestination: `${BUCKET_ARN}/elsewhere/` }],
    ['the default format (fewer fields)', { LogFormat: '${version} ${account-id} ${interface-id}' }],
    ['10-minute aggregation', { MaxAggregationInterval: 600 }],
    ['REJECT traffic only', { TrafficType: 'REJECT' }],
  ])('does not reuse a flow log to the evidence bucket with %s', async (_what, extra) => {
    flowLogsOn({ [VPC_A]: [log('fl-0almost', VPC_A, extra)] });
    ec2Mock.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ['fl-0new'] });

    const result = await enableFlowLogs(input(), deps);

    expect(result.flowLogs).toStrictEqual([{ resourceId: VPC_A, resourceType: 'VPC', flowLogId: 'fl-0new', status: 'created', destination: OURS }]);
    expect(result.found.map((f) => f.flowLogId)).toStrictEqual(['fl-0almost']);
  });

  it('creates a VPC flow log to the evidence bucket with the v2-v5 format and 60 s aggregation when there is none', async () => {
    // Prepare
    flowLogsOn({});
    ec2Mock.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ['fl-0new'] });

    // Act
    const result = await enableFlowLogs(input(), deps);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateFlowLogsCommand, {
      ResourceIds: [VPC_A],
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: `${BUCKET_ARN}/flow-logs/`,
      MaxAggregationInterval: 60,
    });
    const request = ec2Mock.commandCalls(CreateFlowLogsCommand)[0]?.args[0].input;
    const format = request?.LogFormat ?? '';
    const fields = format.split(' ').map((f) => f.replace(/^\$\{(.*)\}$/, '$1'));
    expect(fields).toEqual(expect.arrayContaining(V2_TO_V5_FIELDS));
    expect(format.split(' ').every((f) => /^\$\{[a-z0-9-]+\}$/.test(f))).toBe(true);
    expect(request?.ClientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(request?.TagSpecifications).toEqual([
      {
        ResourceType: 'vpc-flow-log',
        Tags: [
          { Key: 'cordon:managed', Value: 'true' },
          { Key: 'cordon:incident', Value: INCIDENT },
        ],
      },
    ]);
    expect(result.flowLogs).toEqual([
      { resourceId: VPC_A, resourceType: 'VPC', flowLogId: 'fl-0new', status: 'created', destination: `${BUCKET_ARN}/flow-logs/` },
    ]);
  });

  it('uses the same ClientToken when the task is retried, so the create is idempotent', async () => {
    flowLogsOn({});
    ec2Mock.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ['fl-0new'] });

    await enableFlowLogs(input(), deps);
    await enableFlowLogs(input(), deps);

    const tokens = ec2Mock.commandCalls(CreateFlowLogsCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toHaveLength(64);
    expect(tokens[1]).toBe(tokens[0]);
  });

  it('creates a new flow log when the only ALL log is not active, and a slot is free', async () => {
    flowLogsOn({ [VPC_A]: [log('fl-0broken', VPC_A, { DeliverLogsStatus: 'FAILED' })] });
    ec2Mock.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ['fl-0new'] });

    const result = await enableFlowLogs(input(), deps);

    expect(ec2Mock).toHaveReceivedCommandWith(CreateFlowLogsCommand, { ResourceIds: [VPC_A], ResourceType: 'VPC' });
    expect(result.flowLogs[0]).toMatchObject({ status: 'created', flowLogId: 'fl-0new' });
  });

  it('throws FlowLogCreationError when CreateFlowLogs reports the resource as Unsuccessful', async () => {
    flowLogsOn({});
    ec2Mock.on(CreateFlowLogsCommand).resolves({
      FlowLogIds: [],
      Unsuccessful: [{ ResourceId: VPC_A, Error: { Code: 'AccessDenied', Message: 'LogDestination: access denied' } }],
    });

    const err = await rejectionOf(enableFlowLogs(input(), deps));

    expect(err).toBeInstanceOf(FlowLogCreationError);
    expect(err.name).toBe('FlowLogCreationError');
    expect(err.message).toContain('AccessDenied');
    expect(err.message).toContain(VPC_A);
  });

  it('falls back to one flow log per ENI when both VPC slots hold logs it cannot reuse', async () => {
    // Prepare: two ENIs of this instance in the full VPC; one slot even holds an ALL log, but to another account
    flowLogsOn({
      [VPC_A]: [log('fl-0rej', VPC_A, { TrafficType: 'REJECT' }), log('fl-0acc', VPC_A, { LogDestination: ELSEWHERE })],
    });
    ec2Mock
      .on(CreateFlowLogsCommand, { ResourceIds: [ENI_0] })
      .resolves({ FlowLogIds: ['fl-0eni0'] })
      .on(CreateFlowLogsCommand, { ResourceIds: [ENI_1] })
      .resolves({ FlowLogIds: ['fl-0eni1'] });

    // Act
    const result = await enableFlowLogs(input([eni(ENI_0, VPC_A, 0), eni(ENI_1, VPC_A, 1)]), deps);

    // Assess
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeFlowLogsCommand, { Filter: [{ Name: 'resource-id', Values: [VPC_A] }] });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, DescribeFlowLogsCommand, {
      Filter: [{ Name: 'resource-id', Values: [ENI_0, ENI_1] }],
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 2);
    expect(ec2Mock).not.toHaveReceivedCommandWith(CreateFlowLogsCommand, { ResourceType: 'VPC' });
    for (const id of [ENI_0, ENI_1]) {
      expect(ec2Mock).toHaveReceivedCommandWith(CreateFlowLogsCommand, {
        ResourceIds: [id],
        ResourceType: 'NetworkInterface',
        TrafficType: 'ALL',
        LogDestinationType: 's3',
        LogDestination: `${BUCKET_ARN}/flow-logs/`,
        MaxAggregationInterval: 60,
      });
    }
    const tokens = ec2Mock.commandCalls(CreateFlowLogsCommand).map((c) => c.args[0].input.ClientToken);
    expect(new Set(tokens).size).toBe(2);
    expect(result.flowLogs.map((f) => [f.resourceId, f.resourceType, f.flowLogId, f.status])).toEqual([
      [ENI_0, 'NetworkInterface', 'fl-0eni0', 'created'],
      [ENI_1, 'NetworkInterface', 'fl-0eni1', 'created'],
    ]);
  });

  it('throws FlowLogCreationError when the VPC and the ENI are both full of non-ALL logs', async () => {
    flowLogsOn({
      [VPC_A]: [log('fl-0rej', VPC_A, { TrafficType: 'REJECT' }), log('fl-0acc', VPC_A, { TrafficType: 'ACCEPT' })],
      [ENI_0]: [log('fl-0erej', ENI_0, { TrafficType: 'REJECT' }), log('fl-0eacc', ENI_0, { TrafficType: 'ACCEPT' })],
    });

    const err = await rejectionOf(enableFlowLogs(input(), deps));

    expect(err).toBeInstanceOf(FlowLogCreationError);
    expect(ec2Mock).not.toHaveReceivedCommand(CreateFlowLogsCommand);
  });

  it('handles each VPC of a multi-VPC instance on its own', async () => {
    flowLogsOn({ [VPC_A]: [log('fl-0all', VPC_A, {})] });
    ec2Mock.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ['fl-0newb'] });

    const result = await enableFlowLogs(input([eni(ENI_1, VPC_B, 1), eni(ENI_0, VPC_A, 0)]), deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateFlowLogsCommand, { ResourceIds: [VPC_B], ResourceType: 'VPC' });
    expect(result.flowLogs.map((f) => [f.resourceId, f.status])).toEqual([
      [VPC_A, 'reused'],
      [VPC_B, 'created'],
    ]);
  });
});

describe('flow-logs handler', () => {
  it('classifies RequestLimitExceeded as TransientAwsError', async () => {
    ec2Mock.on(DescribeFlowLogsCommand).rejects(awsError('RequestLimitExceeded'));
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(input()));

    expect(err.name).toBe('TransientAwsError');
  });

  it('rejects an input without interfaces before any AWS call', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ ...input(), interfaces: [] }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});
