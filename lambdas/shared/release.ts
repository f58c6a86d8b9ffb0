/**
 * The release workflow's shared contract (docs/design.md §3.5, state-machines/release.asl.json):
 * the refusal errors, the shapes that travel between its states, and the ledger items it writes.
 *
 *   pk = incidentId, sk = "RELEASE#<releaseId>"   who released, why, from which before-state, and how it ended
 *
 * A RELEASE item names the response it released as `releasedResponseId`, never `responseId`: that
 * attribute keys the `byResponseId` index, which must find RESPONSE items only.
 *
 * The INCIDENT item carries `activeReleaseId` while a release runs (a lock: one release at a time),
 * and `lastReleaseId`, `releasedAt`, `releasedBy`, `releaseReason` afterwards.
 */
import { z } from 'zod';
import { CordonError } from './errors';
import { ReleaseRequest, RequestId, Target } from './schemas';
import { IncidentId, NetworkInterfaceId, SecurityGroupId, VolumeId, VpcId } from './workflow';

export const releaseSk = (releaseId: string): string => `RELEASE#${releaseId}`;

/** A release lock older than this is abandoned (its execution was stopped by hand before it could record). */
export const STALE_RELEASE_MS = 60 * 60_000;

/** Incident statuses a release may start from. */
export const RELEASABLE = ['contained', 'partially-contained'] as const;

// ---------- refusals: nothing was changed in the target account ----------

/** No response with that id is in the ledger (the index is eventually consistent: retried briefly). */
export class ResponseNotFoundError extends CordonError {
  constructor(message: string) {
    super('ResponseNotFoundError', message);
  }
}

/** The incident is not contained or partially-contained (never contained, still running, already released, exempt, failed). */
export class IncidentNotContainedError extends CordonError {
  constructor(message: string) {
    super('IncidentNotContainedError', message);
  }
}

/** The before-state to restore from is not in the ledger: release would have to guess, so it refuses. */
export class BeforeStateMissingError extends CordonError {
  constructor(message: string) {
    super('BeforeStateMissingError', message);
  }
}

/** Another release of the same incident holds the lock. */
export class ReleaseInProgressError extends CordonError {
  constructor(message: string) {
    super('ReleaseInProgressError', message);
  }
}

/** A release with this id already ended: release ids are not reused. */
export class ReleaseAlreadyRecordedError extends CordonError {
  constructor(message: string) {
    super('ReleaseAlreadyRecordedError', message);
  }
}

/**
 * Error names that mean "refused before anything was changed" (RecordRelease reports them as `refused`).
 * `InstanceNotFoundError`: the instance is terminated or gone, so there is nothing to give back.
 */
export const REFUSAL_ERRORS = new Set([
  'InvalidRequestError',
  'ResponseNotFoundError',
  'IncidentNotContainedError',
  'BeforeStateMissingError',
  'ReleaseInProgressError',
  'ReleaseAlreadyRecordedError',
  'InstanceNotFoundError',
]);

// ---------- errors of the restore steps ----------

/** The ENI does not show its original groups after the restore call. Retried, then recorded as a failure. */
export class RestoreVerificationError extends CordonError {
  constructor(message: string) {
    super('RestoreVerificationError', message);
  }
}

/** The role's cordon policy still denies this instance after several read-merge-write rounds (a concurrent writer kept winning). */
export class ReleasePolicyNotConfirmedError extends CordonError {
  constructor(message: string) {
    super('ReleasePolicyNotConfirmedError', message);
  }
}

// ---------- the before-state as capture-state stored it on the RESPONSE item (`before`) ----------

const Timeouts = z.object({
  tcpEstablishedTimeout: z.number().int().optional(),
  udpStreamTimeout: z.number().int().optional(),
  udpTimeout: z.number().int().optional(),
});
export type Timeouts = z.infer<typeof Timeouts>;

