/**
 * The simulated AWS account (DESIGN.md §6): enough EC2, IAM, Auto Scaling,
 * ELB, DynamoDB, S3 and SNS behaviour that the demo, the e2e tests and the
 * workflow tests can check outcomes (which groups an ENI ends up in, what the
 * role policy denies, what the ledger holds) rather than only which calls were
 * made. Commands reach it through `dispatch`, from the simulator's client
 * factory (lib/simulator/clients.ts) or, in tests, from aws-sdk-client-mock
 * (test/support/fake-aws.ts). Commands it does not model fail loudly.
 */
import { createHash } from 'node:crypto';
import type * as asg from '@aws-sdk/client-auto-scaling';
import type * as ec2 from '@aws-sdk/client-ec2';
import type * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import type * as iam from '@aws-sdk/client-iam';
import type * as s3 from '@aws-sdk/client-s3';
import type * as sns from '@aws-sdk/client-sns';
import type * as ddb from '@aws-sdk/lib-dynamodb';

export interface FakeEni {
  id: string;
  vpcId: string;
  subnetId: string;
  deviceIndex: number;
  groups: string[];
  ipv6: string[];
  privateIp: string;
  conntrack?: { TcpEstablishedTimeout?: number; UdpStreamTimeout?: number; UdpTimeout?: number };
}
export interface FakeInstance {
  id: string;
  state: string;
  nitro: boolean;
  enis: string[];
  tags: Record<string, string>;
  volumes: Array<{ volumeId: string; device: string; deleteOnTermination: boolean; size: number }>;
  disableApiTermination: boolean;
  shutdownBehavior: 'stop' | 'terminate';
}
export interface FakeRule {
  id: string;
  egress: boolean;
  protocol: string;
  cidr4?: string;
  cidr6?: string;
}
export interface FakeGroup {
  id: string;
  vpcId: string;
  name: string;
  tags: Record<string, string>;
  rules: FakeRule[];
}
export interface Call {
  service: string;
  command: string;
  input: Record<string, unknown>;
  /** The account whose credentials made the call. */
  account: string;
  /** When the model handled it (simulated time, ms since the epoch). */
  at: number;
}

/** The rules an ENI's groups add up to, and its tracked-TCP idle timeout, from `at` on. */
export interface EniState {
  at: number;
  groups: string[];
  rules: FakeRule[];
  tcpEstablishedTimeout: number;
}

/** The default idle timeout of an established tracked TCP flow (5 days). */
export const DEFAULT_TCP_ESTABLISHED_TIMEOUT = 432_000;

export interface FakeSnapshot {
  id: string;
  owner: string;
  volumeId: string;
  state: string;
  size: number;
  tags: Record<string, string>;
  startTime: Date;
  checks: number;
  /** KMS key ARN, `alias/aws/ebs` for the default key, or null when unencrypted. */
  kmsKeyId: string | null;
  sharedWith: string[];
  sourceSnapshotId?: string;
  /** Index in `calls` of the lookup that first saw it completed. */
  completedAtCall?: number;
}

type Handler = (input: never) => unknown;

function awsError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}


export class SimAccount {
  readonly accountId: string;
  readonly region: string;
  readonly instances = new Map<string, FakeInstance>();
  readonly enis = new Map<string, FakeEni>();
  readonly groups = new Map<string, FakeGroup>();
  readonly vpcs = new Map<string, { ipv6: boolean }>();
  readonly associations = new Map<string, { instanceId: string; profileArn: string; state: string }>();
  readonly profiles = new Map<string, { arn: string; roleName: string | null }>();
  readonly roles = new Map<string, { inline: Map<string, string> }>();
  readonly autoScaling = new Map<string, string>();
  readonly flowLogs: Array<{ id: string; resourceId: string; trafficType: string; status: string; destination?: string; input?: unknown }> = [];
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly deletedSnapshots: string[] = [];
  /** The snapshots deleted, as they were. */
  readonly deleted = new Map<string, FakeSnapshot>();
  /** Deleted snapshot id → index in `calls` of the DeleteSnapshot. */
  readonly deletedAtCall = new Map<string, number>();
  /** Volume encryption: volume id → KMS key (`alias/aws/ebs` for the default key) or null. */
  readonly volumeKeys = new Map<string, string | null>();
  readonly targetGroups = new Map<string, { type: string; targets: Array<{ id: string; port: number; state: string }> }>();
  readonly asgTargetGroups = new Map<string, string[]>();
  consoleScreenshotSupported = true;
  /** The model's clock: wall time in tests, the simulated clock in simulations. */
  now: () => Date = () => new Date();
  /**
   * How long a snapshot (or a copy) of `sizeGiB` takes to complete. When set, snapshots progress with
   * the clock; when not, they complete after `snapshotBehaviour.pendingChecks` lookups (tests).
   */
  snapshotDurationMs?: (sizeGiB: number, copy: boolean) => number;
  /** Each ENI's effective rules and timeout over time (what the connection-tracking model replays). */
  readonly eniHistory = new Map<string, EniState[]>();
  /** Every inline-policy change, in order (what credential evaluation over time replays). */
  readonly policyHistory: Array<{ at: number; roleName: string; policyName: string; document: string | null }> = [];
  /** The account whose credentials made the call being handled. */
  private caller = '';
  readonly items = new Map<string, Record<string, unknown>>();
  readonly objects = new Map<string, { body: Buffer; checksumSha256?: string; contentType?: string }>();
  readonly messages: Array<{ subject?: string; message: string; attributes: unknown }> = [];
  readonly calls: Call[] = [];
  /** Errors to throw on the next calls of a command, in order. */
  private readonly failures = new Map<string, Error[]>();
  /** How many DescribeSnapshots checks a snapshot stays pending; its final state. */
  snapshotBehaviour: { pendingChecks: number; finalState: (volumeId: string) => string } = {
    pendingChecks: 1,
    finalState: () => 'completed',
  };

  /** Ids are per account (and so per run): the same run makes the same ids. */
  private counter = 0;
  private hexId(prefix: string): string {
    return `${prefix}-${(++this.counter).toString(16).padStart(17, '0')}`;
  }

  constructor(accountId = '111122223333', region = 'us-east-1') {
    this.accountId = accountId;
    this.region = region;
  }

  /** Make the next `times` calls of `command` whose input matches `when` fail with an AWS error named `name`. */
  failWhen(command: string, when: (input: Record<string, unknown>) => boolean, name: string, times = 1): void {
    this.conditionalFailures.push({ command, when, name, left: times });
  }

