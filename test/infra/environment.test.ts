/**
 * lib/environment.ts builds each function's environment; each handler parses it with its own schema
 * (lambdas/<name>/env.ts). Every function's built environment must parse, to the settings it came from.
 */
import { parseConfig } from '../../lib/config';
import { ENV_SCHEMAS, environmentFor, type HubSettings } from '../../lib/environment';
import { FUNCTIONS } from '../../lib/functions';
import { parseEnv } from '../../lambdas/shared/env';

const SETTINGS: HubSettings = {
  config: parseConfig(
    {
      settleSeconds: 5,
      exemptions: { accounts: ['222222222222'], autoScalingGroups: ['333333333333/build-runners'] },
      approval: { requiredForTags: [{ key: 'env', value: 'prod' }], requiredFor: { instanceIds: ['i-0123456789abcdef0'] }, timeoutSeconds: 600, onTimeout: 'deny' },
    },
    {},
  ),
  partition: 'aws',
  hubAccountId: '111111111111',
  ledgerTable: 'cordon-ledger',
  evidenceBucket: 'cordon-evidence',
  evidenceBucketArn: 'arn:aws:s3:::cordon-evidence',
  evidenceKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/0b3f0c1e-0000-4000-8000-000000000001',
  topicArn: 'arn:aws:sns:us-east-1:111111111111:cordon',
  responseStateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:cordon-response',
  releaseStateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:cordon-release',
  intakePolicy: { severityThreshold: 5, allowedAccounts: ['111111111111'], allowedRegions: ['us-east-1'] },
};

describe('environmentFor', () => {
  it.each(FUNCTIONS.map((f) => f.name))('builds an environment the %s handler accepts', (name) => {
    const env = environmentFor(name, SETTINGS);
    expect(Object.values(env).every((v) => typeof v === 'string' && v !== '')).toBe(true);
    expect(() => parseEnv(ENV_SCHEMAS[name], env)).not.toThrow();
  });

  it('carries the configuration to capture-state, the exemptions and the approval gate included', () => {
    expect(parseEnv(ENV_SCHEMAS['capture-state'], environmentFor('capture-state', SETTINGS))).toEqual({
      access: { partition: 'aws', responderRoleName: 'CordonResponder' },
      config: {
        ledgerTable: 'cordon-ledger',
        evidenceBucket: 'cordon-evidence',
        exemptions: { accounts: ['222222222222'], instanceIds: [], autoScalingGroups: ['333333333333/build-runners'] },
        settleSeconds: 5,
        partition: 'aws',
        approval: {
          requiredForTags: [{ key: 'env', value: 'prod' }],
          requiredFor: { accounts: [], instanceIds: ['i-0123456789abcdef0'] },
          timeoutSeconds: 600,
          onTimeout: 'deny',
        },
      },
    });
  });

  it('gives share-snapshot the hub account and key, and intake its policy and bucket', () => {
    expect(parseEnv(ENV_SCHEMAS['share-snapshot'], environmentFor('share-snapshot', SETTINGS)).config).toEqual({
      hubAccountId: '111111111111',
      evidenceKeyArn: SETTINGS.evidenceKeyArn,
      maxHours: 24,
      pollSeconds: 60,
    });
    expect(parseEnv(ENV_SCHEMAS.intake, environmentFor('intake', SETTINGS))).toEqual({
      stateMachineArn: SETTINGS.responseStateMachineArn,
      policy: { severityThreshold: 5, allowTypes: [], denyTypes: [], allowedAccounts: ['111111111111'], allowedRegions: ['us-east-1'] },
      evidenceBucket: 'cordon-evidence',
    });
  });

  it('writes JSON variables with the given encoder (CDK passes Stack.toJsonString)', () => {
    const env = environmentFor('api', { ...SETTINGS, toJson: () => '{"severityThreshold":7}' });
    expect(env.INTAKE_POLICY).toBe('{"severityThreshold":7}');
  });
});

describe('parseEnv', () => {
  it('names each missing, empty, malformed or invalid variable', () => {
    const env = environmentFor('capture-state', SETTINGS);
    expect(() => parseEnv(ENV_SCHEMAS['capture-state'], { ...env, LEDGER_TABLE: '' })).toThrow('Environment variable LEDGER_TABLE is not set');
    expect(() => parseEnv(ENV_SCHEMAS['capture-state'], { ...env, SETTLE_SECONDS: 'soon' })).toThrow(
      'Environment variable SETTLE_SECONDS is invalid: must be a whole number',
    );
    expect(() => parseEnv(ENV_SCHEMAS['capture-state'], { ...env, APPROVAL_REQUIRED_FOR_TAGS: '[' })).toThrow(
      'Environment variable APPROVAL_REQUIRED_FOR_TAGS is not valid JSON',
    );
    expect(() => parseEnv(ENV_SCHEMAS['capture-state'], { ...env, APPROVAL_TIMEOUT_SECONDS: undefined })).toThrow(
      'Environment variable APPROVAL_TIMEOUT_SECONDS is not set',
    );
    expect(() => parseEnv(ENV_SCHEMAS['share-snapshot'], { ...environmentFor('share-snapshot', SETTINGS), HUB_ACCOUNT_ID: 'hub' })).toThrow(
      'Environment variable HUB_ACCOUNT_ID is invalid: must be a 12-digit AWS account id',
    );
  });
});
