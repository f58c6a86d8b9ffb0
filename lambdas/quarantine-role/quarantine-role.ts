/**
 * QuarantineRole (docs/design.md §3.3). An inline Deny on the instance-profile role,
 * conditioned on `ec2:SourceInstanceARN`, kills this instance's credentials
 * wherever they are used without breaking other instances sharing the role.
 * Then the profile is disassociated. Optionally every older session of the
 * role is revoked with `aws:TokenIssueTime`.
 */
import { DescribeInstancesCommand, DisassociateIamInstanceProfileCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListInstanceProfilesForRoleCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { CordonError } from '../shared/errors';
import { awsErrorName } from '../shared/handler';
import { ProfileSummary, TaskBase } from '../shared/workflow';

export const QUARANTINE_POLICY_NAME = 'cordon-quarantine';
export const DENY_SID = 'CordonDenyCompromisedInstances';
export const REVOKE_SID = 'CordonRevokeOlderSessions';
/** IAM's quota for the aggregate size of a role's inline policies. */
export const INLINE_POLICY_QUOTA = 10_240;

export type RevokeSessionsMode = 'auto' | 'always' | 'never';

export class QuarantinePolicyTooLargeError extends CordonError {
  constructor(message: string) {
    super('QuarantinePolicyTooLargeError', message);
  }
}

export const QuarantineInput = TaskBase.extend({
  instanceArn: z.string().regex(/^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/i-[0-9a-f]+$/),
  profile: ProfileSummary.nullable(),
});
export type QuarantineInput = z.infer<typeof QuarantineInput>;

export interface QuarantineDeps {
  readonly factory: ClientFactory;
  readonly config: { readonly revokeSessions: RevokeSessionsMode };
  readonly now?: () => Date;
  /** Pause between write and read-back (tests pass a no-op). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The deny could not be confirmed in the role's policy after several attempts (a concurrent writer kept winning). */
export class QuarantineNotConfirmedError extends CordonError {
  constructor(message: string) {
    super('QuarantineNotConfirmedError', message);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const CONFIRM_ATTEMPTS = 4;

function denies(document: PolicyDocument | undefined, instanceArn: string, revokeBefore: string | undefined): boolean {
  const deny = document?.Statement.find((s) => s.Sid === DENY_SID)?.Condition.StringEquals?.['ec2:SourceInstanceARN'];
  const listed = Array.isArray(deny) ? deny.includes(instanceArn) : deny === instanceArn;
  if (!listed) return false;
  if (!revokeBefore) return true;
  const at = document?.Statement.find((s) => s.Sid === REVOKE_SID)?.Condition.DateLessThan?.['aws:TokenIssueTime'];
  return typeof at === 'string' && at >= revokeBefore;
}

/**
 * Read, merge, write, then read back until the deny for this instance is really there. Two
 * quarantines of instances sharing one role race on the same policy document: without the
 * read-back, the last writer would silently drop the other instance's deny.
 */
async function putAndConfirm(
  iam: IAMClient,
  roleName: string,
  instanceArn: string,
  revokeBefore: string | undefined,
  pause: (ms: number) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; attempt <= CONFIRM_ATTEMPTS; attempt++) {
    const current = await readPolicy(iam, roleName);
    if (attempt > 1 && denies(current, instanceArn, revokeBefore)) return;
    const text = JSON.stringify(mergePolicy(current, instanceArn, revokeBefore));
    if (text.length > INLINE_POLICY_QUOTA) {
      throw new QuarantinePolicyTooLargeError(
        `the ${QUARANTINE_POLICY_NAME} policy on ${roleName} would be ${text.length} characters, over IAM's ${INLINE_POLICY_QUOTA}; release earlier incidents on this role or quarantine by detaching it`,
      );
    }
    await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE_POLICY_NAME, PolicyDocument: text }));
    // A moment for a concurrent writer to land, with jitter so two racers don't stay in step.
    await pause(250 + Math.floor(Math.random() * 500));
    if (denies(await readPolicy(iam, roleName), instanceArn, revokeBefore)) return;
  }
  throw new QuarantineNotConfirmedError(`the deny for ${instanceArn} is not in ${roleName}'s ${QUARANTINE_POLICY_NAME} policy after ${CONFIRM_ATTEMPTS} attempts`);
}

