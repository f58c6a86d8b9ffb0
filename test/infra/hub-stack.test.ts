import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { EvidenceStore } from '../../lib/constructs/evidence-store';
import { OVERRIDE_ONLY, declaredVariables } from '../../lib/environment';
import { FUNCTIONS, actsInMemberAccounts, functionsOf, hubRoleName } from '../../lib/functions';
import { asArray, cdkJsonContext, flatten, iamStatements, synth, type Statement, type Synthesized } from './synth';

const REGION = 'us-east-1';

let app: Synthesized;
let template: Template;
/** Logical ids of the functions, by FUNCTIONS name. */
let functionIds: Record<string, string>;

beforeAll(() => {
  app = synth();
  template = app.hubTemplate;
  functionIds = {};
  for (const [name, fn] of Object.entries(app.hubs[0]!.functions)) functionIds[name] = app.hubs[0]!.getLogicalId(fn.node.defaultChild as never);
  functionIds.intake = app.hubs[0]!.getLogicalId(app.hubs[0]!.intake.function.node.defaultChild as never);
  const api = app.hubs[0]!.api;
  if (api) functionIds.api = app.hubs[0]!.getLogicalId(api.function.node.defaultChild as never);
});

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

function only(type: string, props?: Record<string, unknown>): [string, Resource] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined));
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

describe('GuardDuty intake rule', () => {
  it('matches EC2 findings at or above the threshold, and credential exfiltration via AccessKey', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectEquals({
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Finding'],
        detail: {
          severity: [{ numeric: ['>=', 4] }],
          $or: [
            { resource: { resourceType: ['Instance'] } },
            {
              resource: { resourceType: ['AccessKey'] },
              type: [{ prefix: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration' }],
            },
          ],
        },
      }),
    });
  });

  it('targets intake with a dead-letter queue and bounded retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionIds.intake, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IntakeDeadLetterQueue'), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 20 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('passes the decision policy to intake', () => {
    const [, fn] = only('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ INTAKE_POLICY: Match.anyValue(), STATE_MACHINE_ARN: Match.anyValue() }) } });
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const policy = JSON.parse(flatten(vars.INTAKE_POLICY)) as Record<string, unknown>;

    expect(policy).toEqual({
      severityThreshold: 4,
      allowTypes: [],
      denyTypes: [],
      allowedAccounts: ['<AWS::AccountId>'],
      allowedRegions: [REGION],
    });
    expect(vars.STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId() });
  });
});

/** The response state machine (the release workflow's is tested in release.test.ts). */
function responseStateMachine(): [string, Resource] {
  const found = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) => id.startsWith('ResponseWorkflowStateMachine'));
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

function stateMachineId(): string {
  return responseStateMachine()[0];
}