  private readonly conditionalFailures: Array<{ command: string; when: (input: Record<string, unknown>) => boolean; name: string; left: number }> = [];

  /** Make the next `times` calls of `command` fail with an AWS error named `name`. */
  failNext(command: string, name: string, times = 1, message?: string): void {
    const list = this.failures.get(command) ?? [];
    for (let i = 0; i < times; i++) list.push(awsError(name, message ?? `${name} (injected)`));
    this.failures.set(command, list);
  }

  callsOf(command: string): Call[] {
    return this.calls.filter((c) => c.command === command);
  }

  indexOf(command: string, predicate: (input: Record<string, unknown>) => boolean = () => true): number {
    return this.calls.findIndex((c) => c.command === command && predicate(c.input));
  }

  // ------------------------------------------------------------------ dispatch
  /** Every modelled command, by service and command name (without `Command`). */
  private table(): Record<string, Record<string, Handler>> {
    return {
      ec2: {
        DescribeInstances: (i) => this.describeInstances(i),
        DescribeInstanceAttribute: (i) => this.describeInstanceAttribute(i),
        DescribeIamInstanceProfileAssociations: (i) => this.describeAssociations(i),
        ModifyInstanceAttribute: (i) => this.modifyInstanceAttribute(i),
        DescribeSecurityGroups: (i) => this.describeGroups(i),
        CreateSecurityGroup: (i) => this.createGroup(i),
        DescribeSecurityGroupRules: (i) => this.describeRules(i),
        AuthorizeSecurityGroupIngress: (i) => this.authorize(i, false),
        AuthorizeSecurityGroupEgress: (i) => this.authorize(i, true),
        RevokeSecurityGroupIngress: (i) => this.revoke(i),
        RevokeSecurityGroupEgress: (i) => this.revoke(i),
        ModifyNetworkInterfaceAttribute: (i) => this.modifyEni(i),
        DescribeNetworkInterfaces: (i) => this.describeEnis(i),
        DisassociateIamInstanceProfile: (i) => this.disassociate(i),
        DescribeFlowLogs: (i) => this.describeFlowLogs(i),
        CreateFlowLogs: (i) => this.createFlowLogs(i),
        CreateSnapshots: (i) => this.createSnapshots(i),
        DescribeSnapshots: (i) => this.describeSnapshots(i),
        CreateTags: (i) => this.createTags(i),
        CopySnapshot: (i) => this.copySnapshot(i),
        ModifySnapshotAttribute: (i) => this.modifySnapshotAttribute(i),
        DeleteSnapshot: (i) => this.deleteSnapshot(i),
        GetConsoleOutput: (i) => this.consoleOutput(i),
        GetConsoleScreenshot: (i) => this.consoleScreenshot(i),
        AssociateIamInstanceProfile: (i) => this.associate(i),
      },
      elasticloadbalancing: {
        DescribeTargetGroups: () => this.describeTargetGroups(),
        DescribeTargetHealth: (i) => this.describeTargetHealth(i),
        DeregisterTargets: (i) => this.deregisterTargets(i),
      },
      iam: {
        GetInstanceProfile: (i) => this.getInstanceProfile(i),
        GetRole: (i) => this.getRole(i),
        ListInstanceProfilesForRole: (i) => this.listProfilesForRole(i),
        GetRolePolicy: (i) => this.getRolePolicy(i),
        PutRolePolicy: (i) => this.putRolePolicy(i),
        DeleteRolePolicy: (i) => this.deleteRolePolicy(i),
      },
      autoscaling: {
        DescribeAutoScalingInstances: (i) => this.describeAsgInstances(i),
        DetachInstances: (i) => this.detachInstances(i),
        DescribeAutoScalingGroups: (i) => this.describeAsgs(i),
      },
      dynamodb: {
        Update: (i) => this.ddbUpdate(i),
        Put: (i) => this.ddbPut(i),
        Get: (i) => this.ddbGet(i),
        Query: (i: ddb.QueryCommandInput) => (i.IndexName ? this.ddbQueryIndex(i) : this.ddbQuery(i)),
      },
      s3: {
        PutObject: (i) => this.putObject(i),
        ListObjectsV2: (i) => this.listObjects(i),
        HeadObject: (i) => this.headObject(i),
      },
      sns: { Publish: (i) => this.publish(i) },
      states: { SendTaskSuccess: (i) => this.sendTaskSuccess(i), SendTaskFailure: (i) => this.sendTaskFailure(i) },
    };
  }

  private handlers?: Record<string, Record<string, Handler>>;

  /** Whether the model handles `service`/`command`. */
  models(service: string, command: string): boolean {
    this.handlers ??= this.table();
    return Boolean(this.handlers[service]?.[command]);
  }

  /**
   * Handle one SDK command, as the account `caller` (whose credentials signed it). Anything not
   * modelled fails loudly. Errors carry `$metadata.requestId` as real service errors do.
   */
  async dispatch(service: string, command: string, input: Record<string, unknown>, caller: string): Promise<Record<string, unknown>> {
    this.handlers ??= this.table();
    const handler = this.handlers[service]?.[command];
    if (!handler) throw new Error(`FakeAws: ${service} command not modelled: ${command} ${JSON.stringify(input).slice(0, 200)}`);
    this.caller = caller;
    this.calls.push({ service, command, input: structuredClone(input), account: this.caller, at: this.now().getTime() });
    const requestId = `req-${(++this.counter).toString(16).padStart(8, '0')}`;
    const conditional = this.conditionalFailures.find((f) => f.command === command && f.left > 0 && f.when(input));
    if (conditional) {
      conditional.left -= 1;
      throw Object.assign(awsError(conditional.name, `${conditional.name} (injected)`), { $metadata: { requestId, httpStatusCode: 400 } });
    }
    const queued = this.failures.get(command);
    if (queued?.length) {
      const err = queued.shift() as Error & { $metadata?: unknown };
      err.$metadata = { requestId, httpStatusCode: 400 };
      throw err;
    }
    let out: Record<string, unknown>;
    try {
      out = (await handler(input as never)) as Record<string, unknown>;
    } catch (err) {
      // Real service errors carry the request id too.
      if (err instanceof Error && !err.message.startsWith('FakeAws')) Object.assign(err, { $metadata: { requestId, httpStatusCode: 400 } });
      throw err;
    }
    return { ...out, $metadata: { requestId, httpStatusCode: 200 } };
  }

