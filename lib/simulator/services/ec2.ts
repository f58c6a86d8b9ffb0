/**
 * EC2, the network and instance side: instances and their attributes, instance-profile
 * associations, security groups and their rules, ENIs (groups, connection tracking), flow logs,
 * and the console. Snapshots are in ./ebs.ts.
 */
import type * as ec2 from '@aws-sdk/client-ec2';
import { awsError, notModelled, type FakeEni, type FakeGroup, type FakeInstance, type FakeRule, type ServiceHandlers, type SimState } from '../core';

export function instanceOf(s: SimState, id: string): FakeInstance {
  const i = s.instances.get(id);
  if (!i) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  return i;
}

function groupOf(s: SimState, id: string): FakeGroup {
  const g = s.groups.get(id);
  if (!g) throw awsError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  return g;
}

function eniOf(s: SimState, id: string): FakeEni {
  const e = s.enis.get(id);
  if (!e) throw awsError('InvalidNetworkInterfaceID.NotFound');
  return e;
}

function describeInstances(s: SimState, input: ec2.DescribeInstancesCommandInput) {
  let list: FakeInstance[];
  if (input.InstanceIds) list = input.InstanceIds.map((id) => instanceOf(s, id));
  else {
    list = [...s.instances.values()];
    for (const f of input.Filters ?? []) {
      if (f.Name === 'iam-instance-profile.arn') {
        list = list.filter((i) =>
          [...s.associations.values()].some((a) => a.instanceId === i.id && a.state === 'associated' && f.Values?.includes(a.profileArn)),
        );
      } else if (f.Name === 'instance-state-name') list = list.filter((i) => f.Values?.includes(i.state));
      else throw notModelled(`DescribeInstances filter ${f.Name} not modelled`);
    }
  }
  return {
    Reservations: list.map((i) => ({
      Instances: [
        {
          InstanceId: i.id,
          State: { Name: i.state },
          Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
          NetworkInterfaces: i.enis.map((id) => {
            const e = s.enis.get(id) as FakeEni;
            return {
              NetworkInterfaceId: e.id,
              VpcId: e.vpcId,
              SubnetId: e.subnetId,
              PrivateIpAddress: e.privateIp,
              Attachment: { DeviceIndex: e.deviceIndex },
              Groups: e.groups.map((g) => ({ GroupId: g, GroupName: s.groups.get(g)?.name })),
              Ipv6Addresses: e.ipv6.map((a) => ({ Ipv6Address: a })),
              ConnectionTrackingConfiguration: e.conntrack,
            };
          }),
          BlockDeviceMappings: i.volumes.map((v) => ({
            DeviceName: v.device,
            Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination },
          })),
        },
      ],
    })),
  };
}

function describeInstanceAttribute(s: SimState, input: ec2.DescribeInstanceAttributeCommandInput) {
  const i = instanceOf(s, input.InstanceId as string);
  if (input.Attribute === 'disableApiTermination') return { DisableApiTermination: { Value: i.disableApiTermination } };
  if (input.Attribute === 'instanceInitiatedShutdownBehavior') return { InstanceInitiatedShutdownBehavior: { Value: i.shutdownBehavior } };
  throw notModelled(`attribute ${input.Attribute} not modelled`);
}

function modifyInstanceAttribute(s: SimState, input: ec2.ModifyInstanceAttributeCommandInput) {
  const i = instanceOf(s, input.InstanceId as string);
  if (input.Groups) {
    if (i.enis.length > 1) {
      throw awsError('InvalidInstanceID', 'There are multiple interfaces attached to instance. Please specify an interface ID for the operation instead.');
    }
  }
  if (input.DisableApiTermination) i.disableApiTermination = Boolean(input.DisableApiTermination.Value);
  if (input.InstanceInitiatedShutdownBehavior) i.shutdownBehavior = input.InstanceInitiatedShutdownBehavior.Value as 'stop' | 'terminate';
  for (const m of input.BlockDeviceMappings ?? []) {
    const v = i.volumes.find((x) => x.device === m.DeviceName);
    if (!v) throw awsError('InvalidInstanceAttributeValue', `no device ${m.DeviceName}`);
    if (m.Ebs?.DeleteOnTermination !== undefined) v.deleteOnTermination = m.Ebs.DeleteOnTermination;
  }
  return {};
}

