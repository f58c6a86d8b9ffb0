/**
 * LoadContainment (docs/design.md §3.5): find the response, check that its incident is contained,
 * read the before-state the release restores from, look at the instance as it is now, and take the
 * incident's release lock. Every refusal is a named error thrown before anything in the target
 * account is changed (this step only reads there).
 */
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ActionKey } from '../shared/actions';
import type { ClientFactory } from '../shared/clients';
import { InstanceNotFoundError } from '../shared/errors';
import { incidentPrefix } from '../shared/evidence';
import { partitionItems, recordedGroups, type GroupRecord } from '../shared/group-records';
import { awsErrorName } from '../shared/handler';
import { findResponse, INCIDENT_SK, responseSk } from '../shared/ledger';
import {
  BeforeStateMissingError,
  Containment,
  IncidentNotContainedError,
  RELEASABLE,
  ReleaseAlreadyRecordedError,
  ReleaseInProgressError,
  ReleaseRequest,
  releaseSk,
  ResponseNotFoundError,
  STALE_RELEASE_MS,
  StoredBefore,
  type FoundIn,
  type FoundState,
  type Timeouts,
} from '../shared/release';
import { describeZodError, Target } from '../shared/schemas';

export const LoadInput = z.object({ release: ReleaseRequest });
export type LoadInput = z.infer<typeof LoadInput>;

export interface LoadConfig {
  readonly ledgerTable: string;
  readonly partition: string;
}

export interface LoadDeps {
  readonly factory: ClientFactory;
  readonly config: LoadConfig;
  readonly now?: () => Date;
}

const GONE_STATES = new Set(['terminated', 'shutting-down']);

type Item = Record<string, unknown>;


function notContained(incidentId: string, incident: Item): IncidentNotContainedError {
  const status = String(incident.status ?? 'open');
  const why: Record<string, string> = {
    released: `it was already released${incident.lastReleaseId ? ` (release ${String(incident.lastReleaseId)}` : ''}${incident.releasedBy ? ` by ${String(incident.releasedBy)}` : ''}${incident.releasedAt ? ` at ${String(incident.releasedAt)}` : ''}${incident.lastReleaseId ? ')' : ''}`,
    open: 'a response is still running (or its capture never completed): wait for it to end',
    failed: 'containment failed: cordon changed nothing it could give back',
    exempt: 'the instance is exempt: cordon did not contain it',
  };
  return new IncidentNotContainedError(
    `incident ${incidentId} is ${status}: only a contained or partially-contained incident can be released; ${why[status] ?? 'nothing to release'}`,
  );
}

/** The request id inside a before-state key: `incidents/<incidentId>/responses/<requestId>/before-state.json`. */
function requestIdOfKey(incidentId: string, key: string): string | null {
  const prefix = `${incidentPrefix(incidentId)}responses/`;
  const suffix = '/before-state.json';
  if (!key.startsWith(prefix) || !key.endsWith(suffix)) return null;
  const id = key.slice(prefix.length, -suffix.length);
  return id && !id.includes('/') ? id : null;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

function timeoutsOf(config: { TcpEstablishedTimeout?: number; UdpStreamTimeout?: number; UdpTimeout?: number } | undefined): Timeouts | null {
  if (!config) return null;
  const t: Timeouts = {};
  if (config.TcpEstablishedTimeout !== undefined) t.tcpEstablishedTimeout = config.TcpEstablishedTimeout;
  if (config.UdpStreamTimeout !== undefined) t.udpStreamTimeout = config.UdpStreamTimeout;
  if (config.UdpTimeout !== undefined) t.udpTimeout = config.UdpTimeout;
  return Object.keys(t).length ? t : null;
}

async function describeNow(ec2: EC2Client, target: Target, now: string): Promise<{ instance: Instance; found: FoundState }> {
  let instance: Instance | undefined;
  try {
    instance = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] }))).Reservations?.[0]?.Instances?.[0];
  } catch (err) {
    if (awsErrorName(err) !== 'InvalidInstanceID.NotFound') throw err;
  }
  if (!instance || instance.InstanceId !== target.instanceId) {
    throw new InstanceNotFoundError(`instance ${target.instanceId} not found in ${target.accountId}/${target.region}: nothing to release`);
  }
  const state = instance.State?.Name ?? null;
  if (state && GONE_STATES.has(state)) {
    throw new InstanceNotFoundError(`instance ${target.instanceId} is ${state}: nothing to release (its snapshots and evidence are kept)`);
  }
  const [termination, shutdown, associations] = await Promise.all([
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: target.instanceId, Attribute: 'disableApiTermination' })),
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: target.instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
    ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: 'instance-id', Values: [target.instanceId] },
          { Name: 'state', Values: ['associating', 'associated'] },
        ],
      }),
    ),
  ]);
  return {
    instance,
    found: {
      capturedAt: now,
      state,
      interfaces: (instance.NetworkInterfaces ?? [])
        .filter((n) => n.NetworkInterfaceId)
        .map((n) => ({
          networkInterfaceId: n.NetworkInterfaceId as string,
          groupIds: (n.Groups ?? []).map((g) => g.GroupId ?? '').filter(Boolean),
          groupNames: (n.Groups ?? []).map((g) => g.GroupName ?? ''),
          connectionTracking: timeoutsOf(n.ConnectionTrackingConfiguration),
        })),
      profileAssociations: (associations.IamInstanceProfileAssociations ?? []).map((a) => ({
        associationId: a.AssociationId ?? '',
        arn: a.IamInstanceProfile?.Arn ?? '',
        state: a.State ?? '',
      })),
      attributes: {
        disableApiTermination: termination.DisableApiTermination?.Value ?? null,
        instanceInitiatedShutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? null,
      },
    },
  };
}

