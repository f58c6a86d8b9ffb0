/**
 * IsolateNetwork (docs/design.md §3.3). Per VPC, two security groups cordon created
 * and recorded in the hub ledger, reused while they exist: *untrack* (allow-all
 * in and out, IPv4 and IPv6) and *isolation* (no rules at all); never a group
 * found by tag or name. Per ENI: lower the connection-tracking
 * timeouts, move to untrack, settle (a Wait state in the ASL), move to
 * isolation, verify. ModifyInstanceAttribute `Groups` is never used: it fails
 * on instances with more than one ENI.
 *
 * This file: the per-interface steps (untrack, isolate, secure). The per-VPC groups the
 * `prepare` step makes are groups.ts.
 */
import {
  DescribeNetworkInterfacesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { errorSummary, isTransient, IsolationVerificationError } from '../shared/errors';
import { InterfaceSummary, TaskBase } from '../shared/workflow';
import { describeRules, enforceNoRules, PreparedInterface, prepareGroups } from './groups';

export {
  ensureGroup,
  enforceNoRules,
  enforceUntrackRules,
  GroupNotVisibleError,
  groupName,
  IsolationGroupConflictError,
  NOT_FOUND_BACKOFF_MS,
  MANAGED_TAG,
  PreparedInterface,
  prepareGroups,
  PURPOSE_TAG,
  type GroupPurpose,
  type PreparedGroups,
} from './groups';

/** AWS minimums for the connection-tracking idle timeouts (seconds). */
export const MIN_TIMEOUTS = { tcpEstablished: 60, udpStream: 60, udp: 30 } as const;
/** Flows AWS tracks whatever the security-group rules say (docs/design.md §3). */
export const ALWAYS_TRACKED = [
  'ICMP',
  'NAT gateway',
  'Network Load Balancer',
  'PrivateLink (interface) endpoint',
  'egress-only internet gateway',
  'Global Accelerator',
  'Network Firewall',
] as const;

export interface IsolateConfig {
  /** Established-TCP idle timeout to set on each ENI before the swap (60–432000 s). */
  readonly tcpEstablishedTimeout: number;
  /** The hub ledger, where cordon records the security groups it creates (lambdas/shared/group-records.ts). */
  readonly ledgerTable: string;
}

export interface IsolateDeps {
  readonly factory: ClientFactory;
  readonly config: IsolateConfig;
  readonly now?: () => Date;
  /** Waits between retries of a group not yet visible (EC2 eventual consistency). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const IsolateInput = z.discriminatedUnion('step', [
  TaskBase.extend({ step: z.literal('prepare'), interfaces: z.array(InterfaceSummary).min(1) }),
  TaskBase.extend({ step: z.literal('untrack'), interface: PreparedInterface }),
  TaskBase.extend({
    step: z.literal('secure'),
    interface: PreparedInterface,
    failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough(),
  }),
  TaskBase.extend({
    step: z.literal('isolate'),
    interface: PreparedInterface,
    untracked: z.object({
      connectionTracking: z.object({ status: z.string() }).passthrough(),
      untrackedAt: z.string(),
      isolatedEarly: z.literal(true).optional(),
    }),
  }),
]);
export type IsolateInput = z.infer<typeof IsolateInput>;

type Step<S extends IsolateInput['step']> = Extract<IsolateInput, { step: S }>;

export async function isolate(input: IsolateInput, deps: IsolateDeps): Promise<unknown> {
  const { ec2 } = await deps.factory.forTarget(input.target, `cordon-${input.requestId}`);
  switch (input.step) {
    case 'prepare':
      return prepareGroups(
        {
          ec2,
          ddb: deps.factory.hub().ddb,
          ledgerTable: deps.config.ledgerTable,
          target: input.target,
          incidentId: input.incidentId,
          requestId: input.requestId,
          now: deps.now ?? (() => new Date()),
          sleep: deps.sleep,
        },
        input,
      );
    case 'untrack':
      return untrackInterface(ec2, input, deps);
    case 'isolate':
      return isolateInterface(ec2, input, deps);
    case 'secure':
      return secureInterface(ec2, input, deps);
  }
}

// ---------- untrack: lower the timeouts first, then allow-all ----------

export type ConnectionTrackingResult =
  | { status: 'lowered'; tcpEstablishedTimeout: number; udpStreamTimeout: number; udpTimeout: number }
  | { status: 'unsupported'; error: string; cause: string };

export interface UntrackResult {
  connectionTracking: ConnectionTrackingResult;
  untrackedAt: string;
  /** The ENI was already in the isolation group alone: left there, not widened. */
  alreadyIsolated?: true;
  /**
   * EC2 was throttling (the SDK had to retry the first call): the ENI went straight to the isolation
   * group instead of the allow-all untrack group, because under throttling nothing bounds how long
   * the move out of allow-all would wait for a token.
   */
  isolatedEarly?: true;
}

export async function untrackInterface(ec2: EC2Client, input: Step<'untrack'>, deps: IsolateDeps): Promise<UntrackResult> {
  const eni = input.interface;
  // Already isolated by an earlier response (a responder re-running containment): never widen it again.
  const alreadyIsolated = eni.groupIds.length === 1 && eni.groupIds[0] === eni.isolationGroupId;
  let connectionTracking: ConnectionTrackingResult;
  const timeouts = {
    TcpEstablishedTimeout: deps.config.tcpEstablishedTimeout,
    UdpStreamTimeout: MIN_TIMEOUTS.udpStream,
    UdpTimeout: MIN_TIMEOUTS.udp,
  };
  let throttled = false;
  try {
    const out = await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eni.networkInterfaceId,
        ConnectionTrackingSpecification: timeouts,
      }),
    );
    // The SDK retried it (RequestLimitExceeded): the containment bucket is empty right now.
    throttled = (out.$metadata?.attempts ?? 1) > 1;
    connectionTracking = {
      status: 'lowered',
      tcpEstablishedTimeout: timeouts.TcpEstablishedTimeout,
      udpStreamTimeout: timeouts.UdpStreamTimeout,
      udpTimeout: timeouts.UdpTimeout,
    };
  } catch (err) {
    if (isTransient(err)) throw err;
    // Configurable timeouts are Nitro-only: containment goes on, and the result says what it means.
    connectionTracking = { status: 'unsupported', ...errorSummary(err) };
  }
  // Under throttling, skip allow-all: an ENI must not sit open to everything while its next move queues for a token.
  const isolatedEarly = !alreadyIsolated && throttled;
  if (!alreadyIsolated) {
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eni.networkInterfaceId,
        Groups: [isolatedEarly ? eni.isolationGroupId : eni.untrackGroupId],
      }),
    );
  }
  return {
    connectionTracking,
    untrackedAt: (deps.now ?? (() => new Date()))().toISOString(),
    ...(alreadyIsolated ? { alreadyIsolated } : {}),
    ...(isolatedEarly ? { isolatedEarly } : {}),
  };
}

