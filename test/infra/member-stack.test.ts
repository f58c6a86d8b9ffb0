import { existsSync, readFileSync, readdirSync, statSync } from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_PROTECTED_ROLES, parseConfig } from '../../lib/config';
import { CordonMemberStack, DENIED_ACTIONS } from '../../lib/member-stack';
import { PROTECTED_ROLE_ACTIONS } from '../../lib/member-permissions';
import { FUNCTIONS, actsInMemberAccounts, hubRoleName } from '../../lib/functions';
import { ROOT, asArray, flatten, iamStatements, type Statement } from './synth';

const HUB = '111111111111';
const ORG = 'o-abcdefghij';
const REGIONS = ['us-east-1', 'eu-west-1'];

/** Member stacks build no assets: synthesize them directly, once per configuration. */
function memberTemplate(cordon: unknown): Template {
  const app = new App();
  const stack = new CordonMemberStack(app, 'CordonMember', { config: parseConfig(cordon, {}), env: { region: 'us-east-1' } });
  return Template.fromStack(stack);
}

let multi: Template;
let single: Template;
let policy: Statement[];

beforeAll(() => {
  multi = memberTemplate({ hubAccount: HUB, organizationId: ORG, memberAccounts: ['222222222222'], regions: REGIONS });
  single = memberTemplate({});
  policy = iamStatements(multi)
    .filter(({ owner }) => owner.startsWith('ResponderPolicy'))
    .map(({ statement }) => statement);
});

const SERVICES: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
};

/** IAM action → the responders whose code sends that SDK command (target-account clients only). */
function responderCalls(): Map<string, string[]> {
  const files = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((f) => {
          const p = path.join(dir, f);
          return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
        })
      : [];
  const calls = new Map<string, string[]>();
  for (const responder of ['shared', ...FUNCTIONS.filter(actsInMemberAccounts).map((f) => f.name)]) {
    for (const file of files(path.join(ROOT, 'lambdas', responder))) {
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
        const service = SERVICES[m[2]!];
        if (!service) continue;
        for (const name of m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) {
          const command = /^(\w+)Command$/.exec(name)?.[1];
          if (!command || !new RegExp(`new ${name}\\(`).test(source)) continue;
          const action = `${service}:${command}`;
          calls.set(action, [...(calls.get(action) ?? []), responder]);
        }
      }
    }
  }
  return calls;
}

const allows = (): Statement[] => policy.filter((s) => s.Effect === 'Allow');
const actionsOf = (s: Statement): string[] => asArray(s.Action);