describe('response workflow', () => {
  it('logs everything to /aws/vendedlogs/states/ and traces with X-Ray', () => {
    const logGroup = new Capture();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroup, 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    expect(template.toJSON().Resources[logGroup.asString()].Properties).toEqual({
      LogGroupName: `/aws/vendedlogs/states/cordon-response-${REGION}`,
      RetentionInDays: 365,
    });
  });

  it('alarms to the incident topic on failed, timed-out and throttled executions', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^EvidenceStoreTopic') }],
      });
    }
  });

  it('names a responder function in every Task (the definition itself is loose here: its authors own it)', () => {
    // Prepare: the definition is a file asset, substituted by CloudFormation at deploy time.
    const [, sm] = responseStateMachine();
    const key = (sm.Properties.DefinitionS3Location as { Key: string }).Key;
    const definition = JSON.parse(readFileSync(path.join(app.assembly.directory, `asset.${key}`), 'utf8')) as AslMachine;
    const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;
    const functionArns = new Set(Object.values(functionIds).map((id) => `<${id}.Arn>`));

    // Act
    const tasks = taskStates(definition);
    const resolved = tasks.map(({ name, state }) => {
      const integration = /^arn:(aws|\$\{Partition\}):states:::lambda:invoke(\.waitForTaskToken)?$/.test(String(state.Resource));
      const ref = integration ? state.Parameters?.FunctionName : state.Resource;
      const placeholder = /^\$\{(\w+)\}$/.exec(String(ref))?.[1];
      return { name, arn: placeholder ? flatten(substitutions[placeholder]) : String(ref) };
    });

    // Assess
    expect(definition.StartAt in definition.States).toBe(true);
    expect(tasks.length).toBeGreaterThan(0);
    for (const { name, arn } of resolved) {
      expect({ name, isCordonFunction: functionArns.has(arn) }).toEqual({ name, isCordonFunction: true });
    }
    expect(new Set(resolved.map((r) => r.arn)).has(`<${functionIds.intake}.Arn>`)).toBe(false);
  });

  it('may invoke exactly the responder functions it names, unqualified', () => {
    const invokes = iamStatements(template).filter(
      ({ owner, statement }) => owner.startsWith('ResponseWorkflowStateMachineRole') && asArray(statement.Action).includes('lambda:InvokeFunction'),
    );
    expect(invokes).toHaveLength(1);
    const resources = asArray(invokes[0]!.statement.Resource).map(flatten).sort();
    const expected = functionsOf('response').map((r) => `<${functionIds[r.name]}.Arn>`).sort();
    expect(resources).toEqual(expected);
  });
});

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Branches?: AslMachine[];
  Iterator?: AslMachine;
  ItemProcessor?: AslMachine;
}
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

function taskStates(machine: AslMachine): { name: string; state: AslState }[] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [{ name, state }] : []),
    ...(state.Branches ?? []).flatMap(taskStates),
    ...[state.Iterator, state.ItemProcessor].filter((m): m is AslMachine => m !== undefined).flatMap(taskStates),
  ]);
}

describe('evidence store', () => {
  it('keeps evidence in a versioned, Object-Locked, KMS-encrypted, private bucket', () => {
    const accessLogs = new Capture();
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } } },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceStoreKey'), 'Arn'] },
              },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: accessLogs } },
      },
    });
    // Server access logs go to a separate bucket, never to the evidence bucket itself.
    const target = template.toJSON().Resources[accessLogs.asString()] as Resource;
    expect(target.Properties.ObjectLockEnabled).toBeUndefined();
    expect(target.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('rotates the evidence key and retains it', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
  });

  it('denies evidence deletion to everyone when no break-glass role is configured', () => {
    const deny = bucketPolicyStatement(template, 'DenyEvidenceDeletion');
    expect(deny).toEqual({
      Sid: 'DenyEvidenceDeletion',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
      Resource: expect.anything(),
    });
    expect(flatten(deny.Resource)).toMatch(/^<EvidenceStoreBucket\w+\.Arn>\/\*$/);
  });

  it('requires TLS on the evidence bucket', () => {
    const statements = bucketPolicy(template);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('admits flow-log delivery from the hub account only, under flow-logs/', () => {
    const write = bucketPolicyStatement(template, 'AWSLogDeliveryWrite');
    expect(write.Principal).toEqual({ Service: 'delivery.logs.amazonaws.com' });
    expect(write.Action).toBe('s3:PutObject');
    expect(asArray(write.Resource).map(flatten)).toEqual([
      expect.stringMatching(/^<EvidenceStoreBucket\w+\.Arn>\/flow-logs\/AWSLogs\/<AWS::AccountId>\/\*$/),
    ]);
    expect(write.Condition?.StringEquals).toEqual({
      'aws:SourceAccount': [{ Ref: 'AWS::AccountId' }],
      's3:x-amz-acl': 'bucket-owner-full-control',
    });
    const check = bucketPolicyStatement(template, 'AWSLogDeliveryAclCheck');
    expect(check.Action).toEqual(['s3:GetBucketAcl', 's3:ListBucket']);
    expect(check.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': [{ Ref: 'AWS::AccountId' }] });
  });

  it('lets log delivery and CloudWatch alarms use the key, for the source account only', () => {
    const [, key] = only('AWS::KMS::Key');
    const statements = (key.Properties.KeyPolicy as { Statement: { Sid?: string; Condition?: unknown; Action: unknown }[] })
      .Statement;
    expect(statements.find((s) => s.Sid === 'AllowFlowLogDeliveryToUseTheKey')).toMatchObject({
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: expect.arrayContaining(['kms:GenerateDataKey*', 'kms:Decrypt']),
      Condition: { StringEquals: { 'aws:SourceAccount': [{ Ref: 'AWS::AccountId' }] } },
    });
    expect(statements.find((s) => s.Sid === 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic')).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it('keeps the ledger with PITR, encrypted with the evidence key', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceStoreKey'), 'Arn'] },
        },
      },
    });
  });

  it('encrypts the topic with the evidence key', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceStoreKey'), 'Arn'] },
    });
  });

  it('lets only the break-glass role delete evidence when one is configured', () => {
    // Prepare: the construct alone, in a bare stack (no functions to build).
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Store');
    new EvidenceStore(stack, 'EvidenceStore', {
      sourceAccounts: ['111111111111'],
      breakGlassRoleArn: 'arn:aws:iam::111111111111:role/BreakGlass',
    });

    // Act
    const deny = bucketPolicyStatement(Template.fromStack(stack), 'DenyEvidenceDeletion');

    // Assess
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/BreakGlass' } });
  });

  it('refuses to build without any flow-log source', () => {
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Store');
    expect(() => new EvidenceStore(stack, 'EvidenceStore', { sourceAccounts: [] })).toThrow(/no organizationId is set/);
  });
});