// ---------- isolate: the isolation group alone, verified ----------

export interface InterfaceResult {
  networkInterfaceId: string;
  status: 'isolated';
  previousGroupIds: string[];
  groupIds: string[];
  isolatedAt: string;
  connectionTracking: Step<'isolate'>['untracked']['connectionTracking'];
  /** What the swap does and does not guarantee (docs/design.md §3): recorded, never implied. */
  guarantees: {
    untrackedFlows: 'cut';
    trackedFlows: string;
    trackedFlowIdleTimeoutSeconds: number;
    alwaysTracked: readonly string[];
    openWindowSeconds: number | null;
    guaranteedCut: false;
  };
}

export async function isolateInterface(ec2: EC2Client, input: Step<'isolate'>, deps: IsolateDeps): Promise<InterfaceResult> {
  const eni = input.interface;
  const early = input.untracked.isolatedEarly === true;
  // Isolated already by the untrack step under throttling: verify only (and spend no token).
  if (!early) {
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.networkInterfaceId, Groups: [eni.isolationGroupId] }),
    );
  }
  const now = (deps.now ?? (() => new Date()))();
  const earlyAt = new Date(input.untracked.untrackedAt);
  const isolatedAt = early && Number.isFinite(earlyAt.getTime()) ? earlyAt : now;

  const described = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.networkInterfaceId] }));
  const groupIds = (described.NetworkInterfaces?.[0]?.Groups ?? []).map((g) => g.GroupId ?? '').sort();
  if (groupIds.length !== 1 || groupIds[0] !== eni.isolationGroupId) {
    throw new IsolationVerificationError(
      `${eni.networkInterfaceId} has groups [${groupIds.join(', ')}], expected only ${eni.isolationGroupId}`,
    );
  }
  const stray = await describeRules(ec2, eni.isolationGroupId);
  if (stray.length) {
    throw new IsolationVerificationError(
      `isolation group ${eni.isolationGroupId} has ${stray.length} rule(s): ${stray.map((r) => r.SecurityGroupRuleId).join(', ')}`,
    );
  }

  const ct = input.untracked.connectionTracking;
  const idle =
    ct.status === 'lowered' && typeof ct.tcpEstablishedTimeout === 'number'
      ? ct.tcpEstablishedTimeout
      : (eni.tcpEstablishedTimeout ?? 432_000);
  const untrackedAt = Date.parse(input.untracked.untrackedAt);
  return {
    networkInterfaceId: eni.networkInterfaceId,
    status: 'isolated',
    previousGroupIds: eni.groupIds,
    groupIds,
    isolatedAt: isolatedAt.toISOString(),
    connectionTracking: ct,
    guarantees: {
      untrackedFlows: 'cut',
      trackedFlows: early
        ? `untrack skipped (EC2 was throttling): the ENI went straight to isolation, so every flow tracked before survives until it is idle for ${idle} s`
        : `a flow that stayed tracked survives until it is idle for ${idle} s; the untrack step is best effort, not a guarantee`,
      trackedFlowIdleTimeoutSeconds: idle,
      alwaysTracked: ALWAYS_TRACKED,
      openWindowSeconds: early
        ? 0
        : Number.isFinite(untrackedAt)
        ? Math.max(0, Math.round((isolatedAt.getTime() - untrackedAt) / 1000))
        : null,
      guaranteedCut: false,
    },
  };
}