/** cordon's own groups of one VPC, as the ledger records them (never recognised by tag or name). */
interface VpcGroups {
  readonly untrack: ReadonlySet<string>;
  readonly isolation: string | null;
}

function groupsByVpc(records: readonly GroupRecord[]): (vpcId: string) => VpcGroups {
  return (vpcId) => {
    const mine = records.filter((r) => r.vpcId === vpcId);
    return {
      untrack: new Set(mine.filter((r) => r.purpose === 'untrack').map((r) => r.groupId)),
      isolation: mine.find((r) => r.purpose === 'isolation')?.groupId ?? null,
    };
  };
}

function classify(current: FoundState['interfaces'][number] | undefined, original: readonly string[], mine: VpcGroups): FoundIn {
  if (!current) return 'not-attached';
  if (sameSet(current.groupIds, original)) return 'original';
  if (current.groupIds.some((id) => mine.untrack.has(id))) return 'untrack';
  if (current.groupIds.length > 0 && current.groupIds.every((id) => id === mine.isolation)) return 'isolation';
  return 'other';
}

/** What this incident's responses recorded: the roles their quarantines wrote to, the session cut-offs, the target groups left. */
function recorded(items: Item[], since: string | undefined) {
  const roleNames = new Set<string>();
  const revocations = new Set<string>();
  const targetGroups = new Map<string, { targetGroupArn: string; port: number | null; availabilityZone: string | null }>();
  for (const item of items.filter((i) => String(i.sk).startsWith('RESPONSE#'))) {
    const actions = Array.isArray(item.actions) ? (item.actions as Array<{ action?: unknown; detail?: unknown }>) : [];
    for (const a of actions) {
      const detail = (a.detail ?? {}) as Record<string, unknown>;
      // Checked against the catalogue: a renamed action fails to compile here rather than finding no roles.
      if (a.action === ('quarantineRole' satisfies ActionKey)) {
        if (typeof detail.roleName === 'string') roleNames.add(detail.roleName);
        const revoked = detail.sessionsRevoked as { status?: unknown; issuedBefore?: unknown } | undefined;
        if (revoked?.status === 'revoked' && typeof revoked.issuedBefore === 'string') revocations.add(revoked.issuedBefore);
      }
      // Target groups left by this containment only: an earlier, released one is not this release's to report.
      if (a.action === 'preserve' && (!since || String(item.startedAt ?? '') >= since)) {
        const tg = detail.targetGroups as { status?: unknown; deregistered?: unknown } | undefined;
        if (tg?.status === 'done' && Array.isArray(tg.deregistered)) {
          for (const r of tg.deregistered as Array<Record<string, unknown>>) {
            if (typeof r.targetGroupArn !== 'string') continue;
            const port = typeof r.port === 'number' ? r.port : null;
            targetGroups.set(`${r.targetGroupArn}|${port}`, {
              targetGroupArn: r.targetGroupArn,
              port,
              availabilityZone: typeof r.availabilityZone === 'string' ? r.availabilityZone : null,
            });
          }
        }
      }
    }
  }
  return { roleNames: [...roleNames].sort(), revocations: [...revocations].sort(), targetGroups: [...targetGroups.values()] };
}

