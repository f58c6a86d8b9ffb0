/**
 * RestoreNetwork, one ENI (docs/design.md §3.5): its original security groups, then its original
 * connection-tracking timeouts if cordon lowered them, verified with Describe. ModifyInstanceAttribute
 * `Groups` is never used (it fails on instances with more than one ENI).
 *
 * An ENI found in cordon's allow-all *untrack* group (an execution stopped during the settle wait) is
 * restored like any other; if that fails it is moved to the isolation group instead, never left open.
 */
import { DescribeNetworkInterfacesCommand, ModifyNetworkInterfaceAttributeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { errorSummary, isTransient } from '../shared/errors';
import { ReleaseInterface, RestoreBase, RestoreVerificationError, type FoundIn, type Timeouts } from '../shared/release';

export const NetworkInput = RestoreBase.extend({ step: z.literal('network'), interface: ReleaseInterface });
export type NetworkInput = z.infer<typeof NetworkInput>;

/** EC2's documented defaults, for an ENI whose before-state reported no explicit timeouts. */
export const DEFAULT_TIMEOUTS = { tcpEstablishedTimeout: 432_000, udpStreamTimeout: 180, udpTimeout: 30 } as const;
type Effective = { tcpEstablishedTimeout: number; udpStreamTimeout: number; udpTimeout: number };

function effective(t: Timeouts | null): Effective {
  return {
    tcpEstablishedTimeout: t?.tcpEstablishedTimeout ?? DEFAULT_TIMEOUTS.tcpEstablishedTimeout,
    udpStreamTimeout: t?.udpStreamTimeout ?? DEFAULT_TIMEOUTS.udpStreamTimeout,
    udpTimeout: t?.udpTimeout ?? DEFAULT_TIMEOUTS.udpTimeout,
  };
}

type Failed = { status: 'failed'; error: string; cause: string };

export interface InterfaceRestoreResult {
  networkInterfaceId: string;
  status: 'restored' | 'failed';
  foundIn: FoundIn;
  groups:
    | { status: 'restored' | 'already-restored'; from: string[]; to: string[] }
    | (Failed & { leftIn: 'isolation' | 'untrack' | 'where-found'; groupIds: string[] })
    | { status: 'skipped'; reason: string };
  connectionTracking:
    | { status: 'restored'; from: Effective; to: Effective; note?: string }
    | { status: 'unchanged'; value: Effective }
    | Failed
    | { status: 'skipped'; reason: string };
  note?: string;
  error?: string;
  cause?: string;
}

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

async function groupsNow(ec2: EC2Client, eniId: string): Promise<string[]> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  return sorted((out.NetworkInterfaces?.[0]?.Groups ?? []).map((g) => g.GroupId ?? ''));
}

/** Restoring failed: never leave an ENI found in the allow-all untrack group there. */
async function secure(ec2: EC2Client, eni: ReleaseInterface, err: unknown): Promise<InterfaceRestoreResult['groups']> {
  const failure = errorSummary(err);
  if (eni.found.foundIn !== 'untrack') {
    // Left where cordon (or someone) put it: no wider than containment left it.
    return { status: 'failed', ...failure, leftIn: 'where-found', groupIds: eni.found.groupIds };
  }
  if (eni.isolationGroupId) {
    try {
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.networkInterfaceId, Groups: [eni.isolationGroupId] }));
      return { status: 'failed', ...failure, leftIn: 'isolation', groupIds: [eni.isolationGroupId] };
    } catch (again) {
      if (isTransient(again)) throw again;
    }
  }
  return { status: 'failed', ...failure, leftIn: 'untrack', groupIds: eni.found.groupIds };
}

export async function restoreInterface(ec2: EC2Client, input: NetworkInput): Promise<InterfaceRestoreResult> {
  const eni = input.interface;
  const id = eni.networkInterfaceId;
  const base = { networkInterfaceId: id, foundIn: eni.found.foundIn };
  if (eni.found.foundIn === 'not-attached') {
    const cause = `${id} is no longer attached to ${input.target.instanceId}: left as it is`;
    const skipped = { status: 'skipped' as const, reason: cause };
    return { ...base, status: 'failed', groups: skipped, connectionTracking: skipped, error: 'InterfaceNotAttached', cause };
  }
  const note =
    eni.found.foundIn === 'untrack'
      ? `found in cordon's allow-all untrack group (a response stopped during its settle wait): open to all traffic until this release`
      : undefined;

  // 1. The original groups.
  let groups: InterfaceRestoreResult['groups'];
  if (eni.found.foundIn === 'original') {
    groups = { status: 'already-restored', from: sorted(eni.found.groupIds), to: eni.groupIds };
  } else {
    try {
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Groups: eni.groupIds }));
      groups = { status: 'restored', from: sorted(eni.found.groupIds), to: eni.groupIds };
    } catch (err) {
      if (isTransient(err)) throw err;
      groups = await secure(ec2, eni, err);
    }
  }
  if (groups.status === 'restored' || groups.status === 'already-restored') {
    const now = await groupsNow(ec2, id);
    if (now.join(',') !== sorted(eni.groupIds).join(',')) {
      throw new RestoreVerificationError(`${id} has groups [${now.join(', ')}] after the restore, expected [${eni.groupIds.join(', ')}]`);
    }
  }

  // 2. The original connection-tracking timeouts, if they differ from what the ENI has now.
  const want = effective(eni.connectionTracking);
  const have = effective(eni.found.connectionTracking);
  let connectionTracking: InterfaceRestoreResult['connectionTracking'];
  if (want.tcpEstablishedTimeout === have.tcpEstablishedTimeout && want.udpStreamTimeout === have.udpStreamTimeout && want.udpTimeout === have.udpTimeout) {
    connectionTracking = { status: 'unchanged', value: want };
  } else {
    try {
      await ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: id,
          ConnectionTrackingSpecification: { TcpEstablishedTimeout: want.tcpEstablishedTimeout, UdpStreamTimeout: want.udpStreamTimeout, UdpTimeout: want.udpTimeout },
        }),
      );
      connectionTracking = {
        status: 'restored',
        from: have,
        to: want,
        ...(eni.connectionTracking
          ? {}
          : {
              note:
                'EC2 reported no explicit timeouts before containment: set to the documented defaults (432000 s, 180 s, 30 s); ' +
                'Nitro v6 instance types default to 350 s for established TCP',
            }),
      };
    } catch (err) {
      if (isTransient(err)) throw err;
      connectionTracking = { status: 'failed', ...errorSummary(err) };
    }
  }

  const failure = groups.status === 'failed' ? groups : connectionTracking.status === 'failed' ? connectionTracking : undefined;
  return {
    ...base,
    status: failure ? 'failed' : 'restored',
    groups,
    connectionTracking,
    ...(note ? { note } : {}),
    ...(failure ? { error: failure.error, cause: `${id}: ${leftInNote(groups)}${failure.cause}` } : {}),
  };
}

/** Where a failed ENI was left: said first, because one left in the untrack group is open to everything. */
function leftInNote(groups: InterfaceRestoreResult['groups']): string {
  if (groups.status !== 'failed') return 'connection-tracking timeouts not restored: ';
  if (groups.leftIn === 'untrack') return 'STILL IN THE ALLOW-ALL UNTRACK GROUP, check it now: ';
  if (groups.leftIn === 'isolation') return 'not restored; moved to the isolation group instead of staying in the allow-all untrack group: ';
  return 'not restored; left in the groups it was found in: ';
}