  // ------------------------------------------------------------------ builders
  addVpc(vpcId: string, ipv6 = false): void {
    this.vpcs.set(vpcId, { ipv6 });
  }

  addGroup(vpcId: string, name: string, tags: Record<string, string> = {}): string {
    const id = this.hexId('sg');
    const rules: FakeRule[] = [{ id: this.hexId('sgr'), egress: true, protocol: '-1', cidr4: '0.0.0.0/0' }];
    if (this.vpcs.get(vpcId)?.ipv6) rules.push({ id: this.hexId('sgr'), egress: true, protocol: '-1', cidr6: '::/0' });
    this.groups.set(id, { id, vpcId, name, tags, rules });
    return id;
  }

  addInstance(spec: {
    id: string;
    enis: Array<Omit<FakeEni, 'id' | 'deviceIndex'> & { id?: string }>;
    tags?: Record<string, string>;
    profile?: { name: string; roleName: string | null };
    autoScalingGroup?: string;
    volumes?: FakeInstance['volumes'];
    nitro?: boolean;
    state?: string;
  }): FakeInstance {
    const enis = spec.enis.map((e, deviceIndex) => {
      const eni: FakeEni = { ...e, id: e.id ?? this.hexId('eni'), deviceIndex };
      this.enis.set(eni.id, eni);
      if (!this.vpcs.has(eni.vpcId)) this.addVpc(eni.vpcId, eni.ipv6.length > 0);
      return eni.id;
    });
    for (const eniId of enis) this.recordEni(eniId);
    const instance: FakeInstance = {
      id: spec.id,
      state: spec.state ?? 'running',
      nitro: spec.nitro ?? true,
      enis,
      tags: spec.tags ?? {},
      volumes: spec.volumes ?? [],
      disableApiTermination: false,
      shutdownBehavior: 'stop',
    };
    this.instances.set(spec.id, instance);
    if (spec.profile) {
      const arn = `arn:aws:iam::${this.accountId}:instance-profile/${spec.profile.name}`;
      this.profiles.set(spec.profile.name, { arn, roleName: spec.profile.roleName });
      if (spec.profile.roleName && !this.roles.has(spec.profile.roleName)) {
        this.roles.set(spec.profile.roleName, { inline: new Map() });
      }
      this.associations.set(this.hexId('iip-assoc'), { instanceId: spec.id, profileArn: arn, state: 'associated' });
    }
    if (spec.autoScalingGroup) this.autoScaling.set(spec.id, spec.autoScalingGroup);
    return instance;
  }

  instanceArn(instanceId: string): string {
    return `arn:aws:ec2:${this.region}:${this.accountId}:instance/${instanceId}`;
  }

  /** Append the ENI's current effective rules and timeout to its history. */
  protected recordEni(eniId: string): void {
    const e = this.enis.get(eniId);
    if (!e) return;
    const history = this.eniHistory.get(eniId) ?? [];
    history.push({
      at: this.now().getTime(),
      groups: [...e.groups],
      rules: e.groups.flatMap((g) => (this.groups.get(g)?.rules ?? []).map((r) => ({ ...r }))),
      tcpEstablishedTimeout: e.conntrack?.TcpEstablishedTimeout ?? DEFAULT_TCP_ESTABLISHED_TIMEOUT,
    });
    this.eniHistory.set(eniId, history);
  }

  /** A group's rules changed: every ENI in it has new effective rules. */
  protected recordGroup(groupId: string): void {
    for (const e of this.enis.values()) if (e.groups.includes(groupId)) this.recordEni(e.id);
  }

  // ------------------------------------------------------------------ outcome queries
  /** Would a request signed with credentials issued to `instanceId` at `issuedAt` be denied by an inline policy? */
  credentialsDenied(roleName: string, instanceId: string, issuedAt: Date): boolean {
    const role = this.roles.get(roleName);
    if (!role) return false;
    return [...role.inline.values()].some((text) => this.policyDenies(text, instanceId, issuedAt));
  }

  /**
   * The first moment at or after `from` (ms) from which such a request is denied, replaying the
   * role's inline-policy history with IAM's propagation delay; undefined if never (so far).
   */
  credentialsDeniedFrom(roleName: string, instanceId: string, issuedAt: Date, propagationMs: number): number | undefined {
    const current = new Map<string, string | null>();
    for (const change of this.policyHistory) {
      if (change.roleName !== roleName) continue;
      current.set(change.policyName, change.document);
      const denied = [...current.values()].some((doc) => doc !== null && this.policyDenies(doc, instanceId, issuedAt));
      if (denied) return change.at + propagationMs;
    }
    return undefined;
  }

  /** Deny statements conditioned on `ec2:SourceInstanceARN` or `aws:TokenIssueTime`: the two cordon writes. */
  private policyDenies(text: string, instanceId: string, issuedAt: Date): boolean {
    const doc = JSON.parse(text) as { Statement: Array<{ Effect: string; Condition?: Record<string, Record<string, unknown>> }> };
    for (const s of doc.Statement) {
      if (s.Effect !== 'Deny') continue;
      const arns = s.Condition?.StringEquals?.['ec2:SourceInstanceARN'];
      if (arns !== undefined && [arns].flat().includes(this.instanceArn(instanceId))) return true;
      const before = s.Condition?.DateLessThan?.['aws:TokenIssueTime'];
      if (typeof before === 'string' && issuedAt.getTime() < Date.parse(before)) return true;
    }
    return false;
  }

  item(pk: string, sk: string): Record<string, unknown> | undefined {
    return this.items.get(`${pk}|${sk}`);
  }

  // ------------------------------------------------------------------ EC2
  private instance(id: string): FakeInstance {
    const i = this.instances.get(id);
    if (!i) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  }