function describeAssociations(s: SimState, input: ec2.DescribeIamInstanceProfileAssociationsCommandInput) {
  const byInstance = input.Filters?.find((f) => f.Name === 'instance-id')?.Values;
  const states = input.Filters?.find((f) => f.Name === 'state')?.Values;
  return {
    IamInstanceProfileAssociations: [...s.associations.entries()]
      .filter(([, a]) => (!byInstance || byInstance.includes(a.instanceId)) && (!states || states.includes(a.state)))
      .map(([id, a]) => ({ AssociationId: id, InstanceId: a.instanceId, IamInstanceProfile: { Arn: a.profileArn }, State: a.state })),
  };
}

function disassociate(s: SimState, input: ec2.DisassociateIamInstanceProfileCommandInput) {
  const a = s.associations.get(input.AssociationId as string);
  if (!a || a.state !== 'associated') throw awsError('InvalidAssociationID.NotFound');
  a.state = 'disassociated';
  return { IamInstanceProfileAssociation: { AssociationId: input.AssociationId, State: 'disassociating' } };
}

/** Release (issue 5): the profile goes back on the instance. */
function associate(s: SimState, input: ec2.AssociateIamInstanceProfileCommandInput) {
  const instanceId = input.InstanceId as string;
  instanceOf(s, instanceId);
  const arn = input.IamInstanceProfile?.Arn;
  const name = input.IamInstanceProfile?.Name ?? arn?.split('/').pop();
  const profile = name ? s.profiles.get(name) : undefined;
  if (!profile || (arn && profile.arn !== arn)) {
    throw awsError('InvalidParameterValue', `Value (${arn ?? name}) for parameter iamInstanceProfile.arn is invalid`);
  }
  if ([...s.associations.values()].some((a) => a.instanceId === instanceId && a.state === 'associated')) {
    throw awsError('IncorrectState', `There is an existing association for instance ${instanceId}`);
  }
  const id = s.hexId('iip-assoc');
  s.associations.set(id, { instanceId, profileArn: profile.arn, state: 'associated' });
  return { IamInstanceProfileAssociation: { AssociationId: id, InstanceId: instanceId, IamInstanceProfile: { Arn: profile.arn }, State: 'associating' } };
}

function describeGroups(s: SimState, input: ec2.DescribeSecurityGroupsCommandInput) {
  let list = [...s.groups.values()];
  for (const f of input.Filters ?? []) {
    const values = f.Values ?? [];
    if (f.Name === 'vpc-id') list = list.filter((g) => values.includes(g.vpcId));
    else if (f.Name === 'group-name') list = list.filter((g) => values.includes(g.name));
    else if (f.Name?.startsWith('tag:')) {
      const key = f.Name.slice(4);
      list = list.filter((g) => g.tags[key] !== undefined && values.includes(g.tags[key] as string));
    } else throw notModelled(`DescribeSecurityGroups filter ${f.Name} not modelled`);
  }
  return { SecurityGroups: list.map((g) => ({ GroupId: g.id, GroupName: g.name, VpcId: g.vpcId })) };
}

function createGroup(s: SimState, input: ec2.CreateSecurityGroupCommandInput) {
  const vpcId = input.VpcId as string;
  if (!s.vpcs.has(vpcId)) throw awsError('InvalidVpcID.NotFound');
  if ([...s.groups.values()].some((g) => g.vpcId === vpcId && g.name === input.GroupName)) throw awsError('InvalidGroup.Duplicate');
  const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]));
  const id = s.addGroup(vpcId, input.GroupName as string, tags as Record<string, string>);
  return { GroupId: id };
}