describe('CordonResponder trust', () => {
  it('is assumable only by the exact hub role ARNs, in every configured region, within the organization', () => {
    // Prepare
    const expected = REGIONS.flatMap((region) =>
      FUNCTIONS.filter(actsInMemberAccounts).map((f) => `arn:<AWS::Partition>:iam::${HUB}:role/${hubRoleName(f.name, region)}`),
    );
    const role = Object.values(multi.findResources('AWS::IAM::Role', { Properties: { RoleName: 'CordonResponder' } }));

    // Act
    const trust = (role[0]?.Properties.AssumeRolePolicyDocument.Statement ?? []) as Statement[];

    // Assess
    expect(role).toHaveLength(1);
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRole' });
    expect(flatten((trust[0]!.Principal as { AWS: unknown }).AWS)).toBe(`arn:<AWS::Partition>:iam::${HUB}:root`);
    expect(asArray(trust[0]!.Condition?.ArnEquals?.['aws:PrincipalArn']).map(flatten)).toEqual(expected);
    expect(trust[0]!.Condition?.StringEquals).toEqual({ 'aws:PrincipalOrgID': ORG });
    expect(Object.keys(trust[0]!.Condition ?? {}).sort()).toEqual(['ArnEquals', 'StringEquals']);
  });

  it('trusts its own account in single-account mode, and no organization condition', () => {
    const role = Object.values(single.findResources('AWS::IAM::Role'))[0];
    const trust = role?.Properties.AssumeRolePolicyDocument.Statement[0] as Statement;

    expect(flatten((trust.Principal as { AWS: unknown }).AWS)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:root');
    expect(asArray(trust.Condition?.ArnEquals?.['aws:PrincipalArn']).map(flatten)).toEqual(
      FUNCTIONS.filter(actsInMemberAccounts).map((f) => `arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${hubRoleName(f.name, 'us-east-1')}`),
    );
    expect(trust.Condition?.StringEquals).toBeUndefined();
  });

  it('has no managed policies and a one-hour session cap', () => {
    multi.hasResourceProperties('AWS::IAM::Role', { RoleName: 'CordonResponder', MaxSessionDuration: 3600 });
    const role = Object.values(multi.findResources('AWS::IAM::Role'))[0];
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('CordonResponder permissions', () => {
  it('never allows destroying evidence or terminating instances, nor any wildcard action', () => {
    const allowed = allows().flatMap(actionsOf);

    // The one wildcard: ReEncryptFrom/ReEncryptTo, which EBS needs on the evidence key.
    expect(allowed.filter((a) => a.includes('*'))).toEqual(['kms:ReEncrypt*']);
    expect(allowed.filter((a) => DENIED_ACTIONS.includes(a))).toEqual([]);
    // The one delete: cordon's own temporary snapshot copies, once the hub has its copy.
    expect(allowed.filter((a) => /^ec2:(Terminate|Delete)/.test(a))).toEqual(['ec2:DeleteSnapshot']);
    const deletes = allows().filter((s) => actionsOf(s).includes('ec2:DeleteSnapshot'));
    expect(deletes.map((s) => s.Condition)).toEqual([
      { StringEquals: { 'aws:ResourceTag/cordon:managed': 'true', 'aws:ResourceTag/cordon:temporary': 'true' } },
    ]);
  });

  it('explicitly denies TerminateInstances, DeleteVolume and DeleteFlowLogs everywhere, and DeleteSnapshot of anything not temporary', () => {
    const deny = policy.find((s) => s.Effect === 'Deny' && actionsOf(s).includes('ec2:TerminateInstances'));
    const snapshotDeny = policy.find((s) => s.Effect === 'Deny' && actionsOf(s).includes('ec2:DeleteSnapshot'));
    const relabel = policy.find((s) => s.Sid === 'NeverRelabelSnapshotsTemporary');

    expect(deny).toEqual({
      Sid: 'NeverDestroyEvidence',
      Effect: 'Deny',
      Action: ['ec2:TerminateInstances', 'ec2:DeleteVolume', 'ec2:DeleteFlowLogs'],
      Resource: '*',
    });
    expect(snapshotDeny).toEqual({
      Sid: 'NeverDeleteEvidenceSnapshots',
      Effect: 'Deny',
      Action: 'ec2:DeleteSnapshot',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:ResourceTag/cordon:temporary': 'true' } },
    });
    // Nothing can turn an original into a "temporary" copy: that tag is set only by CopySnapshot.
    expect(relabel).toMatchObject({
      Effect: 'Deny',
      Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
      Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['cordon:temporary'] }, StringNotEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
    });
  });

  it('changes security-group rules only on groups tagged cordon:managed=true', () => {
    const ruleEdits = allows().filter((s) => actionsOf(s).some((a) => /^ec2:(Authorize|Revoke)SecurityGroup/.test(a)));

    expect(ruleEdits.length).toBeGreaterThan(0);
    for (const s of ruleEdits) {
      expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/cordon:managed': 'true' } });
    }
    expect(ruleEdits.flatMap(actionsOf).sort()).toEqual([
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
    ]);
  });

  it('creates security groups only with the cordon:managed tag', () => {
    const onGroups = allows().filter(
      (s) => actionsOf(s).includes('ec2:CreateSecurityGroup') && asArray(s.Resource).map(flatten).some((r) => r.includes(':security-group/')),
    );
    expect(onGroups).toHaveLength(1);
    expect(onGroups[0]!.Condition).toEqual({ StringEquals: { 'aws:RequestTag/cordon:managed': 'true' } });
  });

  it('tags only what it creates, or what already carries cordon:managed', () => {
    const tagging = allows().filter((s) => actionsOf(s).includes('ec2:CreateTags'));

    expect(tagging.length).toBeGreaterThan(0);
    for (const s of tagging) {
      const conditions = s.Condition?.StringEquals ?? {};
      expect(Boolean(conditions['ec2:CreateAction']) || conditions['aws:ResourceTag/cordon:managed'] === 'true').toBe(true);
    }
  });

  it('cannot write to itself, cordon hub roles, service-linked or SSO roles, nor the default protected roles, at any path', () => {
    const deny = policy.find((s) => s.Effect === 'Deny' && actionsOf(s).includes('iam:PutRolePolicy'));
    const arn = (name: string): string[] => [
      `arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${name}`,
      `arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*/${name}`,
    ];

    expect(asArray(deny?.Resource).map(flatten)).toEqual([
      ...arn('CordonResponder'),
      ...arn('cordon-*'),
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/*',
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-reserved/*',
      ...DEFAULT_PROTECTED_ROLES.flatMap(arn),
    ]);
    expect(actionsOf(deny!)).toEqual(PROTECTED_ROLE_ACTIONS);
  });

  it('protects the configured protectedRoles instead of the default list', () => {
    const custom = iamStatements(memberTemplate({ hubAccount: HUB, memberAccounts: ['222222222222'], protectedRoles: ['Admin*'] }))
      .map(({ statement }) => statement)
      .find((s) => s.Effect === 'Deny' && actionsOf(s).includes('iam:PassRole'));

    expect(asArray(custom?.Resource).map(flatten).slice(6)).toEqual([
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/Admin*',
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*/Admin*',
    ]);
  });

  it('scopes every resource ARN to this account and the configured regions', () => {
    const arns = allows()
      .flatMap((s) => asArray(s.Resource).map(flatten))
      .filter((r) => r !== '*');
    for (const arn of arns) {
      expect(arn).toMatch(
        /^arn:<AWS::Partition>:(ec2|autoscaling|elasticloadbalancing):(us-east-1|eu-west-1):(<AWS::AccountId>)?:|^arn:<AWS::Partition>:iam::<AWS::AccountId>:|^arn:<AWS::Partition>:kms:(us-east-1|eu-west-1):111111111111:key\/\*$/,
      );
    }
  });

  it('uses Resource "*" only for Describe calls (limited to the configured regions) and log delivery', () => {
    const unscoped = allows().filter((s) => asArray(s.Resource).includes('*'));
    for (const s of unscoped) {
      const actions = actionsOf(s);
      if (actions.every((a) => /^(ec2|autoscaling|elasticloadbalancing):Describe/.test(a))) {
        expect(s.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': REGIONS } });
      } else {
        expect(actions).toEqual(['logs:CreateLogDelivery', 'logs:DeleteLogDelivery']);
      }
    }
  });

  it('allows every EC2, IAM, Auto Scaling and ELB call the deployed responders make in target accounts', () => {
    // Prepare: the SDK commands used by the code of every FUNCTIONS entry that acts in member accounts.
    const needed = new Set(responderCalls().keys());
    const allowed = new Set(allows().flatMap(actionsOf));

    // Assess: what is explicitly denied is reported by the next test.
    expect(needed.size).toBeGreaterThan(10);
    expect([...needed].filter((a) => !allowed.has(a) && !DENIED_ACTIONS.includes(a)).sort()).toEqual([]);
  });

  it('is never asked by a deployed responder for an action it explicitly denies', () => {
    const calls = responderCalls();
    expect(DENIED_ACTIONS.flatMap((a) => (calls.get(a) ?? []).map((r) => `${a} (${r})`))).toEqual([]);
  });

  it('may use the hub evidence key only through EC2, named by its alias, for EBS snapshot copies', () => {
    const keyStatements = allows().filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(keyStatements.flatMap(actionsOf).sort()).toEqual([
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:ReEncrypt*',
    ]);
    for (const s of keyStatements) {
      expect(asArray(s.Resource).map(flatten)).toEqual(REGIONS.map((r) => `arn:<AWS::Partition>:kms:${r}:${HUB}:key/*`));
      expect(s.Condition).toMatchObject({
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/cordon-evidence' },
        StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
      });
    }
    const grant = keyStatements.find((s) => actionsOf(s).includes('kms:CreateGrant'));
    expect(grant?.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
  });
});

describe('CordonResponder with cordon.evidenceKeyArn', () => {
  const KEY_ARN = `arn:aws:kms:us-east-1:${HUB}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`;
  let byArn: Statement[];

  beforeAll(() => {
    // One region, so that one hub key is all there is (see the multi-region test below).
    const template = memberTemplate({ hubAccount: HUB, organizationId: ORG, memberAccounts: ['222222222222'], regions: ['us-east-1'], evidenceKeyArn: KEY_ARN });
    byArn = iamStatements(template)
      .filter(({ owner }) => owner.startsWith('ResponderPolicy'))
      .map(({ statement }) => statement);
  });

  const keyStatements = (statements: Statement[]): Statement[] =>
    statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('kms:')));

  it('names exactly that key, with no key/* and no alias condition, and keeps kms:ViaService EC2', () => {
    // Act
    const statements = keyStatements(byArn);

    // Assess
    expect(statements.map((s) => s.Sid).sort()).toEqual(['GrantEvidenceKeyToEbsByArn', 'UseEvidenceKeyForSnapshotsByArn']);
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:ReEncrypt*',
    ]);
    for (const s of statements) {
      expect(asArray(s.Resource).map(flatten)).toEqual([KEY_ARN]);
      expect(s.Condition?.StringLike).toEqual({ 'kms:ViaService': 'ec2.*.amazonaws.com' });
      expect(s.Condition).not.toHaveProperty(['ForAnyValue:StringEquals']);
      expect(JSON.stringify(s.Condition)).not.toContain('kms:ResourceAliases');
    }
    // Nowhere in the policy is any other key reachable
    const kmsResources = byArn.flatMap((s) => asArray(s.Resource).map(flatten)).filter((r) => r.includes(':kms:'));
    expect(kmsResources.filter((r) => r !== KEY_ARN)).toEqual([]);
    expect(JSON.stringify(byArn)).not.toContain('key/*');
  });

  it('lets CreateGrant create grants for AWS resources only', () => {
    const grant = keyStatements(byArn).filter((s) => actionsOf(s).includes('kms:CreateGrant'));

    expect(grant).toHaveLength(1);
    expect(actionsOf(grant[0]!)).toEqual(['kms:CreateGrant']);
    expect(grant[0]!.Condition).toEqual({
      StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    });
  });

  it('without it, falls back to key/* in the hub account narrowed by the alias (the existing contract)', () => {
    const statements = keyStatements(policy);

    for (const s of statements) {
      expect(asArray(s.Resource).map(flatten)).toEqual(REGIONS.map((r) => `arn:<AWS::Partition>:kms:${r}:${HUB}:key/*`));
      expect(s.Condition?.['ForAnyValue:StringEquals']).toEqual({ 'kms:ResourceAliases': 'alias/cordon-evidence' });
    }
  });

  it('does not leave a second hub region without an evidence key when one ARN is configured for two regions', () => {
    // Prepare: one hub, and so one evidence key, per configured region; share-snapshot copies
    // under the key of the region it runs in. Either the config is refused at synth, or every
    // region's key stays usable.
    let statements: Statement[];
    try {
      const template = memberTemplate({ hubAccount: HUB, memberAccounts: ['222222222222'], regions: REGIONS, evidenceKeyArn: KEY_ARN });
      statements = keyStatements(iamStatements(template).map(({ statement }) => statement));
    } catch (err) {
      // Refused: the message must say what to change.
      expect(String(err)).toMatch(/evidenceKeyArn/);
      return;
    }

    // Assess: a key in eu-west-1 (the second hub) is reachable too
    const resources = statements.flatMap((s) => asArray(s.Resource).map(flatten));
    expect(resources.some((r) => /:kms:eu-west-1:/.test(r))).toBe(true);
  });
});