export const StoredBefore = z.object({
  attributes: z.object({
    disableApiTermination: z.boolean().nullable(),
    instanceInitiatedShutdownBehavior: z.enum(['stop', 'terminate']).nullable(),
  }),
  autoScaling: z.object({ groupName: z.string().min(1) }).passthrough().nullable(),
  iamInstanceProfile: z.object({ associationId: z.string(), arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/) }).passthrough().nullable(),
  networkInterfaces: z.array(
    z
      .object({
        networkInterfaceId: NetworkInterfaceId,
        vpcId: VpcId,
        deviceIndex: z.number().int().min(0),
        // An ENI always has at least one group: an empty list would be a broken capture, not a state to restore.
        groupIds: z.array(SecurityGroupId).min(1),
        connectionTracking: Timeouts.nullable().optional(),
      })
      .passthrough(),
  ),
  volumes: z.array(
    z.object({ volumeId: VolumeId, deviceName: z.string().nullable().optional(), deleteOnTermination: z.boolean().nullable().optional() }).passthrough(),
  ),
});
export type StoredBefore = z.infer<typeof StoredBefore>;

// ---------- what LoadContainment hands the restore states ($.containment) ----------

/** Where an ENI was found when the release started. `untrack` means an execution stopped mid-settle: the ENI is open to everything. */
export const FoundIn = z.enum(['original', 'isolation', 'untrack', 'other', 'not-attached']);
export type FoundIn = z.infer<typeof FoundIn>;

export const ReleaseInterface = z.object({
  networkInterfaceId: NetworkInterfaceId,
  vpcId: VpcId,
  /** The groups to restore (the before-state's), sorted. */
  groupIds: z.array(SecurityGroupId).min(1),
  /** The before-state's connection-tracking timeouts; null when EC2 reported none (the instance's defaults). */
  connectionTracking: Timeouts.nullable(),
  found: z.object({
    foundIn: FoundIn,
    groupIds: z.array(SecurityGroupId),
    connectionTracking: Timeouts.nullable(),
  }),
  /** cordon's isolation group in the ENI's VPC, when the ENI was found in the untrack group: the fallback if restoring fails. */
  isolationGroupId: SecurityGroupId.nullable(),
});
export type ReleaseInterface = z.infer<typeof ReleaseInterface>;

export const Registration = z.object({
  targetGroupArn: z.string(),
  port: z.number().nullable(),
  availabilityZone: z.string().nullable(),
});

export const FoundState = z.object({
  capturedAt: z.string(),
  state: z.string().nullable(),
  interfaces: z.array(
    z.object({ networkInterfaceId: z.string(), groupIds: z.array(z.string()), groupNames: z.array(z.string()), connectionTracking: Timeouts.nullable() }),
  ),
  profileAssociations: z.array(z.object({ associationId: z.string(), arn: z.string(), state: z.string() })),
  attributes: z.object({ disableApiTermination: z.boolean().nullable(), instanceInitiatedShutdownBehavior: z.string().nullable() }),
});
export type FoundState = z.infer<typeof FoundState>;

export const Containment = z.object({
  incidentId: IncidentId,
  incidentStatus: z.enum(RELEASABLE),
  target: Target,
  responseId: z.string(),
  releaseId: z.string(),
  instanceArn: z.string(),
  restoreFrom: z.object({ key: z.string(), requestId: z.string(), sha256: z.string().nullable() }),
  interfaces: z.array(ReleaseInterface),
  /** ENIs attached now that the before-state does not know: left as they are. */
  unknownInterfaces: z.array(z.string()),
  profile: z.object({ arn: z.string() }).nullable(),
  /** Roles whose cordon policy may deny this instance: the profile's role when captured, and every role a quarantine of this incident recorded. */
  roleNames: z.array(z.string()),
  /** `aws:TokenIssueTime` cut-offs this incident's quarantines wrote (`sessionsRevoked.issuedBefore`). */
  sessionRevocations: z.array(z.string()),
  attributes: StoredBefore.shape.attributes,
  volumes: z.array(z.object({ volumeId: z.string(), deviceName: z.string().nullable(), deleteOnTermination: z.boolean().nullable() })),
  autoScalingGroupName: z.string().nullable(),
  targetGroups: z.array(Registration),
  found: FoundState,
});
export type Containment = z.infer<typeof Containment>;

/** Fields every restore step receives. */
export const RestoreBase = z.object({ target: Target, incidentId: IncidentId, releaseId: RequestId });

export { ReleaseRequest };