function describeRules(s: SimState, input: ec2.DescribeSecurityGroupRulesCommandInput) {
  const ids = input.Filters?.find((f) => f.Name === 'group-id')?.Values ?? [];
  const rules = ids.flatMap((id) =>
    groupOf(s, id).rules.map((r) => ({
      SecurityGroupRuleId: r.id,
      GroupId: id,
      IsEgress: r.egress,
      IpProtocol: r.protocol,
      CidrIpv4: r.cidr4,
      CidrIpv6: r.cidr6,
    })),
  );
  return { SecurityGroupRules: rules };
}

function authorize(s: SimState, input: ec2.AuthorizeSecurityGroupIngressCommandInput, egress: boolean) {
  const g = groupOf(s, input.GroupId as string);
  const added: FakeRule[] = [];
  for (const p of input.IpPermissions ?? []) {
    for (const r of p.IpRanges ?? []) added.push({ id: s.hexId('sgr'), egress, protocol: p.IpProtocol as string, cidr4: r.CidrIp });
    for (const r of p.Ipv6Ranges ?? []) added.push({ id: s.hexId('sgr'), egress, protocol: p.IpProtocol as string, cidr6: r.CidrIpv6 });
  }
  for (const a of added) {
    if (g.rules.some((r) => r.egress === a.egress && r.protocol === a.protocol && r.cidr4 === a.cidr4 && r.cidr6 === a.cidr6)) {
      throw awsError('InvalidPermission.Duplicate');
    }
  }
  g.rules.push(...added);
  s.recordGroup(g.id);
  return { Return: true };
}

function revoke(s: SimState, input: ec2.RevokeSecurityGroupIngressCommandInput) {
  const g = groupOf(s, input.GroupId as string);
  for (const id of input.SecurityGroupRuleIds ?? []) {
    if (!g.rules.some((r) => r.id === id)) throw awsError('InvalidSecurityGroupRuleId.NotFound');
  }
  g.rules = g.rules.filter((r) => !input.SecurityGroupRuleIds?.includes(r.id));
  s.recordGroup(g.id);
  return { Return: true };
}

function modifyEni(s: SimState, input: ec2.ModifyNetworkInterfaceAttributeCommandInput) {
  const e = eniOf(s, input.NetworkInterfaceId as string);
  if (input.Groups) {
    for (const g of input.Groups) if (groupOf(s, g).vpcId !== e.vpcId) throw awsError('InvalidGroup.NotFound');
    e.groups = [...input.Groups];
  }
  if (input.ConnectionTrackingSpecification) {
    const owner = [...s.instances.values()].find((i) => i.enis.includes(e.id));
    if (owner && !owner.nitro) throw awsError('UnsupportedOperation', 'connection tracking configuration requires a Nitro instance');
    e.conntrack = { ...e.conntrack, ...input.ConnectionTrackingSpecification };
  }
  s.recordEni(e.id);
  return {};
}

function describeEnis(s: SimState, input: ec2.DescribeNetworkInterfacesCommandInput) {
  return {
    NetworkInterfaces: (input.NetworkInterfaceIds ?? []).map((id) => {
      const e = eniOf(s, id);
      return { NetworkInterfaceId: e.id, VpcId: e.vpcId, Groups: e.groups.map((g) => ({ GroupId: g })) };
    }),
  };
}

/** The flow-log record format AWS uses when a create names none (version 2 fields). */
const DEFAULT_FLOW_LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

function describeFlowLogs(s: SimState, input: ec2.DescribeFlowLogsCommandInput) {
  const ids = input.Filter?.find((f) => f.Name === 'resource-id')?.Values ?? [];
  return {
    FlowLogs: s.flowLogs
      .filter((f) => ids.includes(f.resourceId))
      .map((f) => {
        const created = (f.input ?? {}) as ec2.CreateFlowLogsCommandInput;
        return {
          FlowLogId: f.id,
          ResourceId: f.resourceId,
          TrafficType: f.trafficType,
          FlowLogStatus: f.status,
          DeliverLogsStatus: 'SUCCESS',
          LogDestinationType: created.LogDestinationType ?? 'cloud-watch-logs',
          LogDestination: f.destination,
          // AWS reports the default format and a 600 s interval when the create named none (EC2 API Reference, FlowLog).
          LogFormat: created.LogFormat ?? DEFAULT_FLOW_LOG_FORMAT,
          MaxAggregationInterval: created.MaxAggregationInterval ?? 600,
        };
      }),
  };
}