  private describeInstances(input: ec2.DescribeInstancesCommandInput) {
    let list: FakeInstance[];
    if (input.InstanceIds) list = input.InstanceIds.map((id) => this.instance(id));
    else {
      list = [...this.instances.values()];
      for (const f of input.Filters ?? []) {
        if (f.Name === 'iam-instance-profile.arn') {
          list = list.filter((i) =>
            [...this.associations.values()].some((a) => a.instanceId === i.id && a.state === 'associated' && f.Values?.includes(a.profileArn)),
          );
        } else if (f.Name === 'instance-state-name') list = list.filter((i) => f.Values?.includes(i.state));
        else throw new Error(`FakeAws: DescribeInstances filter ${f.Name} not modelled`);
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
              const e = this.enis.get(id) as FakeEni;
              return {
                NetworkInterfaceId: e.id,
                VpcId: e.vpcId,
                SubnetId: e.subnetId,
                PrivateIpAddress: e.privateIp,
                Attachment: { DeviceIndex: e.deviceIndex },
                Groups: e.groups.map((g) => ({ GroupId: g, GroupName: this.groups.get(g)?.name })),
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

  private describeInstanceAttribute(input: ec2.DescribeInstanceAttributeCommandInput) {
    const i = this.instance(input.InstanceId as string);
    if (input.Attribute === 'disableApiTermination') return { DisableApiTermination: { Value: i.disableApiTermination } };
    if (input.Attribute === 'instanceInitiatedShutdownBehavior') return { InstanceInitiatedShutdownBehavior: { Value: i.shutdownBehavior } };
    throw new Error(`FakeAws: attribute ${input.Attribute} not modelled`);
  }

  private modifyInstanceAttribute(input: ec2.ModifyInstanceAttributeCommandInput) {
    const i = this.instance(input.InstanceId as string);
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

  private describeAssociations(input: ec2.DescribeIamInstanceProfileAssociationsCommandInput) {
    const byInstance = input.Filters?.find((f) => f.Name === 'instance-id')?.Values;
    const states = input.Filters?.find((f) => f.Name === 'state')?.Values;
    return {
      IamInstanceProfileAssociations: [...this.associations.entries()]
        .filter(([, a]) => (!byInstance || byInstance.includes(a.instanceId)) && (!states || states.includes(a.state)))
        .map(([id, a]) => ({ AssociationId: id, InstanceId: a.instanceId, IamInstanceProfile: { Arn: a.profileArn }, State: a.state })),
    };
  }

  private disassociate(input: ec2.DisassociateIamInstanceProfileCommandInput) {
    const a = this.associations.get(input.AssociationId as string);
    if (!a || a.state !== 'associated') throw awsError('InvalidAssociationID.NotFound');
    a.state = 'disassociated';
    return { IamInstanceProfileAssociation: { AssociationId: input.AssociationId, State: 'disassociating' } };
  }

  private describeGroups(input: ec2.DescribeSecurityGroupsCommandInput) {
    let list = [...this.groups.values()];
    for (const f of input.Filters ?? []) {
      const values = f.Values ?? [];
      if (f.Name === 'vpc-id') list = list.filter((g) => values.includes(g.vpcId));
      else if (f.Name === 'group-name') list = list.filter((g) => values.includes(g.name));
      else if (f.Name?.startsWith('tag:')) {
        const key = f.Name.slice(4);
        list = list.filter((g) => g.tags[key] !== undefined && values.includes(g.tags[key] as string));
      } else throw new Error(`FakeAws: DescribeSecurityGroups filter ${f.Name} not modelled`);
    }
    return { SecurityGroups: list.map((g) => ({ GroupId: g.id, GroupName: g.name, VpcId: g.vpcId })) };
  }

  private createGroup(input: ec2.CreateSecurityGroupCommandInput) {
    const vpcId = input.VpcId as string;
    if (!this.vpcs.has(vpcId)) throw awsError('InvalidVpcID.NotFound');
    if ([...this.groups.values()].some((g) => g.vpcId === vpcId && g.name === input.GroupName)) throw awsError('InvalidGroup.Duplicate');
    const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]));
    const id = this.addGroup(vpcId, input.GroupName as string, tags as Record<string, string>);
    return { GroupId: id };
  }

  private group(id: string): FakeGroup {
    const g = this.groups.get(id);
    if (!g) throw awsError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return g;
  }

  private describeRules(input: ec2.DescribeSecurityGroupRulesCommandInput) {
    const ids = input.Filters?.find((f) => f.Name === 'group-id')?.Values ?? [];
    const rules = ids.flatMap((id) =>
      this.group(id).rules.map((r) => ({
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

  private authorize(input: ec2.AuthorizeSecurityGroupIngressCommandInput, egress: boolean) {
    const g = this.group(input.GroupId as string);
    const added: FakeRule[] = [];
    for (const p of input.IpPermissions ?? []) {
      for (const r of p.IpRanges ?? []) added.push({ id: this.hexId('sgr'), egress, protocol: p.IpProtocol as string, cidr4: r.CidrIp });
      for (const r of p.Ipv6Ranges ?? []) added.push({ id: this.hexId('sgr'), egress, protocol: p.IpProtocol as string, cidr6: r.CidrIpv6 });
    }
    for (const a of added) {
      if (g.rules.some((r) => r.egress === a.egress && r.protocol === a.protocol && r.cidr4 === a.cidr4 && r.cidr6 === a.cidr6)) {
        throw awsError('InvalidPermission.Duplicate');
      }
    }
    g.rules.push(...added);
    this.recordGroup(g.id);
    return { Return: true };
  }

  private revoke(input: ec2.RevokeSecurityGroupEgressCommandInput) {
    const g = this.group(input.GroupId as string);
    for (const id of input.SecurityGroupRuleIds ?? []) {
      if (!g.rules.some((r) => r.id === id)) throw awsError('InvalidSecurityGroupRuleId.NotFound');
    }
    g.rules = g.rules.filter((r) => !input.SecurityGroupRuleIds?.includes(r.id));
    this.recordGroup(g.id);
    return { Return: true };
  }

  private eni(id: string): FakeEni {
    const e = this.enis.get(id);
    if (!e) throw awsError('InvalidNetworkInterfaceID.NotFound');
    return e;
  }

  private modifyEni(input: ec2.ModifyNetworkInterfaceAttributeCommandInput) {
    const e = this.eni(input.NetworkInterfaceId as string);
    if (input.Groups) {
      for (const g of input.Groups) if (this.group(g).vpcId !== e.vpcId) throw awsError('InvalidGroup.NotFound');
      e.groups = [...input.Groups];
    }
    if (input.ConnectionTrackingSpecification) {
      const owner = [...this.instances.values()].find((i) => i.enis.includes(e.id));
      if (owner && !owner.nitro) throw awsError('UnsupportedOperation', 'connection tracking configuration requires a Nitro instance');
      e.conntrack = { ...e.conntrack, ...input.ConnectionTrackingSpecification };
    }
    this.recordEni(e.id);
    return {};
  }

  private describeEnis(input: ec2.DescribeNetworkInterfacesCommandInput) {
    return {
      NetworkInterfaces: (input.NetworkInterfaceIds ?? []).map((id) => {
        const e = this.eni(id);
        return { NetworkInterfaceId: e.id, VpcId: e.vpcId, Groups: e.groups.map((g) => ({ GroupId: g })) };
      }),
    };
  }

  private describeFlowLogs(input: ec2.DescribeFlowLogsCommandInput) {
    const ids = input.Filter?.find((f) => f.Name === 'resource-id')?.Values ?? [];
    return {
      FlowLogs: this.flowLogs
        .filter((f) => ids.includes(f.resourceId))
        .map((f) => ({ FlowLogId: f.id, ResourceId: f.resourceId, TrafficType: f.trafficType, FlowLogStatus: f.status, LogDestination: f.destination })),
    };
  }

  private createFlowLogs(input: ec2.CreateFlowLogsCommandInput) {
    const ids: string[] = [];
    for (const resourceId of input.ResourceIds ?? []) {
      const id = this.hexId('fl');
      this.flowLogs.push({ id, resourceId, trafficType: input.TrafficType as string, status: 'ACTIVE', destination: input.LogDestination, input });
      ids.push(id);
    }
    return { FlowLogIds: ids, Unsuccessful: [] };
  }

  private createSnapshots(input: ec2.CreateSnapshotsCommandInput) {
    const i = this.instance(input.InstanceSpecification?.InstanceId as string);
    const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
    const created = i.volumes.map((v) => {
      const id = this.hexId('snap');
      const snap: FakeSnapshot = {
        id,
        owner: this.caller,
        volumeId: v.volumeId,
        state: 'pending',
        size: v.size,
        tags: { ...tags },
        startTime: this.now(),
        checks: 0,
        kmsKeyId: this.volumeKeys.get(v.volumeId) ?? null,
        sharedWith: [],
      };
      this.snapshots.set(id, snap);
      return { SnapshotId: id, VolumeId: v.volumeId, State: 'pending', VolumeSize: v.size, StartTime: snap.startTime };
    });
    return { Snapshots: created };
  }

  private visible(s: FakeSnapshot): boolean {
    return s.owner === this.caller || s.sharedWith.includes(this.caller);
  }

  private describeSnapshots(input: ec2.DescribeSnapshotsCommandInput) {
    let list = [...this.snapshots.values()].filter((s) => this.visible(s));
    if (input.OwnerIds?.includes('self')) list = list.filter((s) => s.owner === this.caller);
    if (input.SnapshotIds) {
      list = input.SnapshotIds.map((id) => {
        const s = this.snapshots.get(id);
        if (!s || !this.visible(s)) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
        return s;
      });
    }
    const byId = input.Filters?.find((f) => f.Name === 'snapshot-id')?.Values;
    for (const f of input.Filters ?? []) {
      const values = f.Values ?? [];
      if (f.Name === 'volume-id') list = list.filter((s) => values.includes(s.volumeId));
      else if (f.Name === 'snapshot-id') list = list.filter((s) => values.includes(s.id));
      else if (f.Name?.startsWith('tag:')) list = list.filter((s) => values.includes(s.tags[f.Name?.slice(4) as string] as string));
      else throw new Error(`FakeAws: DescribeSnapshots filter ${f.Name} not modelled`);
    }
    if (this.snapshotDurationMs) {
      // Snapshots progress with the clock, sized by volume.
      for (const s of list) {
        if (s.state !== 'pending') continue;
        const duration = this.snapshotDurationMs(s.size, s.sourceSnapshotId !== undefined);
        if (this.now().getTime() >= s.startTime.getTime() + duration) {
          s.state = s.sourceSnapshotId ? 'completed' : this.snapshotBehaviour.finalState(s.volumeId);
          if (s.state === 'completed') s.completedAtCall = this.calls.length - 1;
        }
      }
    } else if (input.SnapshotIds || byId) {
      // A snapshot progresses each time it is looked up by id (by SnapshotIds or the snapshot-id filter).
      for (const s of list) {
        s.checks += 1;
        if (s.state === 'pending' && s.checks > this.snapshotBehaviour.pendingChecks) s.state = this.snapshotBehaviour.finalState(s.volumeId);
        if (s.state === 'completed' && s.completedAtCall === undefined) s.completedAtCall = this.calls.length - 1;
      }
    }
    return {
      Snapshots: list.map((s) => ({
        SnapshotId: s.id,
        VolumeId: s.volumeId,
        State: s.state,
        Progress: s.state === 'completed' ? '100%' : '50%',
        VolumeSize: s.size,
        StartTime: s.startTime,
        OwnerId: s.owner,
        Encrypted: s.kmsKeyId !== null,
        KmsKeyId: s.kmsKeyId ?? undefined,
        Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  }

  private copySnapshot(input: ec2.CopySnapshotCommandInput) {
    const source = this.snapshots.get(input.SourceSnapshotId as string);
    if (!source || !this.visible(source)) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${input.SourceSnapshotId}' does not exist.`);
    if (source.state !== 'completed') throw awsError('IncorrectState', `Snapshot ${source.id} is ${source.state}`);
    if (input.KmsKeyId?.startsWith('alias/')) throw awsError('InvalidParameterValue', 'name the key by ARN: an alias resolves in the caller account');
    const copies = [...this.snapshots.values()].filter((s) => s.owner === this.caller && s.sourceSnapshotId && s.state === 'pending');
    if (copies.length >= 20) throw awsError('ResourceLimitExceeded', 'at most 20 concurrent snapshot copies per destination region');
    const id = this.hexId('snap');
    const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
    this.snapshots.set(id, {
      id,
      owner: this.caller,
      volumeId: 'vol-ffffffff',
      state: 'pending',
      size: source.size,
      tags, // CopySnapshot does not copy tags: only what the request passes
      startTime: this.now(),
      checks: 0,
      kmsKeyId: input.Encrypted ? (input.KmsKeyId ?? source.kmsKeyId ?? 'alias/aws/ebs') : source.kmsKeyId,
      sharedWith: [],
      sourceSnapshotId: source.id,
    });
    return { SnapshotId: id };
  }

  private modifySnapshotAttribute(input: ec2.ModifySnapshotAttributeCommandInput) {
    const s = this.snapshots.get(input.SnapshotId as string);
    if (!s || s.owner !== this.caller) throw awsError('InvalidSnapshot.NotFound');
    if (input.Attribute !== 'createVolumePermission') throw new Error('FakeAws: only createVolumePermission is modelled');
    const add = input.CreateVolumePermission?.Add?.map((p) => p.UserId as string) ?? [];
    if (add.length && s.kmsKeyId === 'alias/aws/ebs') {
      throw awsError('InvalidParameter', 'Snapshots encrypted with the AWS Managed CMK can\'t be shared. Try again with a customer managed CMK.');
    }
    s.sharedWith.push(...add);
    return {};
  }

  private deleteSnapshot(input: ec2.DeleteSnapshotCommandInput) {
    const s = this.snapshots.get(input.SnapshotId as string);
    if (!s || s.owner !== this.caller) throw awsError('InvalidSnapshot.NotFound');
    this.snapshots.delete(s.id);
    this.deletedSnapshots.push(s.id);
    this.deleted.set(s.id, s);
    this.deletedAtCall.set(s.id, this.calls.length - 1);
    return {};
  }

  private consoleOutput(input: ec2.GetConsoleOutputCommandInput) {
    this.instance(input.InstanceId as string);
    return { InstanceId: input.InstanceId, Output: Buffer.from(`[    0.000000] Linux version 6.1\nlogin: ${input.InstanceId}\n`).toString('base64') };
  }

  private consoleScreenshot(input: ec2.GetConsoleScreenshotCommandInput) {
    this.instance(input.InstanceId as string);
    if (!this.consoleScreenshotSupported) throw awsError('UnsupportedOperation', 'The instance type does not support console screenshots');
    return { InstanceId: input.InstanceId, ImageData: Buffer.from('\xff\xd8\xff\xe0fake-jpeg').toString('base64') };
  }

  private describeTargetGroups() {
    return {
      TargetGroups: [...this.targetGroups.entries()].map(([arn, tg]) => ({ TargetGroupArn: arn, TargetType: tg.type })),
    };
  }

  private describeTargetHealth(input: elb.DescribeTargetHealthCommandInput) {
    const tg = this.targetGroups.get(input.TargetGroupArn as string);
    if (!tg) throw awsError('TargetGroupNotFound');
    return {
      TargetHealthDescriptions: tg.targets.map((t) => ({ Target: { Id: t.id, Port: t.port }, TargetHealth: { State: t.state } })),
    };
  }

  private deregisterTargets(input: elb.DeregisterTargetsCommandInput) {
    const tg = this.targetGroups.get(input.TargetGroupArn as string);
    if (!tg) throw awsError('TargetGroupNotFound');
    for (const t of input.Targets ?? []) tg.targets = tg.targets.filter((x) => !(x.id === t.Id && (t.Port === undefined || x.port === t.Port)));
    return {};
  }

  private createTags(input: ec2.CreateTagsCommandInput) {
    for (const id of input.Resources ?? []) {
      const s = this.snapshots.get(id);
      if (!s || s.owner !== this.caller) throw awsError('InvalidID', `tagging ${id} is not modelled`);
      for (const t of input.Tags ?? []) s.tags[t.Key as string] = t.Value as string;
    }
    return {};
  }

  // ------------------------------------------------------------------ IAM and Auto Scaling
  private getInstanceProfile(input: iam.GetInstanceProfileCommandInput) {
    const p = this.profiles.get(input.InstanceProfileName as string);
    if (!p) throw awsError('NoSuchEntityException');
    return { InstanceProfile: { Arn: p.arn, InstanceProfileName: input.InstanceProfileName, Roles: p.roleName ? [{ RoleName: p.roleName }] : [] } };
  }

  private getRole(input: iam.GetRoleCommandInput) {
    if (!this.roles.has(input.RoleName as string)) throw awsError('NoSuchEntityException');
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    return { Role: { RoleName: input.RoleName, AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)), RoleLastUsed: { Region: this.region } } };
  }

  private listProfilesForRole(input: iam.ListInstanceProfilesForRoleCommandInput) {
    return {
      InstanceProfiles: [...this.profiles.values()].filter((p) => p.roleName === input.RoleName).map((p) => ({ Arn: p.arn })),
      IsTruncated: false,
    };
  }

  private getRolePolicy(input: iam.GetRolePolicyCommandInput) {
    const doc = this.roles.get(input.RoleName as string)?.inline.get(input.PolicyName as string);
    if (doc === undefined) throw awsError('NoSuchEntityException');
    return { RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(doc) };
  }

  private putRolePolicy(input: iam.PutRolePolicyCommandInput) {
    const role = this.roles.get(input.RoleName as string);
    if (!role) throw awsError('NoSuchEntityException');
    JSON.parse(input.PolicyDocument as string);
    role.inline.set(input.PolicyName as string, input.PolicyDocument as string);
    this.policyHistory.push({ at: this.now().getTime(), roleName: input.RoleName as string, policyName: input.PolicyName as string, document: input.PolicyDocument as string });
    return {};
  }

  private describeAsgInstances(input: asg.DescribeAutoScalingInstancesCommandInput) {
    return {
      AutoScalingInstances: (input.InstanceIds ?? [])
        .filter((id) => this.autoScaling.has(id))
        .map((id) => ({ InstanceId: id, AutoScalingGroupName: this.autoScaling.get(id), LifecycleState: 'InService' })),
    };
  }

  private describeAsgs(input: asg.DescribeAutoScalingGroupsCommandInput) {
    return {
      AutoScalingGroups: (input.AutoScalingGroupNames ?? []).map((n) => ({ AutoScalingGroupName: n, TargetGroupARNs: this.asgTargetGroups.get(n) ?? [] })),
    };
  }

  private detachInstances(input: asg.DetachInstancesCommandInput) {
    for (const id of input.InstanceIds ?? []) {
      if (this.autoScaling.get(id) !== input.AutoScalingGroupName) throw awsError('ValidationError', `instance ${id} is not part of ${input.AutoScalingGroupName}`);
      this.autoScaling.delete(id);
      // Leaving the group deregisters the instance from the group's own target groups (it drains).
      for (const arn of this.asgTargetGroups.get(input.AutoScalingGroupName as string) ?? []) {
        for (const t of this.targetGroups.get(arn)?.targets ?? []) if (t.id === id) t.state = 'draining';
      }
    }
    return { Activities: [{ ActivityId: this.hexId('act') }] };
  }

  // ------------------------------------------------------------------ DynamoDB (the subset of expressions the ledger uses)
  private key(k: Record<string, unknown>): string {
    return `${String(k.pk)}|${String(k.sk)}`;
  }

  private ddbGet(input: ddb.GetCommandInput) {
    const item = this.items.get(this.key(input.Key as Record<string, unknown>));
    return { Item: item ? structuredClone(item) : undefined };
  }

  private ddbPut(input: ddb.PutCommandInput) {
    const item = input.Item as Record<string, unknown>;
    const k = this.key(item);
    if (input.ConditionExpression && !this.condition(input.ConditionExpression, this.items.get(k), input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {})) {
      throw awsError('ConditionalCheckFailedException');
    }
    this.items.set(k, structuredClone(item));
    return {};
  }

  private ddbQuery(input: ddb.QueryCommandInput) {
    if (input.IndexName) return this.ddbQueryIndex(input);
    if (input.KeyConditionExpression !== 'pk = :pk') throw new Error(`FakeAws: key condition ${input.KeyConditionExpression} not modelled`);
    const pk = (input.ExpressionAttributeValues as Record<string, unknown>)[':pk'];
    const items = [...this.items.values()].filter((i) => i.pk === pk).sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    return { Items: structuredClone(items) };
  }

  /** The condition-expression subset the ledger uses: OR of attribute_(not_)exists, NOT contains, =, <, IN, and one parenthesised AND. */
  private condition(expr: string, item: Record<string, unknown> | undefined, names: Record<string, string>, values: Record<string, unknown>): boolean {
    const read = (p: string) => p.trim().split('.').map((x) => names[x] ?? x).reduce<unknown>((o, x) => (o as Record<string, unknown> | undefined)?.[x], item);
    const operand = (t: string) => (t.trim().startsWith(':') ? values[t.trim()] : read(t));
    const term = (raw: string): boolean => {
      const t = raw.trim().replace(/^\((.*)\)$/s, '$1');
      if (/ AND /.test(t)) return t.split(/ AND /).every(term);
      let m: RegExpExecArray | null;
      if ((m = /^attribute_not_exists\((.+)\)$/.exec(t))) return read(m[1] as string) === undefined;
      if ((m = /^attribute_exists\((.+)\)$/.exec(t))) return read(m[1] as string) !== undefined;
      if ((m = /^NOT contains\(([^,]+),\s*(:\w+)\)$/.exec(t))) {
        const v = read(m[1] as string);
        return !(v instanceof Set ? v.has(values[m[2] as string]) : Array.isArray(v) ? v.includes(values[m[2] as string]) : false);
      }
      if ((m = /^(\S+) IN \((.+)\)$/.exec(t))) return (m[2] as string).split(',').some((x) => operand(x) === read(m?.[1] as string));
      if ((m = /^(\S+) = (\S+)$/.exec(t))) return operand(m[1] as string) === operand(m[2] as string);
      if ((m = /^(\S+) < (\S+)$/.exec(t))) {
        const a = operand(m[1] as string);
        const b = operand(m[2] as string);
        return a !== undefined && b !== undefined && String(a) < String(b);
      }
      throw new Error(`FakeAws: condition term not modelled: ${t}`);
    };
    // Split on top-level OR only.
    const parts: string[] = [];
    let depth = 0;
    let current = '';
    for (const token of expr.split(/(\(|\)| OR )/)) {
      if (token === '(') depth++;
      if (token === ')') depth--;
      if (token === ' OR ' && depth === 0) {
        parts.push(current);
        current = '';
      } else current += token;
    }
    parts.push(current);
    return parts.some(term);
  }

  private ddbUpdate(input: ddb.UpdateCommandInput) {
    const k = this.key(input.Key as Record<string, unknown>);
    const old = this.items.get(k);
    const names = input.ExpressionAttributeNames ?? {};
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    if (input.ConditionExpression && !this.condition(input.ConditionExpression, old, names, values)) {
      throw awsError('ConditionalCheckFailedException');
    }
    const item: Record<string, unknown> = old ? structuredClone(old) : { ...(input.Key as Record<string, unknown>) };
    const path = (p: string) => p.trim().split('.').map((x) => names[x] ?? x);
    const read = (p: string[]) => p.reduce<unknown>((o, x) => (o as Record<string, unknown> | undefined)?.[x], item);
    const write = (p: string[], v: unknown) => {
      let o = item;
      for (const x of p.slice(0, -1)) {
        if (typeof o[x] !== 'object' || o[x] === null) throw awsError('ValidationException', 'The document path provided in the update expression is invalid for update');
        o = o[x] as Record<string, unknown>;
      }
      o[p[p.length - 1] as string] = structuredClone(v);
    };
    const evaluate = (raw: string): unknown => {
      const t = raw.trim();
      let m: RegExpExecArray | null;
      if ((m = /^if_not_exists\(([^,]+),\s*(.+)\)$/s.exec(t))) return read(path(m[1] as string)) ?? evaluate(m[2] as string);
      if ((m = /^list_append\((.+)\)$/s.exec(t))) {
        const inner = m[1] as string;
        let depth = 0;
        let split = -1;
        for (let i = 0; i < inner.length; i++) {
          if (inner[i] === '(') depth++;
          if (inner[i] === ')') depth--;
          if (inner[i] === ',' && depth === 0) split = i;
        }
        const a = evaluate(inner.slice(0, split)) as unknown[];
        const b = evaluate(inner.slice(split + 1)) as unknown[];
        if (!Array.isArray(a) || !Array.isArray(b)) throw awsError('ValidationException', 'list_append needs two lists');
        return [...a, ...b];
      }
      if (t.startsWith(':')) return values[t];
      return read(path(t));
    };
    const expr = input.UpdateExpression as string;
    const [, setPart = '', removePart = '', addPart = ''] = /^\s*SET\s+(.*?)(?:\s+REMOVE\s+(.*?))?(?:\s+ADD\s+(.*))?$/s.exec(expr) ?? [];
    for (const attr of removePart ? removePart.split(',') : []) {
      const p = path(attr);
      const parent = p.slice(0, -1).reduce<unknown>((o, x) => (o as Record<string, unknown> | undefined)?.[x], item) as Record<string, unknown> | undefined;
      if (parent) delete parent[p[p.length - 1] as string];
    }
    // Split SET clauses on commas outside parentheses.
    const clauses: string[] = [];
    let depth = 0;
    let current = '';
    for (const ch of setPart) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (ch === ',' && depth === 0) {
        clauses.push(current);
        current = '';
      } else current += ch;
    }
    if (current.trim()) clauses.push(current);
    for (const clause of clauses) {
      const eq = clause.indexOf('=');
      write(path(clause.slice(0, eq)), evaluate(clause.slice(eq + 1)));
    }
    for (const clause of addPart ? addPart.split(',') : []) {
      const [attr, val] = clause.trim().split(/\s+/) as [string, string];
      const add = values[val];
      if (typeof add === 'number') {
        write(path(attr), Number(read(path(attr)) ?? 0) + add);
        continue;
      }
      const current = (read(path(attr)) as Set<unknown> | undefined) ?? new Set();
      write(path(attr), new Set([...current, ...(add as Set<unknown>)]));
    }
    this.items.set(k, item);
    if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(item) };
    return { Attributes: input.ReturnValues === 'UPDATED_OLD' && old ? old : undefined };
  }

  // ------------------------------------------------------------------ S3 and SNS
  private putObject(input: s3.PutObjectCommandInput) {
    const body = Buffer.from(input.Body as Uint8Array);
    const digest = createHash('sha256').update(body).digest('base64');
    if (input.ChecksumSHA256 && input.ChecksumSHA256 !== digest) throw awsError('BadDigest', 'checksum mismatch');
    if (!input.ChecksumAlgorithm && !input.ChecksumSHA256) {
      throw awsError('InvalidRequest', 'Object Lock requires a checksum on PutObject');
    }
    // S3 computes and stores the checksum the request asked for (ChecksumAlgorithm) or verified (ChecksumSHA256).
    this.objects.set(`${input.Bucket}/${input.Key}`, { body, checksumSha256: digest, contentType: input.ContentType });
    return { VersionId: this.hexId('v'), ChecksumSHA256: digest };
  }

  private listObjects(input: s3.ListObjectsV2CommandInput) {
    const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
    return {
      Contents: [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((k) => ({ Key: k.slice(`${input.Bucket}/`.length) })),
      IsTruncated: false,
    };
  }

  private headObject(input: s3.HeadObjectCommandInput) {
    const o = this.objects.get(`${input.Bucket}/${input.Key}`);
    if (!o) throw awsError('NotFound');
    return {
      ContentLength: o.body.length,
      ContentType: o.contentType,
      ...(input.ChecksumMode === 'ENABLED' && o.checksumSha256 ? { ChecksumSHA256: o.checksumSha256 } : {}),
    };
  }

  private publish(input: sns.PublishCommandInput) {
    if ((input.Subject?.length ?? 0) > 100) throw awsError('InvalidParameter', 'Subject too long');
    this.messages.push({ subject: input.Subject, message: input.Message as string, attributes: input.MessageAttributes });
    return { MessageId: this.hexId('msg') };
  }

  // ------------------------------------------------------------------ release (issue 5): profile association, policy deletion, the byResponseId index
  private associate(input: ec2.AssociateIamInstanceProfileCommandInput) {
    const instanceId = input.InstanceId as string;
    this.instance(instanceId);
    const arn = input.IamInstanceProfile?.Arn;
    const name = input.IamInstanceProfile?.Name ?? arn?.split('/').pop();
    const profile = name ? this.profiles.get(name) : undefined;
    if (!profile || (arn && profile.arn !== arn)) {
      throw awsError('InvalidParameterValue', `Value (${arn ?? name}) for parameter iamInstanceProfile.arn is invalid`);
    }
    if ([...this.associations.values()].some((a) => a.instanceId === instanceId && a.state === 'associated')) {
      throw awsError('IncorrectState', `There is an existing association for instance ${instanceId}`);
    }
    const id = this.hexId('iip-assoc');
    this.associations.set(id, { instanceId, profileArn: profile.arn, state: 'associated' });
    return { IamInstanceProfileAssociation: { AssociationId: id, InstanceId: instanceId, IamInstanceProfile: { Arn: profile.arn }, State: 'associating' } };
  }

  private deleteRolePolicy(input: iam.DeleteRolePolicyCommandInput) {
    const role = this.roles.get(input.RoleName as string);
    if (!role || !role.inline.has(input.PolicyName as string)) throw awsError('NoSuchEntityException');
    role.inline.delete(input.PolicyName as string);
    this.policyHistory.push({ at: this.now().getTime(), roleName: input.RoleName as string, policyName: input.PolicyName as string, document: null });
    return {};
  }

  // ------------------------------------------------------------------ Step Functions callback tasks (the approval gate)
  /** Callback tasks by task token: waiting until SendTaskSuccess / SendTaskFailure, or closed. */
  readonly taskTokens = new Map<
    string,
    { state: 'waiting' | 'succeeded' | 'failed' | 'closed'; resolve: (output: unknown) => void; reject: (err: Error) => void }
  >();

  /** A task starts waiting on `token` (the workflow runner's waitForTaskToken emulation). */
  openTask(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.taskTokens.set(token, { state: 'waiting', resolve, reject }));
  }

  /** The task ended without a callback (it timed out): Step Functions answers later callbacks with TaskTimedOut. */
  closeTask(token: string): void {
    const task = this.taskTokens.get(token);
    if (task?.state === 'waiting') task.state = 'closed';
  }

  private waitingTask(token: unknown) {
    const task = typeof token === 'string' ? this.taskTokens.get(token) : undefined;
    if (!task) throw awsError('InvalidToken', 'Invalid Token');
    if (task.state !== 'waiting') throw awsError('TaskTimedOut', 'Task Timed Out');
    return task;
  }

  private sendTaskSuccess(input: { taskToken?: string; output?: string }) {
    const task = this.waitingTask(input.taskToken);
    let output: unknown;
    try {
      output = JSON.parse(input.output ?? '');
    } catch {
      throw awsError('InvalidOutput', 'The provided JSON output data is not valid');
    }
    task.state = 'succeeded';
    task.resolve(output);
    return {};
  }

  private sendTaskFailure(input: { taskToken?: string; error?: string; cause?: string }) {
    const task = this.waitingTask(input.taskToken);
    task.state = 'failed';
    task.reject(awsError(input.error ?? 'States.TaskFailed', input.cause ?? ''));
    return {};
  }

  /** The ledger's one index (`byResponseId`, projection ALL): items carrying the attribute, by its value. */
  private ddbQueryIndex(input: ddb.QueryCommandInput) {
    const m = /^(\w+) = (:\w+)$/.exec(input.KeyConditionExpression ?? '');
    if (input.IndexName !== 'byResponseId' || !m || m[1] !== 'responseId') {
      throw new Error(`FakeAws: query ${input.IndexName ?? ''} ${input.KeyConditionExpression ?? ''} not modelled`);
    }
    const value = (input.ExpressionAttributeValues as Record<string, unknown>)[m[2] as string];
    const items = [...this.items.values()].filter((i) => i.responseId !== undefined && i.responseId === value);
    return { Items: structuredClone(items.slice(0, input.Limit ?? items.length)) };
  }
}
