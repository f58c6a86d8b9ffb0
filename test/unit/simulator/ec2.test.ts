/** EC2 in the simulated account: instances, security groups, ENIs (and their rule history). */
import { SimAccount } from '../../../lib/simulator/account';
import { rejectionOf } from '../../support/clients';
import { account, send } from './support';

function twoEniInstance(world: SimAccount, nitro = true): { appSg: string } {
  world.addVpc('vpc-1', false);
  const appSg = world.addGroup('vpc-1', 'web');
  world.addInstance({
    id: 'i-1',
    nitro,
    enis: [
      { id: 'eni-a', vpcId: 'vpc-1', subnetId: 'subnet-1', groups: [appSg], ipv6: [], privateIp: '10.0.0.1' },
      { id: 'eni-b', vpcId: 'vpc-1', subnetId: 'subnet-2', groups: [appSg], ipv6: [], privateIp: '10.0.0.2' },
    ],
  });
  return { appSg };
}

describe('EC2: instances', () => {
  it('refuses ModifyInstanceAttribute Groups on an instance with several ENIs, as EC2 does', async () => {
    const world = account();
    const { appSg } = twoEniInstance(world);
    const err = await rejectionOf(send(world, 'ec2', 'ModifyInstanceAttribute', { InstanceId: 'i-1', Groups: [appSg] }));
    expect(err.name).toBe('InvalidInstanceID');
    expect(err.message).toBe('There are multiple interfaces attached to instance. Please specify an interface ID for the operation instead.');
  });

  it('sets termination protection and shutdown behaviour, and reads them back', async () => {
    const world = account();
    twoEniInstance(world);
    await send(world, 'ec2', 'ModifyInstanceAttribute', { InstanceId: 'i-1', DisableApiTermination: { Value: true } });
    await send(world, 'ec2', 'ModifyInstanceAttribute', { InstanceId: 'i-1', InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
    expect(await send(world, 'ec2', 'DescribeInstanceAttribute', { InstanceId: 'i-1', Attribute: 'disableApiTermination' })).toEqual({
      DisableApiTermination: { Value: true },
    });
    const err = await rejectionOf(send(world, 'ec2', 'DescribeInstanceAttribute', { InstanceId: 'i-1', Attribute: 'userData' }));
    expect(err.message).toBe('FakeAws: attribute userData not modelled');
  });

  it('answers InvalidInstanceID.NotFound for an unknown instance', async () => {
    const err = await rejectionOf(send(account(), 'ec2', 'DescribeInstances', { InstanceIds: ['i-404'] }));
    expect([err.name, err.message]).toEqual(['InvalidInstanceID.NotFound', "The instance ID 'i-404' does not exist"]);
  });
});

describe('EC2: security groups and ENIs', () => {
  it('moves an ENI into a group and records the effective rules it ends up with', async () => {
    const world = account();
    twoEniInstance(world);
    world.now = () => new Date(1_000);
    const { GroupId } = (await send(world, 'ec2', 'CreateSecurityGroup', { VpcId: 'vpc-1', GroupName: 'isolation' })) as { GroupId: string };
    const rules = (await send(world, 'ec2', 'DescribeSecurityGroupRules', { Filters: [{ Name: 'group-id', Values: [GroupId] }] })) as {
      SecurityGroupRules: Array<{ SecurityGroupRuleId: string }>;
    };
    await send(world, 'ec2', 'RevokeSecurityGroupEgress', { GroupId, SecurityGroupRuleIds: rules.SecurityGroupRules.map((r) => r.SecurityGroupRuleId) });
    world.now = () => new Date(2_000);
    await send(world, 'ec2', 'ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: 'eni-a', Groups: [GroupId] });
    const history = world.eniHistory.get('eni-a') ?? [];
    expect(history.map((h) => [h.at, h.groups, h.rules.length])).toEqual([
      [expect.any(Number), ['sg-00000000000000001'], 1],
      [2_000, [GroupId], 0],
    ]);
    expect(world.enis.get('eni-b')?.groups).toEqual(['sg-00000000000000001']);
  });

  it('refuses a group from another VPC, and a duplicate rule', async () => {
    const world = account();
    const { appSg } = twoEniInstance(world);
    world.addVpc('vpc-2');
    const other = world.addGroup('vpc-2', 'elsewhere');
    const err = await rejectionOf(send(world, 'ec2', 'ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: 'eni-a', Groups: [other] }));
    expect(err.name).toBe('InvalidGroup.NotFound');
    const dup = await rejectionOf(
      send(world, 'ec2', 'AuthorizeSecurityGroupEgress', { GroupId: appSg, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
    );
    expect(dup.name).toBe('InvalidPermission.Duplicate');
  });

  it('sets connection tracking only on a Nitro instance', async () => {
    const world = account();
    twoEniInstance(world, false);
    const err = await rejectionOf(
      send(world, 'ec2', 'ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: 'eni-a', ConnectionTrackingSpecification: { TcpEstablishedTimeout: 60 } }),
    );
    expect([err.name, err.message]).toEqual(['UnsupportedOperation', 'connection tracking configuration requires a Nitro instance']);
    const nitro = account();
    twoEniInstance(nitro);
    await send(nitro, 'ec2', 'ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: 'eni-a', ConnectionTrackingSpecification: { TcpEstablishedTimeout: 60 } });
    expect(nitro.eniHistory.get('eni-a')?.map((h) => h.tcpEstablishedTimeout)).toEqual([432_000, 60]);
  });
});

describe('EC2: instance profiles', () => {
  it('disassociates once, and refuses a second association while one is live', async () => {
    const world = account();
    world.addInstance({
      id: 'i-1',
      enis: [{ vpcId: 'vpc-1', subnetId: 'subnet-1', groups: [], ipv6: [], privateIp: '10.0.0.1' }],
      profile: { name: 'web-profile', roleName: 'web-role' },
    });
    const [associationId] = [...world.associations.keys()];
    const arn = `arn:aws:iam::${world.accountId}:instance-profile/web-profile`;
    const busy = await rejectionOf(send(world, 'ec2', 'AssociateIamInstanceProfile', { InstanceId: 'i-1', IamInstanceProfile: { Arn: arn } }));
    expect([busy.name, busy.message]).toEqual(['IncorrectState', 'There is an existing association for instance i-1']);
    await send(world, 'ec2', 'DisassociateIamInstanceProfile', { AssociationId: associationId });
    const again = await rejectionOf(send(world, 'ec2', 'DisassociateIamInstanceProfile', { AssociationId: associationId }));
    expect(again.name).toBe('InvalidAssociationID.NotFound');
    const out = await send(world, 'ec2', 'AssociateIamInstanceProfile', { InstanceId: 'i-1', IamInstanceProfile: { Arn: arn } });
    expect(out.IamInstanceProfileAssociation).toMatchObject({ InstanceId: 'i-1', IamInstanceProfile: { Arn: arn }, State: 'associating' });
  });
});