export async function loadContainment(input: LoadInput, deps: LoadDeps): Promise<Containment> {
  const { release } = input;
  const { config } = deps;
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const { ddb } = deps.factory.hub();

  const response = await findResponse(ddb, config.ledgerTable, release.responseId);
  if (!response) {
    throw new ResponseNotFoundError(
      `no response ${release.responseId} in the ledger (a response started seconds ago may not be indexed yet; check the id with cordon status)`,
    );
  }
  const { incidentId } = response;
  const items = await partitionItems(ddb, config.ledgerTable, incidentId);
  const incident = items.find((i) => i.sk === INCIDENT_SK);
  if (!incident) throw new IncidentNotContainedError(`incident ${incidentId} has no INCIDENT item in the ledger: nothing to release`);

  const existing = items.find((i) => i.sk === releaseSk(release.releaseId));
  if (existing && existing.status !== 'in-progress') {
    throw new ReleaseAlreadyRecordedError(
      `release ${release.releaseId} already ended (${String(existing.status)}); start a new release with a new id`,
    );
  }
  const status = String(incident.status ?? 'open');
  if (!(RELEASABLE as readonly string[]).includes(status)) throw notContained(incidentId, incident);
  const stale = new Date(Date.parse(now) - STALE_RELEASE_MS).toISOString();
  if (
    typeof incident.activeReleaseId === 'string' &&
    incident.activeReleaseId !== release.releaseId &&
    String(incident.releaseClaimedAt ?? '') >= stale
  ) {
    throw new ReleaseInProgressError(`release ${incident.activeReleaseId} of incident ${incidentId} is running; wait for it to end`);
  }

  // The incident's original before-state (taken before cordon first touched the instance) wins over the
  // response's own pointer: a re-run captured after a partial containment would otherwise restore cordon's work.
  const key =
    typeof incident.originalBeforeStateKey === 'string'
      ? incident.originalBeforeStateKey
      : typeof response.item.restoreFrom === 'string'
        ? response.item.restoreFrom
        : null;
  if (!key) {
    throw new BeforeStateMissingError(
      `neither incident ${incidentId} (originalBeforeStateKey) nor response ${release.responseId} (restoreFrom) names a before-state; ` +
        'cordon will not guess what to restore',
    );
  }
  const sourceId = requestIdOfKey(incidentId, key);
  const source = sourceId ? items.find((i) => i.sk === responseSk(sourceId)) : undefined;
  if (!sourceId || !source || source.beforeStateKey !== key || source.before === undefined) {
    throw new BeforeStateMissingError(`the before-state ${key} is not in the ledger; cordon will not guess what to restore`);
  }
  const before = StoredBefore.safeParse(source.before);
  if (!before.success) {
    throw new BeforeStateMissingError(`the before-state ${key} is unreadable (${describeZodError(before.error)}); cordon will not guess what to restore`);
  }
  const target = Target.safeParse(incident.target ?? (response.item.request as { target?: unknown } | undefined)?.target);
  if (!target.success) throw new BeforeStateMissingError(`incident ${incidentId} has no valid target (${describeZodError(target.error)})`);

  // Read-only in the target account: the instance as it is now.
  const { ec2 } = await deps.factory.forTarget(target.data, `cordon-release-${release.releaseId}`);
  const { found } = await describeNow(ec2, target.data, now);
  const current = new Map(found.interfaces.map((n) => [n.networkInterfaceId, n]));
  const mineIn = groupsByVpc(await recordedGroups(ddb, config.ledgerTable, target.data.accountId, target.data.region));
  const interfaces = [];
  for (const eni of before.data.networkInterfaces) {
    const here = current.get(eni.networkInterfaceId);
    const mine = mineIn(eni.vpcId);
    const foundIn = classify(here, eni.groupIds, mine);
    interfaces.push({
      networkInterfaceId: eni.networkInterfaceId,
      vpcId: eni.vpcId,
      groupIds: [...eni.groupIds].sort(),
      connectionTracking: eni.connectionTracking ?? null,
      found: { foundIn, groupIds: here?.groupIds ?? [], connectionTracking: here?.connectionTracking ?? null },
      isolationGroupId: foundIn === 'untrack' ? mine.isolation : null,
    });
  }
  const known = new Set(before.data.networkInterfaces.map((n) => n.networkInterfaceId));
  const since = typeof incident.releasedAt === 'string' ? incident.releasedAt : undefined;
  const history = recorded(items, since);
  const evidence = (source.evidence as { beforeState?: { sha256?: unknown } } | undefined)?.beforeState;

  // The lock: one release at a time, and only from a contained state (checked again, atomically).
  const claimed = `#status IN (:contained, :partial)`;
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: config.ledgerTable,
        Key: { pk: incidentId, sk: INCIDENT_SK },
        UpdateExpression: 'SET activeReleaseId = :rel, releaseClaimedAt = :now',
        ConditionExpression:
          `(${claimed} AND attribute_not_exists(activeReleaseId)) OR (${claimed} AND activeReleaseId = :rel) ` +
          `OR (${claimed} AND releaseClaimedAt < :stale)`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':rel': release.releaseId, ':now': now, ':stale': stale, ':contained': RELEASABLE[0], ':partial': RELEASABLE[1] },
      }),
    );
  } catch (err) {
    if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
    const again = (await ddb.send(new GetCommand({ TableName: config.ledgerTable, Key: { pk: incidentId, sk: INCIDENT_SK }, ConsistentRead: true }))).Item ?? {};
    if (!(RELEASABLE as readonly string[]).includes(String(again.status))) throw notContained(incidentId, again);
    throw new ReleaseInProgressError(`release ${String(again.activeReleaseId)} of incident ${incidentId} is running; wait for it to end`);
  }
  await ddb.send(
    new PutCommand({
      TableName: config.ledgerTable,
      Item: {
        pk: incidentId,
        sk: releaseSk(release.releaseId),
        releaseId: release.releaseId,
        // Not `responseId`: that attribute keys the byResponseId index, which must hold RESPONSE items only.
        releasedResponseId: release.responseId,
        request: release,
        status: 'in-progress',
        startedAt: now,
        restoreFrom: key,
      },
      // A retried LoadContainment rewrites its own in-progress item; an ended release is never overwritten.
      ConditionExpression: 'attribute_not_exists(pk) OR #status = :inProgress',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':inProgress': 'in-progress' },
    }),
  );

  return Containment.parse({
    incidentId,
    incidentStatus: status,
    target: target.data,
    responseId: release.responseId,
    releaseId: release.releaseId,
    instanceArn: `arn:${config.partition}:ec2:${target.data.region}:${target.data.accountId}:instance/${target.data.instanceId}`,
    restoreFrom: { key, requestId: sourceId, sha256: typeof evidence?.sha256 === 'string' ? evidence.sha256 : null },
    interfaces,
    unknownInterfaces: found.interfaces.map((n) => n.networkInterfaceId).filter((id) => !known.has(id)),
    profile: before.data.iamInstanceProfile ? { arn: before.data.iamInstanceProfile.arn } : null,
    roleNames: history.roleNames,
    sessionRevocations: history.revocations,
    attributes: before.data.attributes,
    volumes: before.data.volumes.map((v) => ({ volumeId: v.volumeId, deviceName: v.deviceName ?? null, deleteOnTermination: v.deleteOnTermination ?? null })),
    autoScalingGroupName: before.data.autoScaling?.groupName ?? null,
    targetGroups: history.targetGroups,
    found,
  });
}