function bucketPolicy(t: Template): Statement[] {
  const policies = Object.values(
    t.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: Match.stringLikeRegexp('^EvidenceStoreBucket') } } }),
  ) as Resource[];
  expect(policies).toHaveLength(1);
  return (policies[0]!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

function bucketPolicyStatement(t: Template, sid: string): Statement {
  const found = bucketPolicy(t).filter((s) => s.Sid === sid);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('cordon functions', () => {
  it('are Node.js 22 on arm64 with active tracing, a retained log group and a bounded timeout', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions).sort()).toEqual(Object.values(functionIds).sort());
    for (const fn of Object.values(functions) as Resource[]) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: 256,
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: 'cordon',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
      expect(fn.Properties.Timeout).toBeLessThanOrEqual(300);
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const logGroup = template.toJSON().Resources[logGroupId] as Resource;
      expect(logGroup.DeletionPolicy).toBe('Retain');
      expect(logGroup.Properties.RetentionInDays).toBe(365);
    }
  });

  it('each run under a role with the fixed name the member stacks trust, and no managed policies', () => {
    for (const spec of FUNCTIONS) {
      template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: hubRoleName(spec.name, REGION),
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
        ManagedPolicyArns: Match.absent(),
      });
    }
  });

  it('get exactly the variables their environment schema declares (lambdas/<name>/env.ts), besides the common ones', () => {
    const common = ['NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
    for (const spec of FUNCTIONS) {
      const fn = template.toJSON().Resources[functionIds[spec.name]!] as Resource;
      const vars = Object.keys((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables);
      const declared = declaredVariables(spec.name).filter((v) => !(OVERRIDE_ONLY as readonly string[]).includes(v));
      expect({ function: spec.name, variables: vars.filter((v) => !common.includes(v)).sort() }).toEqual({
        function: spec.name,
        variables: declared.sort(),
      });
      expect(vars.filter((v) => common.includes(v)).sort()).toEqual(common);
    }
  });

  it('assume CordonResponder in the hub account when they act in member accounts, and nothing else does', () => {
    const assumes = iamStatements(template).filter(({ statement }) => asArray(statement.Action).includes('sts:AssumeRole'));
    const owners = assumes.map(({ owner }) => owner).sort();
    const expected = FUNCTIONS.filter(actsInMemberAccounts)
      .map((r) => app.hubs[0]!.getLogicalId(app.hubs[0]!.functions[r.name]!.executionRole.node.findChild('DefaultPolicy').node.defaultChild as never))
      .sort();
    expect(owners).toEqual(expected);
    for (const { statement } of assumes) {
      expect(asArray(statement.Resource).map(flatten)).toEqual(['arn:<AWS::Partition>:iam::<AWS::AccountId>:role/CordonResponder']);
    }
  });
});