export type QuarantineResult =
  | { action: 'quarantineRole'; status: 'not-applicable'; reason: string }
  | {
      action: 'quarantineRole';
      status: 'succeeded';
      roleName: string | null;
      policyName: string | null;
      deniedInstanceArn: string;
      sessionsRevoked: { status: 'revoked'; issuedBefore: string } | { status: 'skipped'; reason: string };
      profileDisassociated: 'disassociated' | 'already-disassociated';
      limits: string[];
    };

interface Statement {
  Sid: string;
  Effect: 'Deny';
  Action: '*';
  Resource: '*';
  Condition: Record<string, Record<string, string | string[]>>;
}
interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

const LIMITS = [
  'IAM changes take effect within seconds to a few minutes (eventual consistency)',
  'sessions the attacker chained into another role (sts:AssumeRole from these credentials) are not covered by the ec2:SourceInstanceARN deny',
];

function profileNameFromArn(arn: string): string {
  const name = arn.split('/').pop();
  if (!name) throw new CordonError('InvalidProfileArnError', `cannot read an instance-profile name from ${arn}`);
  return name;
}

/** Merge this instance into the role's one cordon policy (one Deny listing every quarantined instance). */
export function mergePolicy(existing: PolicyDocument | undefined, instanceArn: string, revokeBefore?: string): PolicyDocument {
  const statements = (existing?.Statement ?? []).filter((s) => s.Sid !== DENY_SID && s.Sid !== REVOKE_SID);
  const previous = existing?.Statement.find((s) => s.Sid === DENY_SID)?.Condition.StringEquals?.['ec2:SourceInstanceARN'];
  const arns = new Set<string>(Array.isArray(previous) ? previous : previous ? [previous] : []);
  arns.add(instanceArn);
  const deny: Statement = {
    Sid: DENY_SID,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { StringEquals: { 'ec2:SourceInstanceARN': [...arns].sort() } },
  };
  const oldRevoke = existing?.Statement.find((s) => s.Sid === REVOKE_SID)?.Condition.DateLessThan?.['aws:TokenIssueTime'];
  const revokeAt = [revokeBefore, typeof oldRevoke === 'string' ? oldRevoke : undefined].filter(Boolean).sort().pop();
  const result: Statement[] = [...statements, deny];
  if (revokeAt) {
    result.push({
      Sid: REVOKE_SID,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': revokeAt } },
    });
  }
  return { Version: '2012-10-17', Statement: result };
}

async function readPolicy(iam: IAMClient, roleName: string): Promise<PolicyDocument | undefined> {
  try {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE_POLICY_NAME }));
    return out.PolicyDocument ? (JSON.parse(decodeURIComponent(out.PolicyDocument)) as PolicyDocument) : undefined;
  } catch (err) {
    if (awsErrorName(err) === 'NoSuchEntityException' || awsErrorName(err) === 'NoSuchEntity') return undefined;
    throw err;
  }
}

/**
 * Why the role may have users other than EC2 instances in this region, or null when it can't: its trust
 * policy admits principals other than ec2.amazonaws.com, or it was last used in another region (instances
 * elsewhere, which a DescribeInstances in this region can't see).
 */
async function otherUsersOfRole(iam: IAMClient, roleName: string, region: string): Promise<string | null> {
  const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  if (!role) return 'could not be described';
  let trust: { Statement?: Array<{ Effect?: string; Principal?: unknown }> } = {};
  try {
    trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument ?? '{}')) as typeof trust;
  } catch {
    return 'has a trust policy cordon could not read';
  }
  const principals = (trust.Statement ?? [])
    .filter((st) => st.Effect === 'Allow')
    .flatMap((st) => {
      const p = st.Principal;
      if (typeof p === 'string') return [p];
      return Object.entries((p ?? {}) as Record<string, unknown>).flatMap(([kind, v]) => [v].flat().map((x) => `${kind}:${String(x)}`));
    });
  const nonEc2 = principals.filter((p) => p !== 'Service:ec2.amazonaws.com');
  if (nonEc2.length) return `is also trusted by ${nonEc2.slice(0, 3).join(', ')}`;
  const lastRegion = role.RoleLastUsed?.Region;
  if (lastRegion && lastRegion !== region) return `was last used in ${lastRegion}, so it may have instances outside ${region}`;
  return null;
}

