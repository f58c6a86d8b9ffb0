/**
 * IAM: instance profiles, roles and their inline policies, every change kept in
 * `policyHistory`; and the one evaluation the after-checks need: does a Deny that
 * cordon writes (by `ec2:SourceInstanceARN`, or by `aws:TokenIssueTime`) refuse a
 * request signed with an instance's credentials, now or from when?
 */
import type * as iam from '@aws-sdk/client-iam';
import { awsError, type ServiceHandlers, type SimState } from '../core';

function getInstanceProfile(s: SimState, input: iam.GetInstanceProfileCommandInput) {
  const p = s.profiles.get(input.InstanceProfileName as string);
  if (!p) throw awsError('NoSuchEntityException');
  return { InstanceProfile: { Arn: p.arn, InstanceProfileName: input.InstanceProfileName, Roles: p.roleName ? [{ RoleName: p.roleName }] : [] } };
}

function getRole(s: SimState, input: iam.GetRoleCommandInput) {
  if (!s.roles.has(input.RoleName as string)) throw awsError('NoSuchEntityException');
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  return { Role: { RoleName: input.RoleName, AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)), RoleLastUsed: { Region: s.region } } };
}

function listProfilesForRole(s: SimState, input: iam.ListInstanceProfilesForRoleCommandInput) {
  return {
    InstanceProfiles: [...s.profiles.values()].filter((p) => p.roleName === input.RoleName).map((p) => ({ Arn: p.arn })),
    IsTruncated: false,
  };
}

function getRolePolicy(s: SimState, input: iam.GetRolePolicyCommandInput) {
  const doc = s.roles.get(input.RoleName as string)?.inline.get(input.PolicyName as string);
  if (doc === undefined) throw awsError('NoSuchEntityException');
  return { RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(doc) };
}

function putRolePolicy(s: SimState, input: iam.PutRolePolicyCommandInput) {
  const role = s.roles.get(input.RoleName as string);
  if (!role) throw awsError('NoSuchEntityException');
  JSON.parse(input.PolicyDocument as string);
  role.inline.set(input.PolicyName as string, input.PolicyDocument as string);
  s.policyHistory.push({ at: s.now().getTime(), roleName: input.RoleName as string, policyName: input.PolicyName as string, document: input.PolicyDocument as string });
  return {};
}

/** Release (issue 5): the quarantine policy comes off. */
function deleteRolePolicy(s: SimState, input: iam.DeleteRolePolicyCommandInput) {
  const role = s.roles.get(input.RoleName as string);
  if (!role || !role.inline.has(input.PolicyName as string)) throw awsError('NoSuchEntityException');
  role.inline.delete(input.PolicyName as string);
  s.policyHistory.push({ at: s.now().getTime(), roleName: input.RoleName as string, policyName: input.PolicyName as string, document: null });
  return {};
}

export function iamHandlers(s: SimState): ServiceHandlers {
  return {
    GetInstanceProfile: (i: iam.GetInstanceProfileCommandInput) => getInstanceProfile(s, i),
    GetRole: (i: iam.GetRoleCommandInput) => getRole(s, i),
    ListInstanceProfilesForRole: (i: iam.ListInstanceProfilesForRoleCommandInput) => listProfilesForRole(s, i),
    GetRolePolicy: (i: iam.GetRolePolicyCommandInput) => getRolePolicy(s, i),
    PutRolePolicy: (i: iam.PutRolePolicyCommandInput) => putRolePolicy(s, i),
    DeleteRolePolicy: (i: iam.DeleteRolePolicyCommandInput) => deleteRolePolicy(s, i),
  };
}

// ------------------------------------------------------------------ credential evaluation (outcome queries)
/** Deny statements conditioned on `ec2:SourceInstanceARN` or `aws:TokenIssueTime`: the two cordon writes. */
function policyDenies(s: SimState, text: string, instanceId: string, issuedAt: Date): boolean {
  const doc = JSON.parse(text) as { Statement: Array<{ Effect: string; Condition?: Record<string, Record<string, unknown>> }> };
  for (const st of doc.Statement) {
    if (st.Effect !== 'Deny') continue;
    const arns = st.Condition?.StringEquals?.['ec2:SourceInstanceARN'];
    if (arns !== undefined && [arns].flat().includes(s.instanceArn(instanceId))) return true;
    const before = st.Condition?.DateLessThan?.['aws:TokenIssueTime'];
    if (typeof before === 'string' && issuedAt.getTime() < Date.parse(before)) return true;
  }
  return false;
}

/** Would a request signed with credentials issued to `instanceId` at `issuedAt` be denied by an inline policy? */
export function credentialsDenied(s: SimState, roleName: string, instanceId: string, issuedAt: Date): boolean {
  const role = s.roles.get(roleName);
  if (!role) return false;
  return [...role.inline.values()].some((text) => policyDenies(s, text, instanceId, issuedAt));
}

/**
 * The first moment at or after `from` (ms) from which such a request is denied, replaying the
 * role's inline-policy history with IAM's propagation delay; undefined if never (so far).
 */
export function credentialsDeniedFrom(s: SimState, roleName: string, instanceId: string, issuedAt: Date, propagationMs: number): number | undefined {
  const current = new Map<string, string | null>();
  for (const change of s.policyHistory) {
    if (change.roleName !== roleName) continue;
    current.set(change.policyName, change.document);
    const denied = [...current.values()].some((doc) => doc !== null && policyDenies(s, doc, instanceId, issuedAt));
    if (denied) return change.at + propagationMs;
  }
  return undefined;
}
