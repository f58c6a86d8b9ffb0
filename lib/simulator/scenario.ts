/**
 * The simulated estate a finding lands in (issue 4's demo account), built
 * around the finding's own target (account, region, instance), so any
 * real-shaped GuardDuty or Security Hub event can be simulated:
 * - a web tier behind an ALB, in an Auto Scaling group;
 * - the instance has two ENIs, the second with IPv6;
 * - two volumes, one under the default `aws/ebs` key;
 * - its role shared with a neighbour instance;
 * - an attacker with an established C2 connection (IPv4, straight out), a
 *   second through a NAT gateway, an IPv6 one, and the instance's stolen
 *   role credentials.
 * Every knob is in `Scenario` (zod), which `cordon simulate --scenario file` reads.
 *
 * Also the fixture estate the workflow tests contain (fixed ids, no knobs): at the end.
 */
import { z } from 'zod';
import { AccountId } from '../../lambdas/shared/schemas';
import { SimAccount } from './account';
import type { Flow } from './conntrack';

export const Scenario = z
  .object({
    /** The security (hub) account. Ignored with `singleAccount`. */
    hubAccountId: AccountId.default('999988887777'),
    /** The hub is the finding's own account. */
    singleAccount: z.boolean().default(false),
    /** Round trip of every AWS call, simulated ms. */
    latencyMs: z.number().min(0).max(10_000).default(150),
    /** Lambda invoke + state transition overhead per Task, simulated ms. */
    invokeOverheadMs: z.number().min(0).max(10_000).default(25),
    settleSeconds: z.number().int().min(0).max(300).default(15),
    tcpEstablishedTimeoutSeconds: z.number().int().min(60).max(432_000).default(60),
    revokeSessions: z.enum(['auto', 'always', 'never']).default('auto'),
    /** How long IAM takes to enforce a policy change everywhere. */
    iamPropagationSeconds: z.number().min(0).max(600).default(5),
    /** EC2 token-bucket throttling on. */
    throttling: z.boolean().default(true),
    /** Seed of every random choice (jitter): same seed, same run. */
    seed: z.number().int().default(1),
    instance: z
      .object({
        state: z.enum(['running', 'stopped', 'terminated']).default('running'),
        /** `shared`: the role is used by a neighbour too; `own`: by this instance only; `none`: no profile. */
        profile: z.enum(['shared', 'own', 'none']).default('shared'),
        ipv6: z.boolean().default(true),
        autoScaling: z.boolean().default(true),
        loadBalancer: z.boolean().default(true),
        nitro: z.boolean().default(true),
        tags: z.record(z.string(), z.string()).default({}),
        volumes: z
          .array(z.object({ sizeGiB: z.number().int().min(1).max(65_536), key: z.enum(['default', 'customer', 'none']) }).strict())
          .min(1)
          .max(16)
          .default([
            { sizeGiB: 8, key: 'default' },
            { sizeGiB: 100, key: 'customer' },
          ]),
      })
      .strict()
      .prefault({}),
    attacker: z
      .object({
        /** The C2 connection straight out through the internet gateway sends a packet this often. */
        c2BeaconSeconds: z.number().min(1).max(86_400).default(120),
        /** The second connection, out through a NAT gateway. */
        natBeaconSeconds: z.number().min(1).max(86_400).default(300),
        /** An IPv6 connection on the second ENI. */
        ipv6BeaconSeconds: z.number().min(1).max(86_400).default(90),
        /** When the instance credentials the attacker holds were issued, before the finding. */
        credentialsIssuedMinutesBefore: z.number().min(0).max(360).default(60),
      })
      .strict()
      .prefault({}),
    snapshots: z
      .object({
        /** A snapshot takes this long plus `secondsPerGiB` per GiB of volume. */
        baseSeconds: z.number().min(0).default(60),
        secondsPerGiB: z.number().min(0).default(3),
        /** A copy (re-encryption, cross-account) takes this long plus the same per-GiB time. */
        copyBaseSeconds: z.number().min(0).default(90),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

export interface Target {
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
}

/** What a built instance consists of, for the after-checks. */
export interface BuiltInstance {
  readonly instanceId: string;
  readonly enis: string[];
  readonly volumes: string[];
  readonly roleName?: string;
  readonly neighbourId?: string;
  readonly neighbourEnis: string[];
  readonly flows: Flow[];
  /** The credentials the attacker stole: issued to this instance, at this time. */
  readonly stolenCredentialsIssuedAt?: Date;
  readonly neighbourCredentialsIssuedAt?: Date;
  readonly targetGroupArn?: string;
}

/** Deterministic resource ids per instance index, 17 hex digits like AWS's. */
const id = (prefix: string, kind: number, index: number) => `${prefix}-${kind.toString(16)}${index.toString(16).padStart(16, '0')}`;

export interface Estate {
  readonly world: SimAccount;
  readonly vpcId: string;
  readonly appGroup: string;
  readonly scenario: Scenario;
  readonly region: string;
  readonly accountId: string;
}

/** The account, region, VPC and web-tier security group the instances live in. */
export function buildEstate(target: Pick<Target, 'accountId' | 'region'>, scenario: Scenario, start: Date): Estate {
  const world = new SimAccount(target.accountId, target.region);
  const vpcId = 'vpc-0c0ffee0c0ffee001';
  world.addVpc(vpcId, true);
  const appGroup = world.addGroup(vpcId, 'web-app');
  // The web tier admits HTTPS from inside the VPC (the ALB); egress is the default allow-all (IPv4 and IPv6).
  world.groups.get(appGroup)?.rules.push({ id: 'sgr-0web0https0vpc001', egress: false, protocol: 'tcp', cidr4: '10.0.0.0/16' });
  const s = scenario.snapshots;
  world.snapshotDurationMs = (size, copy) => ((copy ? s.copyBaseSeconds : s.baseSeconds) + s.secondsPerGiB * size) * 1000;
  world.now = () => start;
  return { world, vpcId, appGroup, scenario, region: target.region, accountId: target.accountId };
}

/** Add the web instance `instanceId` (the `index`th in the estate) with its neighbour, volumes and attacker. */
export function addWebInstance(estate: Estate, instanceId: string, index: number, start: Date): BuiltInstance {
  const { world, vpcId, appGroup, scenario } = estate;
  const o = scenario.instance;
  const octet = (n: number) => `10.0.${3 + Math.floor(index / 200)}.${(index % 200) + 10 + n}`;
  const enis = [id('eni', 10, index), id('eni', 11, index)];
  const roleName = o.profile === 'none' ? undefined : o.profile === 'shared' ? 'web-role' : `web-role-${index}`;
  const profile = roleName ? { name: o.profile === 'shared' ? 'web-profile' : `web-profile-${index}`, roleName } : undefined;
  const volumes = o.volumes.map((v, n) => ({
    volumeId: id('vol', 12 + n, index),
    device: n === 0 ? '/dev/xvda' : `/dev/xvd${String.fromCharCode(102 + n - 1)}`,
    deleteOnTermination: n === 0,
    size: v.sizeGiB,
    key: v.key,
  }));
  world.addInstance({
    id: instanceId,
    enis: [
      { id: enis[0], vpcId, subnetId: 'subnet-0c0ffee0c0ffee0a1', groups: [appGroup], ipv6: [], privateIp: octet(0) },
      {
        id: enis[1],
        vpcId,
        subnetId: 'subnet-0c0ffee0c0ffee0b1',
        groups: [appGroup],
        ipv6: o.ipv6 ? [`2600:1f18:c0ff:ee00::${(index + 16).toString(16)}`] : [],
        privateIp: octet(1),
      },
    ],
    tags: { Name: `web-${index}`, tier: 'web', ...o.tags },
    ...(profile ? { profile } : {}),
    ...(o.autoScaling ? { autoScalingGroup: 'web-asg' } : {}),
    volumes: volumes.map(({ key: _key, ...v }) => v),
    nitro: o.nitro,
    state: o.state,
  });
  for (const v of volumes) {
    world.volumeKeys.set(v.volumeId, v.key === 'default' ? 'alias/aws/ebs' : v.key === 'customer' ? `arn:aws:kms:${estate.region}:${estate.accountId}:key/web-data` : null);
  }

  let neighbourId: string | undefined;
  const neighbourEnis: string[] = [];
  if (o.profile === 'shared' && profile) {
    neighbourId = `i-${(0xbeef00000 + index).toString(16).padStart(17, '0')}`;
    const eni = id('eni', 13, index);
    world.addInstance({
      id: neighbourId,
      enis: [{ id: eni, vpcId, subnetId: 'subnet-0c0ffee0c0ffee0a1', groups: [appGroup], ipv6: [], privateIp: octet(100) }],
      tags: { Name: `web-neighbour-${index}`, tier: 'web' },
      profile,
      ...(o.autoScaling ? { autoScalingGroup: 'web-asg' } : {}),
      volumes: [{ volumeId: id('vol', 14, index), device: '/dev/xvda', deleteOnTermination: true, size: 8 }],
    });
    neighbourEnis.push(eni);
  }

  let targetGroupArn: string | undefined;
  if (o.loadBalancer) {
    targetGroupArn = `arn:aws:elasticloadbalancing:${estate.region}:${estate.accountId}:targetgroup/web-tg/0c0ffee0c0ffee01`;
    const tg = world.targetGroups.get(targetGroupArn) ?? { type: 'instance', targets: [] };
    tg.targets.push({ id: instanceId, port: 443, state: 'healthy' });
    if (neighbourId) tg.targets.push({ id: neighbourId, port: 443, state: 'healthy' });
    world.targetGroups.set(targetGroupArn, tg);
    if (o.autoScaling) world.asgTargetGroups.set('web-asg', [targetGroupArn]);
  }

  const a = scenario.attacker;
  const established = start.getTime() - 30 * 60_000;
  const flows: Flow[] = [
    {
      name: 'C2 over IPv4, straight out',
      eniId: enis[0] as string,
      protocol: 'tcp',
      family: 4,
      remote: '203.0.113.66',
      via: 'direct',
      establishedAt: established,
      packetEverySeconds: a.c2BeaconSeconds,
    },
    {
      name: 'C2 through the NAT gateway',
      eniId: enis[1] as string,
      protocol: 'tcp',
      family: 4,
      remote: '198.51.100.23',
      via: 'nat-gateway',
      establishedAt: established,
      packetEverySeconds: a.natBeaconSeconds,
    },
  ];
  if (o.ipv6) {
    flows.push({
      name: 'C2 over IPv6',
      eniId: enis[1] as string,
      protocol: 'tcp',
      family: 6,
      remote: '2001:db8:bad::66',
      via: 'direct',
      establishedAt: established,
      packetEverySeconds: a.ipv6BeaconSeconds,
    });
  }
  return {
    instanceId,
    enis,
    volumes: volumes.map((v) => v.volumeId),
    ...(roleName ? { roleName } : {}),
    ...(neighbourId ? { neighbourId } : {}),
    neighbourEnis,
    flows,
    ...(roleName ? { stolenCredentialsIssuedAt: new Date(start.getTime() - a.credentialsIssuedMinutesBefore * 60_000) } : {}),
    ...(neighbourId ? { neighbourCredentialsIssuedAt: new Date(start.getTime() - 10 * 60_000) } : {}),
    ...(targetGroupArn ? { targetGroupArn } : {}),
  };
}

// ------------------------------------------------------------------ the fixture estate (workflow tests)
/*
 * The web-tier instance the workflow tests contain, with fixed ids: two ENIs (one IPv6) in one VPC,
 * a role, two EBS volumes, optionally an Auto Scaling group and a neighbour sharing the role. Built
 * in the member (target) account; test/support/fake-aws.ts installs it behind every SDK client.
 */
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

/** A ContainmentRequest (lambdas/shared/schemas.ts) for the fixture instance. */
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

export interface FixtureOptions {
  readonly tags?: Record<string, string>;
  readonly asg?: string;
  readonly sharedRole?: boolean;
  readonly profile?: boolean;
  readonly nitro?: boolean;
}

/** Build the fixture instance (and its neighbour, with `sharedRole`) in `world`; returns its app security group. */
export function addFixtureInstance(world: SimAccount, options: FixtureOptions = {}): { appSg: string } {
  world.addVpc(VPC, true);
  const appSg = world.addGroup(VPC, 'web-app');
  world.addInstance({
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
    world.addInstance({
      id: NEIGHBOUR,
      enis: [{ vpcId: VPC, subnetId: 'subnet-0123abcd4567ef890', groups: [appSg], ipv6: [], privateIp: '10.0.3.26' }],
      profile: { name: 'web-profile', roleName: ROLE },
    });
  }
  return { appSg };
}
