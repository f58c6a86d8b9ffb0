/**
 * The release workflow in the synthesized app (docs/design.md §3.5, issue 5): its state machine,
 * what its Lambdas may do in the hub, and what CordonResponder may do for it in member accounts.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/config';
import { CordonMemberStack } from '../../lib/member-stack';
import { functionsOf, hubRoleName } from '../../lib/functions';
import { asArray, flatten, iamStatements, synth, type Statement, type Synthesized } from './synth';

const REGION = 'us-east-1';

type Resource = { Type: string; Properties: Record<string, unknown> };
interface AslState {
  Type: string;
  Resource?: string;
  Retry?: Array<{ ErrorEquals: string[]; BackoffRate?: number; JitterStrategy?: string; MaxAttempts?: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  ItemProcessor?: { States: Record<string, AslState> };
  ErrorPath?: string;
  Error?: string;
  Next?: string;
}

let app: Synthesized;
let template: Template;
let stateMachineId: string;
let stateMachine: Resource;
let definition: { StartAt: string; States: Record<string, AslState> };
const functionId = (name: string): string => app.hubs[0]!.getLogicalId(app.hubs[0]!.functions[name]!.node.defaultChild as never);

beforeAll(() => {
  app = synth();
  template = app.hubTemplate;
  const machines = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) => id.startsWith('ReleaseWorkflowStateMachine'));
  expect(machines).toHaveLength(1);
  [stateMachineId, stateMachine] = machines[0] as [string, Resource];
  const key = (stateMachine.Properties.DefinitionS3Location as { Key: string }).Key;
  definition = JSON.parse(readFileSync(path.join(app.assembly.directory, `asset.${key}`), 'utf8'));
});

function states(all: Record<string, AslState>): Array<[string, AslState]> {
  return Object.entries(all).flatMap(([name, s]) => [[name, s] as [string, AslState], ...states(s.ItemProcessor?.States ?? {})]);
}

describe('release state machine', () => {
  it('is loaded from state-machines/release.asl.json with exactly the release functions substituted', () => {
    expect(readFileSync(path.join(__dirname, '..', '..', 'state-machines', 'release.asl.json'), 'utf8')).toBe(
      readFileSync(path.join(app.assembly.directory, `asset.${(stateMachine.Properties.DefinitionS3Location as { Key: string }).Key}`), 'utf8'),
    );
    const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.fromEntries(Object.entries(substitutions).map(([k, v]) => [k, flatten(v)]))).toEqual({
      ReleaseLoadFunctionArn: `<${functionId('release-load')}.Arn>`,
      ReleaseRestoreFunctionArn: `<${functionId('release-restore')}.Arn>`,
      ReleaseRecordFunctionArn: `<${functionId('release-record')}.Arn>`,
    });
  });

  it('logs everything to its own /aws/vendedlogs/states/ group, traces with X-Ray, and has a timeout', () => {
    const logs = stateMachine.Properties.LoggingConfiguration as { Level: string; IncludeExecutionData: boolean; Destinations: Array<{ CloudWatchLogsLogGroup: { LogGroupArn: unknown } }> };
    expect(logs.Level).toBe('ALL');
    expect(logs.IncludeExecutionData).toBe(true);
    const logGroupId = flatten(logs.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn).replace(/^<|\.Arn>$/g, '');
    expect((template.toJSON().Resources[logGroupId] as Resource).Properties).toEqual({ LogGroupName: `/aws/vendedlogs/states/cordon-release-${REGION}`, RetentionInDays: 365 });
    expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect((definition as { TimeoutSeconds?: number }).TimeoutSeconds).toBe(3600);
  });

  it('alarms to the incident topic on failed (refused or partial releases end failed), timed-out and throttled executions', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^EvidenceStoreTopic') }],
      });
    }
  });

  it('may invoke exactly the release functions, unqualified', () => {
    const invokes = iamStatements(template).filter(
      ({ owner, statement }) => owner.startsWith('ReleaseWorkflowStateMachineRole') && asArray(statement.Action).includes('lambda:InvokeFunction'),
    );
    expect(invokes).toHaveLength(1);
    expect(asArray(invokes[0]!.statement.Resource).map(flatten).sort()).toEqual(functionsOf('release').map((r) => `<${functionId(r.name)}.Arn>`).sort());
  });

  it('is exported as ReleaseStateMachineArn, and only the API may start it in the hub', () => {
    template.hasOutput('ReleaseStateMachineArn', { Value: { Ref: stateMachineId } });
    const starts = iamStatements(template).filter(({ statement }) => JSON.stringify(statement.Resource ?? '').includes(stateMachineId));
    const starters = starts.filter(({ statement }) => asArray(statement.Action).includes('states:StartExecution')).map(({ owner }) => owner);
    expect(starters).toHaveLength(1);
    expect(starters[0]).toMatch(/^ApiFunctionRoleDefaultPolicy/);
  });
});

describe('release definition', () => {
  it('speaks the runbook: load, restore network, role and instance, record', () => {
    const names = states(definition.States).map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['LoadContainment', 'RestoreNetwork', 'RestoreInterface', 'RestoreRole', 'RestoreInstance', 'RecordRelease', 'RecordRefusal']));
    expect(definition.StartAt in definition.States).toBe(true);
  });

  it('retries throttling and transient errors with backoff and jitter, and catches every Task into a recorded failure', () => {
    const tasks = states(definition.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [name, task] of tasks) {
      const transient = task.Retry?.find((r) => r.ErrorEquals.includes('TransientAwsError'));
      expect({ name, transient: Boolean(transient && transient.BackoffRate && transient.BackoffRate > 1 && transient.JitterStrategy === 'FULL') }).toEqual({ name, transient: true });
      expect({ name, catches: task.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')) }).toEqual({ name, catches: true });
    }
  });

  it('ends in Fail when refused (with the refusal’s own error name), partial, or not recorded; succeeds only when released', () => {
    const fails = Object.entries(definition.States).filter(([, s]) => s.Type === 'Fail');
    expect(Object.fromEntries(fails.map(([n, s]) => [n, s.ErrorPath ?? s.Error]))).toEqual({
      ReleaseRefused: '$.refusal.error',
      ReleaseIncomplete: 'ReleaseIncomplete',
      RecordingFailed: 'RecordingFailed',
    });
    expect(definition.States.LoadContainment?.Catch?.map((c) => c.Next)).toEqual(['RecordRefusal']);
    expect(definition.States.RecordRefusal?.Next).toBe('ReleaseRefused');
    expect(definition.States.CheckRelease).toMatchObject({
      Choices: [{ Variable: '$.outcome.outcome', StringEquals: 'released', Next: 'ReleaseComplete' }],
      Default: 'ReleaseIncomplete',
    });
  });
});

describe('release functions in the hub', () => {
  const policyOf = (name: string): Statement[] =>
    iamStatements(template)
      .filter(({ owner }) => owner.startsWith(`${name}RoleDefaultPolicy`))
      .map(({ statement }) => statement);
  const actions = (statements: Statement[]): string[] => statements.flatMap((s) => asArray(s.Action));

  it('run under the fixed role names member accounts trust', () => {
    for (const spec of functionsOf('release')) {
      template.hasResourceProperties('AWS::IAM::Role', { RoleName: hubRoleName(spec.name, REGION) });
    }
  });

  it('release-restore can only assume CordonResponder (no ledger, bucket or topic)', () => {
    const statements = policyOf('ReleaseRestore');
    expect(actions(statements).filter((a) => !a.startsWith('logs:'))).toEqual(['sts:AssumeRole']);
  });

  it('release-load reads and writes the ledger, and nothing in the bucket or topic', () => {
    const all = actions(policyOf('ReleaseLoad'));
    expect(all).toEqual(expect.arrayContaining(['sts:AssumeRole', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem']));
    expect(all.filter((a) => a.startsWith('s3:') || a.startsWith('sns:'))).toEqual([]);
  });

  it('release-record writes the ledger, evidence under incidents/, reads incidents/ for the manifest, and publishes', () => {
    const statements = policyOf('ReleaseRecord');
    expect(actions(statements)).toEqual(expect.arrayContaining(['sts:AssumeRole', 'dynamodb:UpdateItem', 's3:PutObject', 's3:GetObject*', 's3:List*', 'sns:Publish']));
    for (const s of statements.filter((x) => asArray(x.Action).includes('s3:PutObject'))) {
      expect(asArray(s.Resource).map(flatten)).toEqual([expect.stringMatching(/^<EvidenceStoreBucket\w+\.Arn>\/incidents\/\*$/)]);
    }
  });

  it('get the ledger, bucket and topic names their handlers need', () => {
    const env = (name: string) => ((template.toJSON().Resources[functionId(name)] as Resource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env('release-load'))).toEqual(expect.arrayContaining(['LEDGER_TABLE', 'PARTITION', 'RESPONDER_ROLE_NAME']));
    expect(Object.keys(env('release-record'))).toEqual(expect.arrayContaining(['LEDGER_TABLE', 'EVIDENCE_BUCKET', 'TOPIC_ARN']));
  });
});

describe('CordonResponder for release', () => {
  let policy: Statement[];
  let trust: unknown;

  beforeAll(() => {
    const stack = new CordonMemberStack(new App(), 'CordonMember', {
      config: parseConfig({ hubAccount: '111111111111', memberAccounts: ['222222222222'], regions: ['us-east-1', 'eu-west-1'] }, {}),
      env: { region: 'us-east-1' },
    });
    const t = Template.fromStack(stack);
    policy = iamStatements(t)
      .filter(({ owner }) => owner.startsWith('ResponderPolicy'))
      .map(({ statement }) => statement);
    trust = Object.values(t.findResources('AWS::IAM::Role'))[0]?.Properties.AssumeRolePolicyDocument;
  });

  const allowing = (action: string) => policy.filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes(action));

  it('trusts the release functions of every hub region', () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      for (const spec of functionsOf('release')) {
        expect(JSON.stringify(trust)).toContain(`:iam::111111111111:role/${hubRoleName(spec.name, region)}"`);
      }
    }
  });

  it('may associate an instance profile on instances, passing the role to EC2 only', () => {
    expect(allowing('ec2:AssociateIamInstanceProfile').map((s) => asArray(s.Resource).map(flatten))).toEqual([
      ['us-east-1', 'eu-west-1'].map((r) => `arn:<AWS::Partition>:ec2:${r}:<AWS::AccountId>:instance/*`),
    ]);
    const pass = allowing('iam:PassRole');
    expect(pass).toHaveLength(1);
    expect(asArray(pass[0]!.Action)).toEqual(['iam:PassRole']);
    expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    expect(asArray(pass[0]!.Resource).map(flatten)).toEqual(['arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*']);
  });

  it('may delete inline role policies, never on its own role, cordon roles, service-linked, SSO or other protected roles; PassRole neither', () => {
    expect(allowing('iam:DeleteRolePolicy').map((s) => asArray(s.Action))).toEqual([['iam:DeleteRolePolicy']]);
    const deny = policy.find((s) => s.Effect === 'Deny' && asArray(s.Action).includes('iam:DeleteRolePolicy'));
    expect(asArray(deny?.Action)).toEqual(expect.arrayContaining(['iam:DeleteRolePolicy', 'iam:PassRole', 'iam:PutRolePolicy']));
    expect(asArray(deny?.Resource).map(flatten)).toEqual(
      expect.arrayContaining([
        'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/CordonResponder',
        'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cordon-*',
        'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/*',
        'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-reserved/*',
        'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/OrganizationAccountAccessRole',
      ]),
    );
  });

  it('gains nothing that deletes evidence or re-attaches to Auto Scaling or target groups', () => {
    const allowed = policy.filter((s) => s.Effect === 'Allow').flatMap((s) => asArray(s.Action));
    // (ec2:DeleteSnapshot is allowed for cordon's temporary member-side copies only: see member-stack.test.ts.)
    for (const action of ['ec2:DeleteFlowLogs', 'ec2:DeleteVolume', 'autoscaling:AttachInstances', 'elasticloadbalancing:RegisterTargets', 's3:DeleteObject']) {
      expect({ action, allowed: allowed.includes(action) }).toEqual({ action, allowed: false });
    }
  });
});
