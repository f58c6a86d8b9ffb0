import { readFileSync, readdirSync, statSync } from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { CordonConfigSchema, DEFAULT_PROTECTED_ROLES, loadConfig, parseConfig } from '../../lib/config';
import { ROOT, cdkJsonContext } from './synth';

const NO_ENV: NodeJS.ProcessEnv = {};

describe('parseConfig defaults', () => {
  it('works with no context at all: single-account mode in us-east-1', () => {
    // Act
    const config = parseConfig(undefined, NO_ENV);

    // Assess
    expect(config).toEqual({
      hubAccount: undefined,
      organizationId: undefined,
      memberAccounts: [],
      regions: ['us-east-1'],
      severityThreshold: 4,
      findingTypes: { allow: [], deny: [] },
      exemptions: { accounts: [], instanceIds: [], autoScalingGroups: [] },
      settleSeconds: 15,
      tcpEstablishedTimeoutSeconds: 60,
      revokeSessions: 'auto',
      objectLock: { mode: 'GOVERNANCE', retentionDays: 90 },
      breakGlassRoleArn: undefined,
      protectedRoles: [...DEFAULT_PROTECTED_ROLES],
      evidenceKeyArns: {},
      snapshotMaxHours: 24,
      notificationEmails: [],
      logRetentionDays: 365,
      approval: { requiredForTags: [], requiredFor: { accounts: [], instanceIds: [] }, timeoutSeconds: 1800, onTimeout: 'approve' },
      api: { enabled: true, allowedPrincipals: [], throttling: { rateLimit: 10, burstLimit: 20 }, executionLogging: false },
      securityHubAction: true,
    });
  });

  it('rejects an evidence key named by alias: member policies must name it by ARN', () => {
    expect(() => parseConfig({ evidenceKeyArn: 'alias/cordon-evidence' })).toThrow(/evidenceKeyArn: must be a KMS key ARN/);
  });

  it('takes the hub account and region from CDK_DEFAULT_* in single-account mode', () => {
    const config = parseConfig({}, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' });

    expect(config.hubAccount).toBe('123456789012');
    expect(config.regions).toEqual(['eu-west-1']);
  });

  it('never takes the hub account from CDK_DEFAULT_ACCOUNT in multi-account mode', () => {
    // The deploying account is the member when a member stack is deployed.
    expect(() =>
      parseConfig({ memberAccounts: ['222222222222'] }, { CDK_DEFAULT_ACCOUNT: '222222222222' }),
    ).toThrow(/^Invalid cordon config: hubAccount: is required when memberAccounts or organizationId is set/);
  });

  it('fills nested defaults field by field', () => {
    const config = parseConfig({ objectLock: { mode: 'COMPLIANCE' }, findingTypes: { deny: ['Recon:EC2/'] } }, NO_ENV);

    expect(config.objectLock).toEqual({ mode: 'COMPLIANCE', retentionDays: 90 });
    expect(config.findingTypes).toEqual({ allow: [], deny: ['Recon:EC2/'] });
  });

  it('holds the same values in cdk.json as the built-in defaults', () => {
    expect(parseConfig(cdkJsonContext().cordon, NO_ENV)).toEqual(parseConfig(undefined, NO_ENV));
  });

  it('accepts the block as a JSON string (cdk -c cordon=…)', () => {
    expect(parseConfig('{"severityThreshold":7}', NO_ENV).severityThreshold).toBe(7);
  });

  it('takes the approval gate with its defaults filled in', () => {
    const config = parseConfig({ approval: { requiredForTags: [{ key: 'env', value: 'production' }] } }, NO_ENV);

    expect(config.approval).toEqual({
      requiredForTags: [{ key: 'env', value: 'production' }],
      requiredFor: { accounts: [], instanceIds: [] },
      timeoutSeconds: 1800,
      onTimeout: 'approve',
    });
    expect(
      parseConfig({ approval: { requiredFor: { accounts: ['111111111111'] }, timeoutSeconds: 600, onTimeout: 'deny' } }, NO_ENV).approval,
    ).toEqual({
      requiredForTags: [],
      requiredFor: { accounts: ['111111111111'], instanceIds: [] },
      timeoutSeconds: 600,
      onTimeout: 'deny',
    });
  });

  it('takes exemptions from hub configuration, field by field', () => {
    const config = parseConfig(
      { exemptions: { instanceIds: ['i-0123456789abcdef0'], autoScalingGroups: ['111111111111/build-runners'] } },
      NO_ENV,
    );

    expect(config.exemptions).toEqual({ accounts: [], instanceIds: ['i-0123456789abcdef0'], autoScalingGroups: ['111111111111/build-runners'] });
  });

  it('refuses the legacy exemptionTag, saying exemptions moved to `exemptions` and why', () => {
    const legacy = () => parseConfig({ exemptionTag: { key: 'cordon:exempt', value: 'true' } }, NO_ENV);

    expect(legacy).toThrow(/^Invalid cordon config: exemptionTag: is no longer supported: exemptions moved to `exemptions`/);
    expect(legacy).toThrow('an instance tag is writable by the member account, including by whoever compromised the instance');
    // Synth reads the configuration through loadConfig: the same refusal.
    const app = new App({ context: { cordon: { exemptionTag: { key: 'cordon:exempt', value: 'true' } } } });
    expect(() => loadConfig(app, NO_ENV)).toThrow('exemptionTag: is no longer supported: exemptions moved to `exemptions`');
  });

  it('fills the api block field by field, and keeps named principals', () => {
    const soar = 'arn:aws:iam::444455556666:role/integrations/SoarPlatform';
    const config = parseConfig({ api: { allowedPrincipals: [soar], throttling: { burstLimit: 50 } } }, NO_ENV);

    expect(config.api).toEqual({
      enabled: true,
      allowedPrincipals: [soar],
      throttling: { rateLimit: 10, burstLimit: 50 },
      executionLogging: false,
    });
    expect(parseConfig({ api: { enabled: false }, securityHubAction: false }, NO_ENV)).toMatchObject({
      api: { enabled: false },
      securityHubAction: false,
    });
  });

  it('keeps the hub out of memberAccounts', () => {
    const config = parseConfig({ hubAccount: '111111111111', memberAccounts: ['111111111111', '222222222222'] }, NO_ENV);

    expect(config.memberAccounts).toEqual(['222222222222']);
  });
});

describe('parseConfig rejects bad fields, naming the field', () => {
  it.each([
    [{ memberAccounts: ['12345'] }, 'memberAccounts.0: must be a 12-digit AWS account id'],
    [{ hubAccount: 'abc' }, 'hubAccount: must be a 12-digit AWS account id'],
    [{ organizationId: 'org-1' }, 'organizationId: must be an AWS Organizations id'],
    [{ regions: ['us-east-1', 'mars-1'] }, 'regions.1: must be an AWS region'],
    [{ regions: [] }, 'regions: must name at least one region'],
    [{ severityThreshold: 9 }, 'severityThreshold: must be at most 8.9'],
    [{ severityThreshold: 0.5 }, 'severityThreshold: must be at least 1'],
    [{ settleSeconds: 301 }, 'settleSeconds:'],
    [{ tcpEstablishedTimeoutSeconds: 30 }, 'tcpEstablishedTimeoutSeconds:'],
    [{ revokeSessions: 'sometimes' }, 'revokeSessions:'],
    [{ objectLock: { mode: 'LEGAL' } }, 'objectLock.mode:'],
    [{ objectLock: { retentionDays: 0 } }, 'objectLock.retentionDays:'],
    [{ breakGlassRoleArn: 'arn:aws:iam::123456789012:user/alice' }, 'breakGlassRoleArn: must be an IAM role ARN'],
    [{ protectedRoles: ['*'] }, 'protectedRoles.0: must name something besides wildcards'],
    [{ protectedRoles: ['arn:aws:iam::123456789012:role/Admin'] }, 'protectedRoles.0: must be an IAM role name'],
    [{ protectedRoles: ['Admin', 'Admin'] }, 'protectedRoles: must not repeat a pattern'],
    [{ notificationEmails: ['not-an-email'] }, 'notificationEmails.0: must be an email address'],
    [{ logRetentionDays: 100 }, 'logRetentionDays: must be one of the CloudWatch Logs retention periods'],
    [{ findingTypes: { allow: ['Recon:EC2/Portscan'], deny: ['Recon:EC2/Portscan'] } }, 'findingTypes: allow and deny both name'],
    [{ memberAcounts: ['111111111111'] }, 'memberAcounts'],
    [{ approval: { timeoutSeconds: 30 } }, 'approval.timeoutSeconds: must be at least 60'],
    [{ approval: { timeoutSeconds: 86401 } }, 'approval.timeoutSeconds: must be at most 86400'],
    [{ approval: { timeoutSeconds: 90.5 } }, 'approval.timeoutSeconds: must be a whole number'],
    [{ approval: { onTimeout: 'ask-again' } }, 'approval.onTimeout:'],
    [{ approval: { requiredForTags: [{ key: '', value: 'production' }] } }, 'approval.requiredForTags.0.key: must not be empty'],
    [{ approval: { requiredForTags: [{ key: 'env' }] } }, 'approval.requiredForTags.0.value:'],
    [{ approval: { requiredForTags: [{ key: 'env', value: 'prod', match: 'prefix' }] } }, 'approval.requiredForTags.0'],
    [{ approval: { requiredForTags: [{ key: 'env', value: 'prod' }, { key: 'env', value: 'prod' }] } }, 'approval.requiredForTags: must not repeat a tag'],
    [{ approval: { requiredForTags: [{ key: 'env', value: 'prod' }], timeout: 600 } }, 'approval'],
    [
      { approval: { requiredForTags: [{ key: 'env', value: 'prod' }], onTimeout: 'deny' } },
      'approval.onTimeout: "deny" applies only to gates selected by approval.requiredFor (hub configuration), and none is set',
    ],
    [{ approval: { requiredFor: { accounts: ['1234'] } } }, 'approval.requiredFor.accounts.0: must be a 12-digit AWS account id'],
    [{ approval: { requiredFor: { instanceIds: ['web-1'] } } }, 'approval.requiredFor.instanceIds.0: must be an EC2 instance id'],
    [{ approval: { requiredFor: { tags: [] } } }, 'approval.requiredFor'],
    [{ exemptions: { accounts: ['12345'] } }, 'exemptions.accounts.0: must be a 12-digit AWS account id'],
    [{ exemptions: { accounts: ['111111111111', '111111111111'] } }, 'exemptions.accounts: must not repeat an account'],
    [{ exemptions: { instanceIds: ['i-xyz'] } }, 'exemptions.instanceIds.0: must be an EC2 instance id'],
    [
      { exemptions: { autoScalingGroups: ['build-runners'] } },
      'exemptions.autoScalingGroups.0: must be <accountId>/<groupName> (123456789012/web-asg): Auto Scaling group names are unique only within an account',
    ],
    [{ exemptions: { autoScalingGroups: ['111111111111/'] } }, 'exemptions.autoScalingGroups.0: must be <accountId>/<groupName>'],
    [{ exemptions: { tags: [{ key: 'cordon:exempt', value: 'true' }] } }, 'exemptions'],
    [{ exemptionTag: { key: 'ir:skip', value: 'yes' } }, 'exemptionTag: is no longer supported: exemptions moved to `exemptions`'],
    [{ api: { allowedPrincipals: ['arn:aws:iam::123456789012:root'] } }, 'api.allowedPrincipals.0: must be an IAM role or user ARN'],
    [{ api: { allowedPrincipals: ['arn:aws:sts::123456789012:assumed-role/Soar/s1'] } }, 'api.allowedPrincipals.0: must be an IAM role or user ARN'],
    [
      { api: { allowedPrincipals: ['arn:aws:iam::123456789012:role/Soar', 'arn:aws:iam::123456789012:role/Soar'] } },
      'api.allowedPrincipals: must not repeat a principal',
    ],
    [{ api: { throttling: { rateLimit: 0 } } }, 'api.throttling.rateLimit: must be at least 1'],
    [{ api: { throttling: { burstLimit: 2.5 } } }, 'api.throttling.burstLimit: must be a whole number'],
    [{ api: { throttling: { rateLimit: 50, burstLimit: 20 } } }, 'api.throttling.burstLimit: is below rateLimit (50)'],
    [{ api: { enabled: 'yes' } }, 'api.enabled:'],
    [{ api: { allowedPrincipal: [] } }, 'allowedPrincipal'],
    [{ securityHubAction: 'true' }, 'securityHubAction:'],
  ])('%j', (raw, expected) => {
    expect(() => parseConfig(raw, NO_ENV)).toThrow(`Invalid cordon config: `);
    expect(() => parseConfig(raw, NO_ENV)).toThrow(expected);
  });

  it('rejects a string that is not JSON', () => {
    expect(() => parseConfig('{severity', NO_ENV)).toThrow(/^Invalid cordon config: \(root\): must be a JSON object/);
  });

  it('exports the schema it validates with', () => {
    expect(CordonConfigSchema.safeParse({ severityThreshold: 4 }).success).toBe(true);
  });
});

describe('loadConfig', () => {
  it('parses the context once per app', () => {
    // Prepare
    const app = new App({ context: { cordon: { severityThreshold: 6 } } });
    const spy = jest.spyOn(app.node, 'tryGetContext');

    // Act
    const first = loadConfig(app, NO_ENV);
    const second = loadConfig(app.node, NO_ENV);

    // Assess
    expect(second).toBe(first);
    expect(first.severityThreshold).toBe(6);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('throws when the context is invalid', () => {
    const app = new App({ context: { cordon: { memberAccounts: ['1'] } } });

    expect(() => loadConfig(app, NO_ENV)).toThrow('Invalid cordon config: memberAccounts.0: must be a 12-digit AWS account id');
  });

  it('is the only reader of context in lib/ and bin/app.ts', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = path.join(dir, f);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
      });
    const readers = [...files(path.join(ROOT, 'lib')), path.join(ROOT, 'bin', 'app.ts')].filter((f) =>
      /tryGetContext|getContext\(/.test(readFileSync(f, 'utf8')),
    );

    expect(readers.map((f) => path.relative(ROOT, f))).toEqual(['lib/config.ts']);
  });
});

describe('evidenceKeyArn', () => {
  const key = (region: string, account = '999988887777') => `arn:aws:kms:${region}:${account}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`;

  it('takes one ARN for one hub region, and a map for several', () => {
    expect(parseConfig({ hubAccount: '999988887777', memberAccounts: ['111122223333'], regions: ['us-east-1'], evidenceKeyArn: key('us-east-1') }).evidenceKeyArns).toEqual({
      'us-east-1': key('us-east-1'),
    });
    const map = { 'us-east-1': key('us-east-1'), 'eu-west-1': key('eu-west-1') };
    expect(parseConfig({ hubAccount: '999988887777', memberAccounts: ['111122223333'], regions: ['us-east-1', 'eu-west-1'], evidenceKeyArn: map }).evidenceKeyArns).toEqual(map);
  });

  it('refuses one ARN for several regions, a key outside its region or the hub account, naming the field', () => {
    const base = { hubAccount: '999988887777', memberAccounts: ['111122223333'] };
    expect(() => parseConfig({ ...base, regions: ['us-east-1', 'eu-west-1'], evidenceKeyArn: key('us-east-1') })).toThrow(/evidenceKeyArn: one ARN can't serve 2 hub regions/);
    expect(() => parseConfig({ ...base, regions: ['us-east-1'], evidenceKeyArn: { 'us-east-1': key('eu-west-1') } })).toThrow(/evidenceKeyArn: .* is not in us-east-1/);
    expect(() => parseConfig({ ...base, regions: ['us-east-1'], evidenceKeyArn: key('us-east-1', '123456789012') })).toThrow(/evidenceKeyArn: .* is not in the hub account 999988887777/);
  });
});
