/**
 * CaptureBeforeState (docs/design.md §3.1): everything release will need, captured
 * before cordon changes anything, and written to the ledger and the evidence
 * bucket. Returns only ids into the workflow state.
 */
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { ClientFactory } from '../shared/clients';
import { InstanceNotFoundError, InvalidRequestError } from '../shared/errors';
import { incidentPrefix, putJsonEvidence } from '../shared/evidence';
import { recordedGroups } from '../shared/group-records';
import { awsErrorName } from '../shared/handler';
import { incidentIdFor, openIncident, putResponseOnce, recordEvidence, recordOriginalBeforeState } from '../shared/ledger';
import { describeZodError, ResponseRequest } from '../shared/schemas';
import { actionSpec } from '../shared/actions';
import {
  BeforeSummary,
  planWhere,
  plansGatedAction,
  type ApprovalPlan,
  type ExemptionMatch,
  type InterfaceSummary,
  type Plan,
  type TagMatch,
} from '../shared/workflow';

/** The approval gate's configuration (lib/config.ts `approval`); absent or selecting nothing, there is no gate. */
export interface ApprovalPolicy {
  /** Member-writable selectors: a gate they select always approves on timeout. */
  readonly requiredForTags: readonly TagMatch[];
  /** Hub-side selectors: `onTimeout` applies to the gates they select. */
  readonly requiredFor: { readonly accounts: readonly string[]; readonly instanceIds: readonly string[] };
  readonly timeoutSeconds: number;
  /** For hub-selected gates only. */
  readonly onTimeout: 'approve' | 'deny';
}

/** Hub configuration (lib/config.ts `exemptions`): never read from anything the member account can write. */
export interface Exemptions {
  readonly accounts: readonly string[];
  readonly instanceIds: readonly string[];
  /** `<accountId>/<groupName>`, matched against the group AWS reports (DescribeAutoScalingInstances). */
  readonly autoScalingGroups: readonly string[];
}

export const NO_EXEMPTIONS: Exemptions = { accounts: [], instanceIds: [], autoScalingGroups: [] };

export interface CaptureConfig {
  readonly ledgerTable: string;
  readonly evidenceBucket: string;
  /** Instances never isolated or quarantined (docs/design.md §3.2). */
  readonly exemptions: Exemptions;
  readonly settleSeconds: number;
  readonly partition: string;
  /** The approval gate (docs/approval.md). @default - no gate */
  readonly approval?: ApprovalPolicy;
}

export interface CaptureDeps {
  readonly factory: ClientFactory;
  readonly config: CaptureConfig;
  readonly now?: () => Date;
}

/** The full before-state document: what release restores from. */
export interface BeforeState {
  readonly capturedAt: string;
  readonly target: ResponseRequest['target'];
  readonly instanceArn: string;
  readonly state: string | undefined;
  readonly tags: Record<string, string>;
  readonly attributes: { disableApiTermination: boolean | null; instanceInitiatedShutdownBehavior: string | null };
  readonly autoScaling: { groupName: string; lifecycleState: string | undefined } | null;
  readonly iamInstanceProfile: { associationId: string; arn: string; state: string | undefined } | null;
  readonly networkInterfaces: Array<
    InterfaceSummary & {
      subnetId: string | undefined;
      privateIpAddress: string | undefined;
      ipv6Addresses: string[];
      sourceDestCheck: boolean | undefined;
      connectionTracking: { tcpEstablishedTimeout?: number; udpStreamTimeout?: number; udpTimeout?: number } | null;
    }
  >;
  readonly volumes: Array<{ volumeId: string; deviceName: string | undefined; deleteOnTermination: boolean | undefined }>;
  readonly instance: Instance;
}

const GONE_STATES = new Set(['terminated', 'shutting-down']);