function createFlowLogs(s: SimState, input: ec2.CreateFlowLogsCommandInput) {
  const ids: string[] = [];
  for (const resourceId of input.ResourceIds ?? []) {
    const id = s.hexId('fl');
    s.flowLogs.push({ id, resourceId, trafficType: input.TrafficType as string, status: 'ACTIVE', destination: input.LogDestination, input });
    ids.push(id);
  }
  return { FlowLogIds: ids, Unsuccessful: [] };
}

function consoleOutput(s: SimState, input: ec2.GetConsoleOutputCommandInput) {
  instanceOf(s, input.InstanceId as string);
  return { InstanceId: input.InstanceId, Output: Buffer.from(`[    0.000000] Linux version 6.1\nlogin: ${input.InstanceId}\n`).toString('base64') };
}

function consoleScreenshot(s: SimState, input: ec2.GetConsoleScreenshotCommandInput) {
  instanceOf(s, input.InstanceId as string);
  if (!s.consoleScreenshotSupported) throw awsError('UnsupportedOperation', 'The instance type does not support console screenshots');
  return { InstanceId: input.InstanceId, ImageData: Buffer.from('\xff\xd8\xff\xe0fake-jpeg').toString('base64') };
}

export function ec2Handlers(s: SimState): ServiceHandlers {
  return {
    DescribeInstances: (i: ec2.DescribeInstancesCommandInput) => describeInstances(s, i),
    DescribeInstanceAttribute: (i: ec2.DescribeInstanceAttributeCommandInput) => describeInstanceAttribute(s, i),
    ModifyInstanceAttribute: (i: ec2.ModifyInstanceAttributeCommandInput) => modifyInstanceAttribute(s, i),
    DescribeIamInstanceProfileAssociations: (i: ec2.DescribeIamInstanceProfileAssociationsCommandInput) => describeAssociations(s, i),
    DisassociateIamInstanceProfile: (i: ec2.DisassociateIamInstanceProfileCommandInput) => disassociate(s, i),
    AssociateIamInstanceProfile: (i: ec2.AssociateIamInstanceProfileCommandInput) => associate(s, i),
    DescribeSecurityGroups: (i: ec2.DescribeSecurityGroupsCommandInput) => describeGroups(s, i),
    CreateSecurityGroup: (i: ec2.CreateSecurityGroupCommandInput) => createGroup(s, i),
    DescribeSecurityGroupRules: (i: ec2.DescribeSecurityGroupRulesCommandInput) => describeRules(s, i),
    AuthorizeSecurityGroupIngress: (i: ec2.AuthorizeSecurityGroupIngressCommandInput) => authorize(s, i, false),
    AuthorizeSecurityGroupEgress: (i: ec2.AuthorizeSecurityGroupEgressCommandInput) => authorize(s, i, true),
    RevokeSecurityGroupIngress: (i: ec2.RevokeSecurityGroupIngressCommandInput) => revoke(s, i),
    RevokeSecurityGroupEgress: (i: ec2.RevokeSecurityGroupEgressCommandInput) => revoke(s, i),
    ModifyNetworkInterfaceAttribute: (i: ec2.ModifyNetworkInterfaceAttributeCommandInput) => modifyEni(s, i),
    DescribeNetworkInterfaces: (i: ec2.DescribeNetworkInterfacesCommandInput) => describeEnis(s, i),
    DescribeFlowLogs: (i: ec2.DescribeFlowLogsCommandInput) => describeFlowLogs(s, i),
    CreateFlowLogs: (i: ec2.CreateFlowLogsCommandInput) => createFlowLogs(s, i),
    GetConsoleOutput: (i: ec2.GetConsoleOutputCommandInput) => consoleOutput(s, i),
    GetConsoleScreenshot: (i: ec2.GetConsoleScreenshotCommandInput) => consoleScreenshot(s, i),
  };
}