describe('hub IAM', () => {
  it('lets intake start the response workflow, the API start responses and releases, and nobody else start anything', () => {
    const starts = iamStatements(template)
      .filter(({ statement }) => asArray(statement.Action).some((a) => a === 'states:StartExecution' || a === 'states:*' || a === '*'))
      .map(({ owner, statement }) => [owner.replace(/[0-9A-F]{8}$/, ''), statement.Action, statement.Resource]);
    const release = Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).find((id) => id.startsWith('ReleaseWorkflow'));
    expect(starts).toEqual(
      expect.arrayContaining([
        ['IntakeFunctionRoleDefaultPolicy', 'states:StartExecution', { Ref: stateMachineId() }],
        ['ApiFunctionRoleDefaultPolicy', 'states:StartExecution', { Ref: stateMachineId() }],
        ['ApiFunctionRoleDefaultPolicy', 'states:StartExecution', { Ref: release }],
      ]),
    );
    expect(starts).toHaveLength(3);
  });

  it('lets the API decide approvals (SendTaskSuccess on the response workflow), and no other hub role answer any task', () => {
    expect(app.hubs[0]!.api).toBeDefined();
    const answers = iamStatements(template)
      .filter(({ statement }) => asArray(statement.Action).some((a) => /^states:SendTask/.test(a) || a === 'states:*'))
      .map(({ owner, statement }) => [owner.replace(/[0-9A-F]{8}$/, ''), statement.Action, statement.Resource]);
    expect(answers).toEqual([['ApiFunctionRoleDefaultPolicy', 'states:SendTaskSuccess', { Ref: stateMachineId() }]]);

    // The rest of grantDecide: the approval write on the ledger table (no index), the lookup on byResponseId.
    const api = iamStatements(template).filter(({ owner }) => owner.startsWith('ApiFunctionRoleDefaultPolicy'));
    const ledger = app.hubs[0]!.getLogicalId(app.hubs[0]!.evidence.ledger.node.defaultChild as never);
    const writes = api.filter(({ statement }) => asArray(statement.Action).some((a) => /^dynamodb:(Update|Put|Delete|BatchWrite)/.test(a)));
    expect(writes.map(({ statement }) => [asArray(statement.Action).sort(), asArray(statement.Resource).map(flatten)])).toEqual([
      [['dynamodb:GetItem', 'dynamodb:UpdateItem'], [`<${ledger}.Arn>`]],
    ]);
  });

  it('grants no EC2 action and no IAM write anywhere in the hub', () => {
    const offending = iamStatements(template)
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ owner, statement }) =>
        asArray(statement.Action)
          .filter((a) => a === '*' || /^ec2:/.test(a) || /^iam:(Put|Attach|Create|Update|Delete|Pass)/.test(a) || a === 'iam:*')
          .map((a) => `${owner}: ${a}`),
      );
    expect(offending).toEqual([]);
  });

  it('uses Resource "*" only where AWS offers no resource-level permission (X-Ray, Step Functions log delivery)', () => {
    const unscoped = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const wide = iamStatements(template)
      .filter(({ statement }) => statement.Effect === 'Allow' && asArray(statement.Resource).includes('*'))
      .flatMap(({ owner, statement }) => asArray(statement.Action).filter((a) => !unscoped.has(a)).map((a) => `${owner}: ${a}`));
    expect(wide).toEqual([]);
  });

  it('writes evidence under incidents/ only', () => {
    const puts = iamStatements(template).filter(({ statement }) => asArray(statement.Action).includes('s3:PutObject'));
    expect(puts.map(({ owner }) => owner.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'CaptureStateRoleDefaultPolicy',
      'CollectEvidenceRoleDefaultPolicy',
      'IntakeFunctionRoleDefaultPolicy',
      'RecordRoleDefaultPolicy',
      'ReleaseRecordRoleDefaultPolicy',
    ]);
    for (const { statement } of puts) {
      expect(asArray(statement.Resource).map(flatten)).toEqual([expect.stringMatching(/^<EvidenceStoreBucket\w+\.Arn>\/incidents\/\*$/)]);
    }
  });

  it('exports the state machine, bucket and topic', () => {
    template.hasOutput('ResponseStateMachineArn', { Value: { Ref: stateMachineId() } });
    template.hasOutput('EvidenceBucketName', { Value: { Ref: Match.stringLikeRegexp('^EvidenceStoreBucket') } });
    template.hasOutput('TopicArn', { Value: { Ref: Match.stringLikeRegexp('^EvidenceStoreTopic') } });
  });
});