/** Other live instances whose profile carries the same role. */
async function otherInstancesUsingRole(
  iam: IAMClient,
  ec2: EC2Client,
  roleName: string,
  instanceId: string,
): Promise<string[]> {
  const profileArns: string[] = [];
  let Marker: string | undefined;
  do {
    const out = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker }));
    profileArns.push(...(out.InstanceProfiles ?? []).map((p) => p.Arn ?? '').filter(Boolean));
    Marker = out.IsTruncated ? out.Marker : undefined;
  } while (Marker);
  if (profileArns.length === 0) return [];
  const others = new Set<string>();
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'iam-instance-profile.arn', Values: profileArns },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
        NextToken,
      }),
    );
    for (const r of out.Reservations ?? []) {
      for (const i of r.Instances ?? []) if (i.InstanceId && i.InstanceId !== instanceId) others.add(i.InstanceId);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return [...others].sort();
}

export async function quarantineRole(input: QuarantineInput, deps: QuarantineDeps): Promise<QuarantineResult> {
  if (!input.profile) {
    return { action: 'quarantineRole', status: 'not-applicable', reason: 'the instance has no instance profile: no role credentials to deny' };
  }
  const { iam, ec2 } = await deps.factory.forTarget(input.target, `cordon-${input.requestId}`);
  const now = (deps.now ?? (() => new Date()))().toISOString();

  const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileNameFromArn(input.profile.arn) }));
  const roleName = profile.InstanceProfile?.Roles?.[0]?.RoleName ?? null;

  let sessionsRevoked: Extract<QuarantineResult, { status: 'succeeded' }>['sessionsRevoked'] = {
    status: 'skipped',
    reason: 'the instance profile holds no role',
  };
  if (roleName) {
    let revoke = deps.config.revokeSessions === 'always';
    if (deps.config.revokeSessions === 'never') {
      sessionsRevoked = { status: 'skipped', reason: 'revokeSessions is "never"' };
    } else if (deps.config.revokeSessions === 'auto') {
      // Revocation is role-wide: only when nothing else can be using the role's sessions.
      const otherUsers = await otherUsersOfRole(iam, roleName, input.target.region);
      const others = otherUsers ? [] : await otherInstancesUsingRole(iam, ec2, roleName, input.target.instanceId);
      revoke = !otherUsers && others.length === 0;
      if (otherUsers) {
        sessionsRevoked = { status: 'skipped', reason: `role ${roleName} ${otherUsers}; revoking its sessions could cut off other users` };
      } else if (!revoke) {
        sessionsRevoked = {
          status: 'skipped',
          reason: `role ${roleName} is shared with ${others.length} other instance(s) (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}); revoking its sessions would cut them off until they refresh credentials`,
        };
      }
    }
    await putAndConfirm(iam, roleName, input.instanceArn, revoke ? now : undefined, deps.sleep ?? sleep);
    if (revoke) sessionsRevoked = { status: 'revoked', issuedBefore: now };
  }

  let profileDisassociated: 'disassociated' | 'already-disassociated' = 'disassociated';
  try {
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: input.profile.associationId }));
  } catch (err) {
    if (awsErrorName(err) !== 'InvalidAssociationID.NotFound') throw err;
    profileDisassociated = 'already-disassociated'; // a retried task, or someone was faster
  }

  return {
    action: 'quarantineRole',
    status: 'succeeded',
    roleName,
    policyName: roleName ? QUARANTINE_POLICY_NAME : null,
    deniedInstanceArn: input.instanceArn,
    sessionsRevoked,
    profileDisassociated,
    limits: LIMITS,
  };
}
