/**
 * RestoreRole (docs/design.md §3.5): quarantine in reverse. First the instance profile is
 * associated again (unless another profile has been associated since), then this instance's ARN
 * leaves the `ec2:SourceInstanceARN` deny of the role's cordon policy. Other instances' denies on a
 * shared role stay. The policy is deleted only when nothing is left in it.
 *
 * The `aws:TokenIssueTime` revocation statement is role-wide and one per policy (quarantine keeps the
 * latest cut-off of every incident that revoked). It is removed only when its cut-off is one this
 * incident's quarantine recorded AND no other instance is still denied on the role: otherwise another
 * incident may rely on it, and it stays (the result says why). See docs/release.md.
 */
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteRolePolicyCommand, GetInstanceProfileCommand, GetRolePolicyCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { z } from 'zod';
import { errorSummary, isTransient } from '../shared/errors';
import { awsErrorName } from '../shared/handler';
import { ReleasePolicyNotConfirmedError, RestoreBase } from '../shared/release';
// The policy quarantine writes: its name and statement ids are the contract between the two.
import { DENY_SID, QUARANTINE_POLICY_NAME, REVOKE_SID } from '../quarantine-role/quarantine-role';

export const RoleInput = RestoreBase.extend({
  step: z.literal('role'),
  instanceArn: z.string().regex(/^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/i-[0-9a-f]+$/),
  profile: z.object({ arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/) }).nullable(),
  roleNames: z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/)),
  sessionRevocations: z.array(z.string()),
});
export type RoleInput = z.infer<typeof RoleInput>;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: unknown;
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

type Failed = { status: 'failed'; error: string; cause: string };

export type PolicyResult =
  | {
      roleName: string;
      policyName: string;
      status: 'restored';
      deny: 'removed' | 'not-present';
      otherInstancesDenied: number;
      sessionRevocation: 'removed' | 'kept' | 'none';
      keptBecause?: string;
      policy: 'updated' | 'deleted' | 'unchanged' | 'absent';
    }
  | ({ roleName: string; policyName: string } & Failed);

export interface RoleRestoreResult {
  action: 'restoreRole';
  status: 'succeeded' | 'failed' | 'not-applicable';
  profile:
    | { status: 'associated' | 'already-associated'; arn: string; associationId: string }
    | { status: 'not-applicable'; reason: string }
    | Failed;
  policies: PolicyResult[];
  /** Stolen credentials issued before the quarantine and not yet expired are no longer denied once the deny is gone. */
  limits: string[];
  error?: string;
  cause?: string;
}