/**
 * Whether this response waits for a human decision: a selector matches and a gated action (GATED_ACTIONS:
 * isolation, the role quarantine) is planned. Evidence actions never wait, so a request for evidence alone
 * needs no approval. Hub selectors (`requiredFor`: the target's account or instance id) win over tags and keep
 * the configured `onTimeout`; a gate selected only by a tag (exact key and value, from the before-state), which
 * the member account can write, always approves on timeout: a tag can add a wait, never a veto.
 */
export function approvalPlan(
  target: { readonly accountId: string; readonly instanceId: string },
  tags: Readonly<Record<string, string>>,
  plan: Plan,
  policy: ApprovalPolicy,
): ApprovalPlan {
  const matchedHub = policy.requiredFor.instanceIds.includes(target.instanceId)
    ? { field: 'instanceIds' as const, value: target.instanceId }
    : policy.requiredFor.accounts.includes(target.accountId)
      ? { field: 'accounts' as const, value: target.accountId }
      : null;
  const matched = policy.requiredForTags.find((t) => Object.prototype.hasOwnProperty.call(tags, t.key) && tags[t.key] === t.value);
  const matchedBy = matchedHub ? 'hub' : matched ? 'tag' : null;
  return {
    required: matchedBy !== null && plansGatedAction(plan),
    matchedTag: matched ? { key: matched.key, value: matched.value } : null,
    matchedBy,
    matchedHub,
    timeoutSeconds: policy.timeoutSeconds,
    onTimeout: matchedHub ? policy.onTimeout : 'approve',
  };
}

/** True when the policy selects anything: without a selector there is no gate. */
export function gateConfigured(policy: ApprovalPolicy): boolean {
  return policy.requiredForTags.length + policy.requiredFor.accounts.length + policy.requiredFor.instanceIds.length > 0;
}

/**
 * The hub exemption matching this instance, if any: its instance id, its Auto Scaling group as AWS reports its
 * membership (never a tag), or its account. A responder's manual or API request overrides it, and says so.
 */
export function exemptionFor(
  request: Pick<ResponseRequest, 'target' | 'source' | 'requestedBy'>,
  autoScalingGroupName: string | null,
  exemptions: Exemptions,
): ExemptionMatch | null {
  const { accountId, instanceId } = request.target;
  const group = autoScalingGroupName === null ? null : `${accountId}/${autoScalingGroupName}`;
  const match = exemptions.instanceIds.includes(instanceId)
    ? { field: 'instanceIds' as const, value: instanceId }
    : group !== null && exemptions.autoScalingGroups.includes(group)
      ? { field: 'autoScalingGroups' as const, value: group }
      : exemptions.accounts.includes(accountId)
        ? { field: 'accounts' as const, value: accountId }
        : null;
  if (!match) return null;
  const responder = request.source === 'manual' || request.source === 'api' ? request.source : null;
  return {
    ...match,
    overridden: responder !== null,
    overriddenBy: responder ? request.requestedBy : null,
    overriddenBySource: responder,
  };
}

