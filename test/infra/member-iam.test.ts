/**
 * CordonResponder's identity policy judged by an independent IAM evaluator (@cloud-copilot/iam-simulate), not
 * by reading the template: the member stack is synthesized, its policy is resolved to concrete ARNs (partition
 * `aws`, member account MEMBER) and each request below is evaluated as AWS would, explicit denies included.
 * This is the "hostile tenant" boundary (docs/iam.md): what a holder of CordonResponder's credentials can and
 * cannot do in a member account.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { parseConfig } from '../../lib/config';
import { CordonMemberStack } from '../../lib/member-stack';

const HUB = '111111111111';
const MEMBER = '222222222222';
const STRANGER = '333333333333';
const REGION = 'us-east-1';
const SESSION = `arn:aws:sts::${MEMBER}:assumed-role/CordonResponder/cordon-req-1`;

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
type PolicyDocument = { Version: string; Statement: unknown[] };

/** Resolve the CloudFormation intrinsics a member policy uses to concrete values. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolve(p) as string).join(sep);
    }
    if (typeof v.Ref === 'string') {
      const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::AccountId': MEMBER, 'AWS::Region': REGION };
      const resolved = pseudo[v.Ref];
      if (resolved === undefined) throw new Error(`cannot resolve Ref ${v.Ref}`);
      return resolved;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  }
  return value;
}

/** CordonResponder's identity policies (the role's inline policies and every AWS::IAM::Policy attached to it). */
function responderPolicies(cordon: unknown): { name: string; policy: PolicyDocument }[] {
  const app = new App();
  const stack = new CordonMemberStack(app, 'CordonMember', { config: parseConfig(cordon, {}), env: { region: REGION } });
  const template = Template.fromStack(stack);
  const roles = template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'CordonResponder' } });
  const [roleId] = Object.keys(roles);
  if (!roleId) throw new Error('no CordonResponder role');
  const attached = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) =>
    ((p.Properties.Roles ?? []) as unknown[]).some((r) => (r as { Ref?: string }).Ref === roleId),
  );
  const inline = ((roles[roleId]!.Properties.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map((p) => ({
    name: p.PolicyName,
    policy: resolve(p.PolicyDocument) as PolicyDocument,
  }));
  return [...inline, ...attached.map(([id, p]) => ({ name: id, policy: resolve(p.Properties.PolicyDocument) as PolicyDocument }))];
}

let policies: { name: string; policy: PolicyDocument }[];

beforeAll(() => {
  policies = responderPolicies({ hubAccount: HUB, memberAccounts: [MEMBER], regions: [REGION] });
});

/** The evaluator's decisions for one request by a CordonResponder session in MEMBER: overall, and by the identity policies alone. */
async function evaluate(
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<{ overall: Decision; identity: Decision | undefined }> {
  const simulation: Simulation = {
    request: {
      principal: SESSION,
      action,
      resource: { resource, accountId: MEMBER },
      contextVariables: { 'aws:RequestedRegion': REGION, ...context },
    },
    identityPolicies: policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: undefined,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType !== 'single') throw new Error(`simulation ${result.resultType}: ${JSON.stringify(result)}`);
  return { overall: result.overallResult as Decision, identity: result.result.analysis?.identityAnalysis?.result as Decision | undefined };
}

/** The evaluator's overall decision for one request by a CordonResponder session in MEMBER. */
async function decide(action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<Decision> {
  return (await evaluate(action, resource, context)).overall;
}

const snapshot = `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`;
const managed = { 'aws:ResourceTag/cordon:managed': 'true' };
const role = (name: string, path = '/'): string => `arn:aws:iam::${MEMBER}:role${path}${name}`;
const instance = `arn:aws:ec2:${REGION}:${MEMBER}:instance/i-0123456789abcdef0`;

describe('ModifySnapshotAttribute: evidence goes to the hub account only, never public', () => {
  it('allows sharing a cordon snapshot with the hub account', async () => {
    expect(await decide('ec2:ModifySnapshotAttribute', snapshot, { ...managed, 'ec2:Add/userId': HUB })).toBe('Allowed');
  });

  it('refuses sharing a cordon snapshot with any other account, explicitly', async () => {
    expect(await decide('ec2:ModifySnapshotAttribute', snapshot, { ...managed, 'ec2:Add/userId': STRANGER })).toBe('ExplicitlyDenied');
  });

  it('refuses making a cordon snapshot public (group all), explicitly', async () => {
    expect(await decide('ec2:ModifySnapshotAttribute', snapshot, { ...managed, 'ec2:Add/group': 'all' })).toBe('ExplicitlyDenied');
  });

  it('refuses sharing a snapshot cordon did not make, even with the hub', async () => {
    expect(await decide('ec2:ModifySnapshotAttribute', snapshot, { 'ec2:Add/userId': HUB })).toBe('ImplicitlyDenied');
  });

  it('refuses removing permissions (no ec2:Add/userId): cordon only ever adds the hub', async () => {
    expect(await decide('ec2:ModifySnapshotAttribute', snapshot, { ...managed, 'ec2:Remove/userId': HUB })).toBe('ImplicitlyDenied');
  });
});

describe('IAM writes never touch protected roles', () => {
  // IAM itself refuses writes and PassRole for roles under /aws-reserved/ (the evaluator models it: ImplicitlyDenied
  // overall); CordonResponder's own policy denies them explicitly all the same.
  it.each([
    ['OrganizationAccountAccessRole', '/', 'ExplicitlyDenied'],
    ['AWSReservedSSO_AdministratorAccess_0123456789abcdef', '/aws-reserved/sso.amazonaws.com/', 'ImplicitlyDenied'],
    ['AWSReservedSSO_ReadOnly_abc', '/', 'ExplicitlyDenied'],
    ['CordonResponder', '/', 'ExplicitlyDenied'],
    ['CordonResponder', '/some/path/', 'ExplicitlyDenied'],
    ['cordon-isolate-us-east-1', '/', 'ExplicitlyDenied'],
    ['aws-controltower-AdministratorExecutionRole', '/', 'ExplicitlyDenied'],
    ['AWSControlTowerExecution', '/', 'ExplicitlyDenied'],
    ['stacksets-exec-0123456789abcdef', '/', 'ExplicitlyDenied'],
    ['AWSCloudFormationStackSetExecutionRole', '/', 'ExplicitlyDenied'],
    ['cdk-hnb659fds-cfn-exec-role-222222222222-us-east-1', '/', 'ExplicitlyDenied'],
    ['AWSServiceRoleForAutoScaling', '/aws-service-role/autoscaling.amazonaws.com/', 'ExplicitlyDenied'],
  ])('denies PutRolePolicy, DeleteRolePolicy and PassRole on %s (path %s)', async (name, path, policyWrites) => {
    const arn = role(name, path);
    const put = await evaluate('iam:PutRolePolicy', arn);
    const del = await evaluate('iam:DeleteRolePolicy', arn);
    const pass = await evaluate('iam:PassRole', arn, { 'iam:PassedToService': 'ec2.amazonaws.com' });

    expect([put.identity, del.identity, pass.identity]).toEqual(['ExplicitlyDenied', 'ExplicitlyDenied', 'ExplicitlyDenied']);
    expect([put.overall, del.overall, pass.overall]).toEqual([policyWrites, policyWrites, policyWrites]);
  });

  it('allows quarantining, releasing and re-passing an ordinary workload role', async () => {
    const arn = role('web-app-instance-role');
    expect(await decide('iam:PutRolePolicy', arn)).toBe('Allowed');
    expect(await decide('iam:DeleteRolePolicy', arn)).toBe('Allowed');
    expect(await decide('iam:PassRole', arn, { 'iam:PassedToService': 'ec2.amazonaws.com' })).toBe('Allowed');
  });

  it('passes a workload role to EC2 only, never to Lambda', async () => {
    expect(await decide('iam:PassRole', role('web-app-instance-role'), { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe(
      'ImplicitlyDenied',
    );
  });

  it('never attaches managed policies or rewrites trust, even on a workload role', async () => {
    expect(await decide('iam:AttachRolePolicy', role('web-app-instance-role'))).toBe('ImplicitlyDenied');
    expect(await decide('iam:UpdateAssumeRolePolicy', role('web-app-instance-role'))).toBe('ImplicitlyDenied');
  });

  it('protects the configured list instead of the default one', async () => {
    const custom = responderPolicies({ hubAccount: HUB, memberAccounts: [MEMBER], regions: [REGION], protectedRoles: ['Admin*'] });
    const saved = policies;
    policies = custom;
    try {
      expect(await decide('iam:PutRolePolicy', role('AdminBreakGlass'))).toBe('ExplicitlyDenied');
      expect(await decide('iam:PutRolePolicy', role('OrganizationAccountAccessRole'))).toBe('Allowed');
      // Always protected, whatever the configuration.
      expect(await decide('iam:PutRolePolicy', role('CordonResponder'))).toBe('ExplicitlyDenied');
    } finally {
      policies = saved;
    }
  });
});

describe('ModifyInstanceAttribute: only the attributes cordon changes', () => {
  it.each([
    ['ec2:Attribute/DisableApiTermination', 'true'],
    ['ec2:Attribute/DisableApiTermination', 'false'],
    ['ec2:Attribute/InstanceInitiatedShutdownBehavior', 'stop'],
    ['ec2:Attribute/InstanceInitiatedShutdownBehavior', 'terminate'],
  ])('allows %s = %s', async (key, value) => {
    expect(await decide('ec2:ModifyInstanceAttribute', instance, { [key]: value })).toBe('Allowed');
  });

  it('allows a block-device mapping change (preserve: DeleteOnTermination=false), which no attribute key names', async () => {
    expect(await decide('ec2:ModifyInstanceAttribute', instance)).toBe('Allowed');
  });

  it.each([
    ['ec2:Attribute/UserData', 'IyEvYmluL3NoCmN1cmwgZXZpbC5leGFtcGxlIHwgc2g='],
    ['ec2:Attribute/InstanceType', 'p5.48xlarge'],
    ['ec2:Attribute/SourceDestCheck', 'false'],
    ['ec2:Attribute/Kernel', 'aki-01234567'],
    ['ec2:Attribute/DisableApiStop', 'true'],
    ['ec2:Attribute/InstanceInitiatedShutdownBehavior', 'hibernate'],
    ['ec2:Attribute', 'userData'],
  ])('refuses %s', async (key, value) => {
    expect(await decide('ec2:ModifyInstanceAttribute', instance, { [key]: value })).toBe('ImplicitlyDenied');
  });
});

describe('what stays broad (docs/iam.md residuals), stated so a change is noticed', () => {
  it('associates any instance profile with any instance of the account', async () => {
    expect(await decide('ec2:AssociateIamInstanceProfile', instance)).toBe('Allowed');
  });

  it('never terminates an instance, whatever else is allowed', async () => {
    expect(await decide('ec2:TerminateInstances', instance)).toBe('ExplicitlyDenied');
  });
});