export interface RoleDeps {
  /** Pause between write and read-back (tests pass a no-op). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const CONFIRM_ATTEMPTS = 4;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const LIMITS = [
  'IAM changes take effect within seconds to a few minutes (eventual consistency)',
  'credentials issued to the instance before its quarantine are no longer denied by the ec2:SourceInstanceARN statement; if they may have been stolen, they stay usable until they expire',
];

const arns = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

async function readPolicy(iam: IAMClient, roleName: string): Promise<PolicyDocument | undefined> {
  try {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE_POLICY_NAME }));
    return out.PolicyDocument ? (JSON.parse(decodeURIComponent(out.PolicyDocument)) as PolicyDocument) : undefined;
  } catch (err) {
    const name = awsErrorName(err);
    if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') return undefined;
    throw err;
  }
}

const denies = (doc: PolicyDocument | undefined, instanceArn: string): boolean =>
  arns(doc?.Statement.find((s) => s.Sid === DENY_SID)?.Condition?.StringEquals?.['ec2:SourceInstanceARN']).includes(instanceArn);

/** The cordon policy without this instance (pure). `document: null` means nothing is left: delete the policy. */
export function withoutInstance(
  doc: PolicyDocument,
  instanceArn: string,
  ownRevocations: readonly string[],
): {
  changed: boolean;
  document: PolicyDocument | null;
  deny: 'removed' | 'not-present';
  otherInstancesDenied: number;
  sessionRevocation: 'removed' | 'kept' | 'none';
  keptBecause?: string;
} {
  const deny = doc.Statement.find((s) => s.Sid === DENY_SID);
  const listed = arns(deny?.Condition?.StringEquals?.['ec2:SourceInstanceARN']);
  const remaining = listed.filter((a) => a !== instanceArn);
  const revoke = doc.Statement.find((s) => s.Sid === REVOKE_SID);
  const cutOff = revoke?.Condition?.DateLessThan?.['aws:TokenIssueTime'];
  let sessionRevocation: 'removed' | 'kept' | 'none' = 'none';
  let keptBecause: string | undefined;
  if (revoke) {
    if (typeof cutOff !== 'string' || !ownRevocations.includes(cutOff)) {
      sessionRevocation = 'kept';
      keptBecause = `its cut-off (${String(cutOff)}) was not written by this incident's quarantine: another incident on this role revoked sessions`;
    } else if (remaining.length > 0) {
      sessionRevocation = 'kept';
      keptBecause = `${remaining.length} other instance(s) are still denied on this role: their incidents may rely on the revocation`;
    } else {
      sessionRevocation = 'removed';
    }
  }
  const statements: Statement[] = [
    ...doc.Statement.filter((s) => s.Sid !== DENY_SID && s.Sid !== REVOKE_SID),
    ...(deny && remaining.length
      ? [{ ...deny, Condition: { ...deny.Condition, StringEquals: { ...deny.Condition?.StringEquals, 'ec2:SourceInstanceARN': remaining } } }]
      : []),
    ...(revoke && sessionRevocation !== 'removed' ? [revoke] : []),
  ];
  return {
    changed: listed.includes(instanceArn) || sessionRevocation === 'removed',
    document: statements.length ? { Version: doc.Version || '2012-10-17', Statement: statements } : null,
    deny: listed.includes(instanceArn) ? 'removed' : 'not-present',
    otherInstancesDenied: remaining.length,
    sessionRevocation,
    ...(keptBecause ? { keptBecause } : {}),
  };
}

/**
 * Read, remove, write, then read back until this instance is really gone from the deny. A quarantine of
 * a neighbour sharing the role may write at the same moment from an older read: the read-back catches
 * that, and quarantine's own read-back re-adds its neighbour if this write dropped it.
 */
async function removeFromPolicy(
  iam: IAMClient,
  roleName: string,
  instanceArn: string,
  ownRevocations: readonly string[],
  pause: (ms: number) => Promise<void>,
): Promise<PolicyResult> {
  let wrote: 'updated' | 'deleted' | undefined;
  let first: ReturnType<typeof withoutInstance> | undefined;
  for (let attempt = 1; attempt <= CONFIRM_ATTEMPTS; attempt++) {
    const current = await readPolicy(iam, roleName);
    if (!current) {
      return {
        roleName,
        policyName: QUARANTINE_POLICY_NAME,
        status: 'restored',
        deny: first?.deny ?? 'not-present',
        otherInstancesDenied: 0,
        sessionRevocation: first?.sessionRevocation ?? 'none',
        policy: wrote ?? 'absent',
      };
    }
    const plan = withoutInstance(current, instanceArn, ownRevocations);
    first ??= plan;
    if (!plan.changed) {
      return {
        roleName,
        policyName: QUARANTINE_POLICY_NAME,
        status: 'restored',
        deny: first.deny,
        otherInstancesDenied: plan.otherInstancesDenied,
        sessionRevocation: first.sessionRevocation === 'removed' ? 'removed' : plan.sessionRevocation,
        ...(plan.keptBecause ? { keptBecause: plan.keptBecause } : {}),
        policy: wrote ?? 'unchanged',
      };
    }
    if (plan.document) {
      await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE_POLICY_NAME, PolicyDocument: JSON.stringify(plan.document) }));
      wrote = 'updated';
    } else {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE_POLICY_NAME }));
      } catch (err) {
        const name = awsErrorName(err);
        if (name !== 'NoSuchEntityException' && name !== 'NoSuchEntity') throw err;
      }
      wrote = 'deleted';
    }
    await pause(250 + Math.floor(Math.random() * 500));
    const after = await readPolicy(iam, roleName);
    if (!denies(after, instanceArn)) {
      const again = after ? withoutInstance(after, instanceArn, ownRevocations) : undefined;
      return {
        roleName,
        policyName: QUARANTINE_POLICY_NAME,
        status: 'restored',
        deny: first.deny,
        otherInstancesDenied: again?.otherInstancesDenied ?? 0,
        sessionRevocation: first.sessionRevocation,
        ...(first.keptBecause ? { keptBecause: first.keptBecause } : {}),
        policy: after ? 'updated' : 'deleted',
      };
    }
  }
  throw new ReleasePolicyNotConfirmedError(
    `${instanceArn} is still denied in ${roleName}'s ${QUARANTINE_POLICY_NAME} policy after ${CONFIRM_ATTEMPTS} attempts`,
  );
}

