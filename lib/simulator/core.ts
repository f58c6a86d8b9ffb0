/**
 * The simulated account's core (docs/design.md §6): the state every service module
 * reads and writes, the ids it hands out, the clock hook, and the builders an
 * estate is made with. The service modules (./services/*) are plain functions
 * over this state; ./account.ts routes commands to them.
 */

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

/** A callback task waiting on its token (the approval gate): until SendTaskSuccess / SendTaskFailure, or closed. */
export interface TaskToken {
  state: 'waiting' | 'succeeded' | 'failed' | 'closed';
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
}

/** One modelled command: its SDK input in, its output (without `$metadata`) out. */
export type Handler = (input: never) => unknown;
/** A service's modelled commands, by command name (without `Command`). */
export type ServiceHandlers = Record<string, Handler>;

/** An error shaped as the service would name it. */
export function awsError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A request the model does not handle: fails loudly (not an AWS error, so it is never retried or caught as one). */
export function notModelled(what: string): Error {
  return new Error(`FakeAws: ${what}`);
}

export class SimState {
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
  caller = '';
  readonly items = new Map<string, Record<string, unknown>>();
  readonly objects = new Map<string, { body: Buffer; checksumSha256?: string; contentType?: string }>();
  readonly messages: Array<{ subject?: string; message: string; attributes: unknown }> = [];
  readonly calls: Call[] = [];
  /** Callback tasks by task token. */
  readonly taskTokens = new Map<string, TaskToken>();
  /** How many DescribeSnapshots checks a snapshot stays pending; its final state. */
  snapshotBehaviour: { pendingChecks: number; finalState: (volumeId: string) => string } = {
    pendingChecks: 1,
    finalState: () => 'completed',
  };

  /** Ids are per account (and so per run): the same run makes the same ids. Request ids share the counter. */
  private counter = 0;

  constructor(accountId = '111122223333', region = 'us-east-1') {
    this.accountId = accountId;
    this.region = region;
  }

  /** A resource id, 17 hex digits like AWS's: `sg-00000000000000001`. */
  hexId(prefix: string): string {
    return `${prefix}-${(++this.counter).toString(16).padStart(17, '0')}`;
  }

  /** The next request id (`$metadata.requestId`). */
  requestId(): string {
    return `req-${(++this.counter).toString(16).padStart(8, '0')}`;
  }

  instanceArn(instanceId: string): string {
    return `arn:aws:ec2:${this.region}:${this.accountId}:instance/${instanceId}`;
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

  // ------------------------------------------------------------------ history hooks
  /** Append the ENI's current effective rules and timeout to its history. */
  recordEni(eniId: string): void {
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
  recordGroup(groupId: string): void {
    for (const e of this.enis.values()) if (e.groups.includes(groupId)) this.recordEni(e.id);
  }
}