// ---------- secure: never leave an ENI in the allow-all group ----------

export type SecureResult =
  | (InterfaceResult & { recoveredFrom: { error: string; cause: string } })
  | {
      networkInterfaceId: string;
      status: 'failed';
      leftIn: 'original-groups';
      groupIds: string[];
      error: string;
      cause: string;
    };

/**
 * After UntrackInterface or MoveToIsolationGroup failed, the ENI may sit in the
 * allow-all untrack group: wider open than before cordon touched it. Try the
 * isolation group once more (its rules enforced again first); failing that, put
 * the ENI's original groups back. If even that fails, the task fails and the
 * ASL records the ENI as possibly left open.
 */
export async function secureInterface(ec2: EC2Client, input: Step<'secure'>, deps: IsolateDeps): Promise<SecureResult> {
  const eni = input.interface;
  const recoveredFrom = { error: input.failure.Error ?? 'Error', cause: String(input.failure.Cause ?? '').slice(0, 500) };
  try {
    await enforceNoRules(ec2, eni.isolationGroupId);
    const result = await isolateInterface(
      ec2,
      {
        ...input,
        step: 'isolate',
        untracked: { connectionTracking: { status: 'unknown' }, untrackedAt: (deps.now ?? (() => new Date()))().toISOString() },
      },
      deps,
    );
    return { ...result, recoveredFrom };
  } catch (err) {
    if (isTransient(err)) throw err;
  }
  await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.networkInterfaceId, Groups: eni.groupIds }));
  const described = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.networkInterfaceId] }));
  const groupIds = (described.NetworkInterfaces?.[0]?.Groups ?? []).map((g) => g.GroupId ?? '').sort();
  if (groupIds.includes(eni.untrackGroupId)) {
    throw new IsolationVerificationError(`${eni.networkInterfaceId} is still in the untrack group ${eni.untrackGroupId}`);
  }
  return {
    networkInterfaceId: eni.networkInterfaceId,
    status: 'failed',
    leftIn: 'original-groups',
    groupIds,
    ...recoveredFrom,
  };
}
