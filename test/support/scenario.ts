/**
 * The web-tier instance the workflow tests contain: two ENIs (one IPv6) in one
 * VPC, a role, two EBS volumes, optionally an Auto Scaling group and a
 * neighbour sharing the role. Built in FakeAws, in the member (target) account.
 */
import { FakeAws } from './fake-aws';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const INSTANCE = 'i-0123456789abcdef0';
export const NEIGHBOUR = 'i-0fedcba9876543210';
export const VPC = 'vpc-0abc1234def567890';
export const ENI_A = 'eni-0a11b22c33d44e55f';
export const ENI_B = 'eni-0b22c33d44e55f66a';
export const ROLE = 'web-role';
export const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
export const NOW = new Date('2026-03-02T09:15:00.000Z');
export const STOLEN_AT = new Date('2026-03-02T08:00:00.000Z');

export function request(overrides: Record<string, unknown> = {}) {
  return {
    requestId: '6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10',
    source: 'guardduty',
    target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE },
    finding: {
      id: 'a6c1f0e2b3d4c5b6a7980f1e2d3c4b5a',
      type: 'Backdoor:EC2/C&CActivity.B',
      severity: 8,
      title: 'EC2 instance is querying an IP address associated with a known command and control server.',
      updatedAt: '2026-03-02T09:09:55.103Z',
    },
    reason: 'GuardDuty Backdoor:EC2/C&CActivity.B (severity 8)',
    requestedBy: 'guardduty:76807ee28899d9276d7066be0fc08d87',
    ...overrides,
  };
}

export interface Scenario {
  fake: FakeAws;
  appSg: string;
}

export function webInstance(
  options: { tags?: Record<string, string>; asg?: string; sharedRole?: boolean; profile?: boolean; nitro?: boolean; fake?: FakeAws } = {},
): Scenario {
  const fake = options.fake ?? new FakeAws(ACCOUNT, REGION).install();
  fake.addVpc(VPC, true);
  const appSg = fake.addGroup(VPC, 'web-app');
  fake.addInstance({
    id: INSTANCE,
    enis: [
      { id: ENI_A, vpcId: VPC, subnetId: 'subnet-0123abcd4567ef890', groups: [appSg], ipv6: [], privateIp: '10.0.3.25' },
      { id: ENI_B, vpcId: VPC, subnetId: 'subnet-0123abcd4567ef891', groups: [appSg], ipv6: ['2600:1f18::25'], privateIp: '10.0.4.25' },
    ],
    tags: { Name: 'web-7', ...options.tags },
    profile: options.profile === false ? undefined : { name: 'web-profile', roleName: ROLE },
    autoScalingGroup: options.asg,
    nitro: options.nitro,
    volumes: [
      { volumeId: 'vol-0aaaaaaaaaaaaaaa1', device: '/dev/xvda', deleteOnTermination: true, size: 8 },
      { volumeId: 'vol-0aaaaaaaaaaaaaaa2', device: '/dev/xvdf', deleteOnTermination: false, size: 500 },
    ],
  });
  if (options.sharedRole) {
    fake.addInstance({
      id: NEIGHBOUR,
      enis: [{ vpcId: VPC, subnetId: 'subnet-0123abcd4567ef890', groups: [appSg], ipv6: [], privateIp: '10.0.3.26' }],
      profile: { name: 'web-profile', roleName: ROLE },
    });
  }
  return { fake, appSg };
}