describe('multi-account hub', () => {
  let multi: Template;
  let org: Template;
  beforeAll(() => {
    multi = synth({
      cordon: { hubAccount: '111111111111', memberAccounts: ['222222222222', '333333333333'], regions: ['eu-west-1'] },
    }).hubTemplate;
    org = synth({ cordon: { hubAccount: '111111111111', organizationId: 'o-abcdefghij', regions: ['eu-west-1'] } }).hubTemplate;
  });

  it('assumes CordonResponder in the hub and in each member account, by exact ARN', () => {
    const assume = iamStatements(multi).find(({ statement }) => statement.Sid === 'AssumeCordonResponder');
    expect(asArray(assume?.statement.Resource).map(flatten)).toEqual([
      'arn:<AWS::Partition>:iam::111111111111:role/CordonResponder',
      'arn:<AWS::Partition>:iam::222222222222:role/CordonResponder',
      'arn:<AWS::Partition>:iam::333333333333:role/CordonResponder',
    ]);
    expect(assume?.statement.Condition).toBeUndefined();
  });

  it('lets member CordonResponder roles use the evidence key through EC2 for snapshot copies, without managing it', () => {
    const [, key] = Object.entries(multi.findResources('AWS::KMS::Key'))[0] as [string, Resource];
    const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const use = statements.find((st) => st.Sid === 'AllowMemberRespondersToReEncryptSnapshots');
    const grant = statements.find((st) => st.Sid === 'AllowMemberRespondersGrantsForEbs');

    expect(asArray((use?.Principal as { AWS: unknown }).AWS).map(flatten)).toEqual([
      'arn:<AWS::Partition>:iam::222222222222:root',
      'arn:<AWS::Partition>:iam::333333333333:root',
    ]);
    expect(use?.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*']);
    expect(flatten(use?.Condition?.ArnLike?.['aws:PrincipalArn'])).toBe('arn:<AWS::Partition>:iam::*:role/CordonResponder');
    expect(flatten(use?.Condition?.StringEquals?.['kms:ViaService'])).toBe('ec2.<AWS::Region>.amazonaws.com');
    expect(grant?.Action).toBe('kms:CreateGrant');
    expect(grant?.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
    multi.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/cordon-evidence' });
  });

  it('admits flow-log delivery from each listed account', () => {
    const write = bucketPolicyStatement(multi, 'AWSLogDeliveryWrite');
    expect(asArray(write.Resource).map(flatten)).toEqual(
      ['111111111111', '222222222222', '333333333333'].map((a) => expect.stringContaining(`/flow-logs/AWSLogs/${a}/*`)),
    );
    expect(write.Condition?.StringEquals?.['aws:SourceAccount']).toEqual(['111111111111', '222222222222', '333333333333']);
  });

  it('with only an organization, assumes CordonResponder anywhere in it (aws:ResourceOrgID) and admits delivery by aws:SourceOrgID', () => {
    const assume = iamStatements(org).find(({ statement }) => statement.Sid === 'AssumeCordonResponder');
    expect(asArray(assume?.statement.Resource).map(flatten)).toEqual(['arn:<AWS::Partition>:iam::*:role/CordonResponder']);
    expect(assume?.statement.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': 'o-abcdefghij' } });
    const write = bucketPolicyStatement(org, 'AWSLogDeliveryWrite');
    expect(write.Condition?.StringEquals).toEqual({ 'aws:SourceOrgID': 'o-abcdefghij', 's3:x-amz-acl': 'bucket-owner-full-control' });
    expect(asArray(write.Resource).map(flatten)).toEqual([expect.stringMatching(/\/flow-logs\/AWSLogs\/\*$/)]);
  });
});

describe('evidence key and evidence access (issue 3)', () => {
  const MEMBERS = ['222222222222', '333333333333'];
  /** The only key actions EBS documents for using a key in CopySnapshot. */
  const KEY_USE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'];
  const KEY_MANAGEMENT = /^kms:(\*|Put|Schedule|Disable|Enable|Create(Key|Alias)|Update|Delete|Cancel|Revoke|Retire|Tag|Untag|Import)/;

  let multiApp: Synthesized;
  let multi: Template;
  beforeAll(() => {
    multiApp = synth({ cordon: { hubAccount: '111111111111', memberAccounts: MEMBERS, regions: ['eu-west-1'], snapshotMaxHours: 72 } });
    multi = multiApp.hubTemplate;
  });

  const keyPolicy = (t: Template): Statement[] => {
    const keys = Object.values(t.findResources('AWS::KMS::Key')) as Resource[];
    expect(keys).toHaveLength(1);
    return (keys[0]!.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
  };
  /** Statements whose AWS principal is a member account, or anyone (organization mode). */
  const memberStatements = (statements: Statement[]): Statement[] =>
    statements.filter((s) => {
      const aws = (s.Principal as { AWS?: unknown } | undefined)?.AWS;
      if (aws === undefined) return false;
      const principals = asArray(aws).map(flatten);
      return principals.some((p) => p === '*' || MEMBERS.some((m) => p.includes(`:${m}:`)));
    });

  function assertUseOnly(statements: Statement[]): void {
    expect(statements.length).toBeGreaterThan(0);
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect([...new Set(actions)].sort()).toEqual([...KEY_USE, 'kms:CreateGrant'].sort());
    expect(actions.filter((a) => KEY_MANAGEMENT.test(a))).toEqual([]);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(flatten(s.Condition?.StringEquals?.['kms:ViaService'])).toBe('ec2.<AWS::Region>.amazonaws.com');
      expect(flatten(s.Condition?.ArnLike?.['aws:PrincipalArn'])).toBe('arn:<AWS::Partition>:iam::*:role/CordonResponder');
      if (asArray(s.Action).includes('kms:CreateGrant')) {
        expect(asArray(s.Action)).toEqual(['kms:CreateGrant']);
        expect(s.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
      } else {
        expect(s.Condition?.Bool).toBeUndefined();
      }
    }
  }

  it('lets member accounts only use the evidence key through EC2, never manage it', () => {
    // Act
    const statements = keyPolicy(multi);
    const members = memberStatements(statements);

    // Assess
    assertUseOnly(members);
    expect(members.flatMap((s) => asArray((s.Principal as { AWS: unknown }).AWS).map(flatten)).sort()).toEqual(
      [...MEMBERS, ...MEMBERS].map((a) => `arn:<AWS::Partition>:iam::${a}:root`).sort(),
    );
    // The full key policy: the hub itself, the two member statements, and two service principals
    const others = statements.filter((s) => !members.includes(s));
    for (const s of others) {
      const aws = (s.Principal as { AWS?: unknown }).AWS;
      if (aws !== undefined) expect(asArray(aws).map(flatten)).toEqual(['arn:<AWS::Partition>:iam::111111111111:root']);
      else expect(Object.keys(s.Principal as object)).toEqual(['Service']);
    }
  });

  it('in organization mode, admits anyone in the organization with the same use-only actions', () => {
    // Prepare: the construct alone, in a bare stack
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Store');
    new EvidenceStore(stack, 'EvidenceStore', { sourceAccounts: [], organizationId: 'o-abcdefghij' });

    // Act
    const members = memberStatements(keyPolicy(Template.fromStack(stack)));

    // Assess
    assertUseOnly(members);
    for (const s of members) {
      expect(s.Principal).toEqual({ AWS: '*' });
      expect(s.Condition?.StringEquals?.['aws:PrincipalOrgID']).toBe('o-abcdefghij');
    }
  });

  it('gives member accounts no key statement at all in single-account mode', () => {
    expect(memberStatements(keyPolicy(template))).toEqual([]);
  });

  it('lets the record functions (response and release) read incidents/ (the manifest rebuild), and no other function read evidence', () => {
    const reads = iamStatements(template).filter(({ statement }) =>
      asArray(statement.Action).some((a) => /^s3:(Get|List|\*)/.test(a) || a === '*'),
    );

    expect(reads.map(({ owner }) => owner.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['RecordRoleDefaultPolicy', 'ReleaseRecordRoleDefaultPolicy']);
    for (const { statement } of reads) {
      // HeadObject (GetObject) and ListObjectsV2 (ListBucket)
      expect(asArray(statement.Action)).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:List*']));
      expect(asArray(statement.Resource).map(flatten)).toEqual([
        expect.stringMatching(/^<EvidenceStoreBucket\w+\.Arn>$/),
        expect.stringMatching(/^<EvidenceStoreBucket\w+\.Arn>\/incidents\/\*$/),
      ]);
    }
  });

  it('lets intake write the finding under incidents/ only, and tells it the bucket', () => {
    const puts = iamStatements(template).filter(
      ({ owner, statement }) => owner.startsWith('IntakeFunctionRoleDefaultPolicy') && asArray(statement.Action).includes('s3:PutObject'),
    );
    const intake = template.toJSON().Resources[functionIds.intake!] as Resource;

    expect(puts).toHaveLength(1);
    expect(asArray(puts[0]!.statement.Resource).map(flatten)).toEqual([expect.stringMatching(/^<EvidenceStoreBucket\w+\.Arn>\/incidents\/\*$/)]);
    expect((intake.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVIDENCE_BUCKET).toEqual({
      Ref: expect.stringMatching(/^EvidenceStoreBucket/),
    });
  });

  it('passes cordon.snapshotMaxHours to snapshot and share-snapshot as SNAPSHOT_MAX_HOURS', () => {
    // Prepare
    const hub = multiApp.hubs[0]!;
    const envOf = (t: Template, logicalId: string): Record<string, unknown> =>
      ((t.toJSON().Resources[logicalId] as Resource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const idOf = (name: string): string => hub.getLogicalId(hub.functions[name]!.node.defaultChild as never);

    // Act
    const configured = ['snapshot', 'share-snapshot'].map((name) => envOf(multi, idOf(name)).SNAPSHOT_MAX_HOURS);
    const defaults = ['snapshot', 'share-snapshot'].map((name) => envOf(template, functionIds[name]!).SNAPSHOT_MAX_HOURS);

    // Assess
    expect(configured).toEqual(['72', '72']);
    expect(defaults).toEqual(['24', '24']);
    expect(envOf(multi, idOf('share-snapshot')).EVIDENCE_KEY_ARN).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EvidenceStoreKey/), 'Arn'] });
    expect(envOf(multi, idOf('share-snapshot')).HUB_ACCOUNT_ID).toBe('111111111111');
  });
});