export async function captureBeforeState(rawRequest: unknown, deps: CaptureDeps): Promise<BeforeSummary> {
  const parsed = ResponseRequest.safeParse(rawRequest);
  if (!parsed.success) throw new InvalidRequestError(describeZodError(parsed.error));
  const request = parsed.data;
  const { config } = deps;
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const { target } = request;
  const incidentId = incidentIdFor(target);
  const instanceArn = `arn:${config.partition}:ec2:${target.region}:${target.accountId}:instance/${target.instanceId}`;
  const { ddb, s3 } = deps.factory.hub();

  // Claim the incident before touching the target: two executions racing on one instance must not both contain it.
  const claim = await openIncident(ddb, config.ledgerTable, incidentId, request, now);
  if (!claim.claimed) {
    return BeforeSummary.parse({
      incidentId,
      exempt: false,
      duplicate: true,
      ownerRequestId: claim.ownerRequestId,
      incidentStatus: claim.status,
      deliveries: claim.deliveries,
      instanceArn,
      findingId: request.finding?.id ?? null,
      autoScalingGroupName: null,
      profile: null,
      interfaces: [],
      volumes: [],
      settleSeconds: config.settleSeconds,
      plan: planWhere(() => false),
      beforeStateKey: `${incidentPrefix(incidentId)}responses/${claim.ownerRequestId}/before-state.json`,
    });
  }

  const clients = await deps.factory.forTarget(target, `cordon-${request.requestId}`);

  let instance: Instance | undefined;
  try {
    const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] }));
    instance = out.Reservations?.[0]?.Instances?.[0];
  } catch (err) {
    if (awsErrorName(err) !== 'InvalidInstanceID.NotFound') throw err;
  }
  if (!instance || instance.InstanceId !== target.instanceId) {
    throw new InstanceNotFoundError(`instance ${target.instanceId} not found in ${target.accountId}/${target.region}`);
  }
  const stateName = instance.State?.Name;
  if (stateName && GONE_STATES.has(stateName)) {
    throw new InstanceNotFoundError(`instance ${target.instanceId} is ${stateName}: nothing to contain`);
  }

  const [termination, shutdown, associations, asg] = await Promise.all([
    clients.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: target.instanceId, Attribute: 'disableApiTermination' })),
    clients.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: target.instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }),
    ),
    clients.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: 'instance-id', Values: [target.instanceId] },
          { Name: 'state', Values: ['associating', 'associated'] },
        ],
      }),
    ),
    clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [target.instanceId] })),
  ]);

  const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const association = associations.IamInstanceProfileAssociations?.[0];
  const asgMember = asg.AutoScalingInstances?.find((a) => a.InstanceId === target.instanceId);
  const networkInterfaces = (instance.NetworkInterfaces ?? [])
    .filter((n) => n.NetworkInterfaceId && n.VpcId)
    .map((n) => ({
      networkInterfaceId: n.NetworkInterfaceId as string,
      vpcId: n.VpcId as string,
      deviceIndex: n.Attachment?.DeviceIndex ?? 0,
      groupIds: (n.Groups ?? []).map((g) => g.GroupId as string).filter(Boolean),
      ipv6: (n.Ipv6Addresses ?? []).length > 0,
      tcpEstablishedTimeout: n.ConnectionTrackingConfiguration?.TcpEstablishedTimeout ?? null,
      subnetId: n.SubnetId,
      privateIpAddress: n.PrivateIpAddress,
      ipv6Addresses: (n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address as string).filter(Boolean),
      sourceDestCheck: n.SourceDestCheck,
      connectionTracking: n.ConnectionTrackingConfiguration
        ? {
            tcpEstablishedTimeout: n.ConnectionTrackingConfiguration.TcpEstablishedTimeout,
            udpStreamTimeout: n.ConnectionTrackingConfiguration.UdpStreamTimeout,
            udpTimeout: n.ConnectionTrackingConfiguration.UdpTimeout,
          }
        : null,
    }))
    .sort((a, b) => a.deviceIndex - b.deviceIndex);

  const volumes = (instance.BlockDeviceMappings ?? [])
    .filter((b) => b.Ebs?.VolumeId)
    .map((b) => ({ volumeId: b.Ebs?.VolumeId as string, deviceName: b.DeviceName, deleteOnTermination: b.Ebs?.DeleteOnTermination }));

  const before: BeforeState = {
    capturedAt: now,
    target,
    instanceArn,
    state: stateName,
    tags,
    attributes: {
      disableApiTermination: termination.DisableApiTermination?.Value ?? null,
      instanceInitiatedShutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? null,
    },
    autoScaling: asgMember?.AutoScalingGroupName
      ? { groupName: asgMember.AutoScalingGroupName, lifecycleState: asgMember.LifecycleState }
      : null,
    iamInstanceProfile:
      association?.AssociationId && association.IamInstanceProfile?.Arn
        ? { associationId: association.AssociationId, arn: association.IamInstanceProfile.Arn, state: association.State }
        : null,
    networkInterfaces,
    volumes,
    instance,
  };

  // Hub configuration only: tags are member-writable, and a compromised role can set any of them in advance.
  const exemption = exemptionFor(request, before.autoScaling?.groupName ?? null, config.exemptions);
  const exempt = exemption !== null && !exemption.overridden;
  const requested = new Set(request.actions);
  // An exempt instance still gets its evidence; nothing that disrupts it (the gated actions) runs.
  const plan: Plan = planWhere((action) => requested.has(action) && !(exempt && actionSpec(action).gated));

  const key = `${incidentPrefix(incidentId)}responses/${request.requestId}/before-state.json`;
  // Already in cordon's own groups (a responder re-running containment): this "before" is cordon's doing, and
  // release must restore the incident's original before-state instead.
  // cordon's groups are the ones the ledger records for the ENI's VPC: never recognised by tag or name.
  const mine = new Set(
    (await recordedGroups(ddb, config.ledgerTable, target.accountId, target.region)).map((r) => `${r.vpcId}/${r.groupId}`),
  );
  const underCordonControl = (instance.NetworkInterfaces ?? []).some((n) =>
    (n.Groups ?? []).some((g) => mine.has(`${n.VpcId ?? ''}/${g.GroupId ?? ''}`)),
  );
  const restoreFrom = underCordonControl ? (claim.originalBeforeStateKey ?? null) : key;
  // The first capture for this request wins: a retry must not replace it.
  const { written, item } = await putResponseOnce(ddb, config.ledgerTable, incidentId, request.requestId, {
    request,
    startedAt: now,
    status: 'in-progress',
    beforeStateKey: key,
    underCordonControl,
    restoreFrom,
    exemption,
    evidence: {},
    before: {
      attributes: before.attributes,
      autoScaling: before.autoScaling,
      iamInstanceProfile: before.iamInstanceProfile,
      networkInterfaces: before.networkInterfaces,
      volumes: before.volumes,
      tags: before.tags,
    },
  });
  const stored = (item.evidence as Record<string, unknown> | undefined)?.beforeState;
  if (written || !stored) {
    // A retry after a crash between the two writes still lands the document: capture runs before any change.
    const evidence = await putJsonEvidence(s3, config.evidenceBucket, key, before);
    await recordEvidence(ddb, config.ledgerTable, incidentId, request.requestId, 'beforeState', evidence);
  }
  if (!underCordonControl) await recordOriginalBeforeState(ddb, config.ledgerTable, incidentId, request.requestId, key);
  const kept = item.before as Pick<BeforeState, 'autoScaling' | 'iamInstanceProfile' | 'networkInterfaces' | 'volumes' | 'tags'>;
  // Decided from the before-state the ledger kept (a retried capture decides as the first one did).
  const approval = config.approval && gateConfigured(config.approval) ? approvalPlan(target, kept.tags ?? {}, plan, config.approval) : undefined;

  return BeforeSummary.parse({
    incidentId,
    exempt,
    exemption,
    duplicate: false,
    ownerRequestId: request.requestId,
    incidentStatus: claim.status,
    deliveries: claim.deliveries,
    instanceArn,
    findingId: request.finding?.id ?? null,
    autoScalingGroupName: kept.autoScaling?.groupName ?? null,
    profile: kept.iamInstanceProfile
      ? { associationId: kept.iamInstanceProfile.associationId, arn: kept.iamInstanceProfile.arn }
      : null,
    interfaces: kept.networkInterfaces.map((n) => ({
      networkInterfaceId: n.networkInterfaceId,
      vpcId: n.vpcId,
      deviceIndex: n.deviceIndex,
      groupIds: n.groupIds,
      ipv6: n.ipv6,
      tcpEstablishedTimeout: n.tcpEstablishedTimeout,
    })),
    volumes: kept.volumes.map((v) => ({ volumeId: v.volumeId, deviceName: v.deviceName ?? null })),
    settleSeconds: config.settleSeconds,
    plan,
    beforeStateKey: key,
    ...(approval ? { approval } : {}),
  });
}