async function reassociate(ec2: EC2Client, instanceId: string, profileArn: string): Promise<RoleRestoreResult['profile']> {
  const out = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [instanceId] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    }),
  );
  const current = out.IamInstanceProfileAssociations?.[0];
  if (current?.IamInstanceProfile?.Arn === profileArn) {
    return { status: 'already-associated', arn: profileArn, associationId: current.AssociationId ?? '' };
  }
  if (current) {
    return {
      status: 'failed',
      error: 'ProfileConflictError',
      cause: `${instanceId} has had ${current.IamInstanceProfile?.Arn ?? 'another profile'} associated since containment; cordon does not replace it with ${profileArn}`,
    };
  }
  try {
    const associated = await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: profileArn } }));
    return { status: 'associated', arn: profileArn, associationId: associated.IamInstanceProfileAssociation?.AssociationId ?? '' };
  } catch (err) {
    if (isTransient(err)) throw err;
    return { status: 'failed', ...errorSummary(err) };
  }
}

async function roleOfProfile(iam: IAMClient, profileArn: string): Promise<string | null> {
  const name = profileArn.split('/').pop() ?? '';
  try {
    const out = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }));
    return out.InstanceProfile?.Roles?.[0]?.RoleName ?? null;
  } catch (err) {
    if (isTransient(err)) throw err;
    return null; // the profile is gone: the roles quarantine recorded are still cleaned
  }
}

export async function restoreRole(clients: { ec2: EC2Client; iam: IAMClient }, input: RoleInput, deps: RoleDeps = {}): Promise<RoleRestoreResult> {
  const { ec2, iam } = clients;
  const roleNames = new Set(input.roleNames);
  let profile: RoleRestoreResult['profile'] = { status: 'not-applicable', reason: 'the instance had no instance profile before containment' };
  if (input.profile) {
    const role = await roleOfProfile(iam, input.profile.arn);
    if (role) roleNames.add(role);
    // Quarantine in reverse: it denied, then disassociated; release associates, then removes the deny.
    profile = await reassociate(ec2, input.target.instanceId, input.profile.arn);
  }
  if (!input.profile && roleNames.size === 0) {
    return { action: 'restoreRole', status: 'not-applicable', profile, policies: [], limits: [] };
  }

  const policies: PolicyResult[] = [];
  for (const roleName of [...roleNames].sort()) {
    try {
      policies.push(await removeFromPolicy(iam, roleName, input.instanceArn, input.sessionRevocations, deps.sleep ?? sleep));
    } catch (err) {
      if (isTransient(err) || err instanceof ReleasePolicyNotConfirmedError) throw err;
      policies.push({ roleName, policyName: QUARANTINE_POLICY_NAME, status: 'failed', ...errorSummary(err) });
    }
  }

  const failures = [
    ...(profile.status === 'failed' ? [`instance profile: ${profile.error}: ${profile.cause}`] : []),
    ...policies.flatMap((p) => (p.status === 'failed' ? [`${p.roleName}'s ${p.policyName} policy: ${p.error}: ${p.cause}`] : [])),
  ];
  const firstError = profile.status === 'failed' ? profile.error : policies.find((p): p is Extract<PolicyResult, Failed> => p.status === 'failed')?.error;
  return {
    action: 'restoreRole',
    status: failures.length ? 'failed' : 'succeeded',
    profile,
    policies,
    limits: LIMITS,
    ...(failures.length ? { error: firstError ?? 'Error', cause: failures.join('; ').slice(0, 1000) } : {}),
  };
}
