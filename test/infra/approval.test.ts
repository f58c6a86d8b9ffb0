/**
 * The approval gate in the hub (docs/approval.md): its configuration reaches capture-state, its
 * requester holds exactly what it uses, the state machine's callback task is wired to it, and only
 * the gated branch waits. `grantDecide` gives a decider exactly what submitApprovalDecision calls.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ApprovalGate } from '../../lib/constructs/approval-gate';
import { EvidenceStore } from '../../lib/constructs/evidence-store';
import { CordonFunction } from '../../lib/constructs/cordon-function';
import { asArray, cdkJsonContext, flatten, iamStatements, synth, type Statement, type Synthesized } from './synth';

let app: Synthesized;
let template: Template;
let ids: { requester: string; captureState: string; ledger: string; key: string; topic: string; stateMachine: string };

beforeAll(() => {
  app = synth({
    cordon: {
      ...(cdkJsonContext().cordon as object),
      approval: {
        requiredForTags: [{ key: 'env', value: 'production' }],
        requiredFor: { accounts: ['222222222222'], instanceIds: [] },
        timeoutSeconds: 3600,
        onTimeout: 'deny',
      },
    },
  });
  template = app.hubTemplate;
  const hub = app.hubs[0]!;
  const id = (c: { node: { defaultChild?: unknown } }) => hub.getLogicalId(c.node.defaultChild as never);
  ids = {
    requester: id(hub.functions['await-approval']!),
    captureState: id(hub.functions['capture-state']!),
    ledger: id(hub.evidence.ledger),
    key: id(hub.evidence.key),
    topic: hub.getLogicalId(hub.evidence.topic.node.defaultChild as never),
    stateMachine: id(hub.workflow.stateMachine),
  };
});

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSecondsPath?: string;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Branches?: AslMachine[];
  ItemProcessor?: AslMachine;
}
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

function definition(): { machine: AslMachine; substitutions: Record<string, unknown> } {
  const [, sm] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))[0] as [string, { Properties: Record<string, unknown> }];
  const key = (sm.Properties.DefinitionS3Location as { Key: string }).Key;
  return {
    machine: JSON.parse(readFileSync(path.join(app.assembly.directory, `asset.${key}`), 'utf8')) as AslMachine,
    substitutions: sm.Properties.DefinitionSubstitutions as Record<string, unknown>,
  };
}

/** State names in a machine, nested branches and Map processors included. */
function names(machine: AslMachine): string[] {
  return Object.entries(machine.States).flatMap(([n, s]) => [
    n,
    ...(s.Branches ?? []).flatMap(names),
    ...(s.ItemProcessor ? names(s.ItemProcessor) : []),
  ]);
}

describe('approval gate configuration', () => {
  it('reaches capture-state, which decides from the hub selectors and the before-state tags', () => {
    const fn = template.toJSON().Resources[ids.captureState] as { Properties: { Environment: { Variables: Record<string, unknown> } } };

    expect(fn.Properties.Environment.Variables).toMatchObject({
      APPROVAL_REQUIRED_FOR_TAGS: '[{"key":"env","value":"production"}]',
      APPROVAL_REQUIRED_FOR: '{"accounts":["222222222222"],"instanceIds":[]}',
      APPROVAL_TIMEOUT_SECONDS: '3600',
      APPROVAL_ON_TIMEOUT: 'deny',
    });
  });

});

describe('the await-approval function', () => {
  it('updates ledger items, publishes to the topic, and nothing else: no read, no index, no other account', () => {
    // Prepare: its role's grant policy (the X-Ray policy is separate and checked for every function elsewhere)
    const role = (template.toJSON().Resources[ids.requester] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } }).Properties.Role['Fn::GetAtt'][0];
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id, p]) =>
      /DefaultPolicy/.test(id) && JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(role),
    );

    // Act: everything but the writes to its own log group (CordonFunction's, the same for every function)
    const all = policies.flatMap(([, p]) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
    const logs = all.filter((s) => asArray(s.Action).every((a) => a.startsWith('logs:')));
    const statements = all.filter((s) => !logs.includes(s));

    // Assess
    expect(statements.map((s) => ({ sid: s.Sid, actions: asArray(s.Action).sort(), resources: asArray(s.Resource).map(flatten) }))).toEqual([
      { sid: 'StorePendingApproval', actions: ['dynamodb:UpdateItem'], resources: [`<${ids.ledger}.Arn>`] },
      {
        sid: 'LedgerAndTopicEncryption',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [`<${ids.key}.Arn>`],
      },
      { sid: 'NotifyApprovalNeeded', actions: ['sns:Publish'], resources: [flatten({ Ref: ids.topic })] },
    ]);
    expect(logs.flatMap((s) => asArray(s.Resource).map(flatten))).toEqual([expect.stringMatching(/^<AwaitApprovalLogGroup\w+\.Arn>$/)]);
    expect(statements[1]?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': ['dynamodb.us-east-1.amazonaws.com', 'sns.us-east-1.amazonaws.com'] },
    });
  });

  it('is invoked by the state machine through its placeholder, and the callback task names the partition by substitution', () => {
    const { substitutions } = definition();

    expect(flatten(substitutions.AwaitApprovalFunctionArn)).toBe(`<${ids.requester}.Arn>`);
    expect(substitutions.Partition).toEqual({ Ref: 'AWS::Partition' });
  });
});

describe('the response workflow behind the gate', () => {
  it('waits in one callback task: the token in the payload, the timeout from the before-state, a timeout caught first', () => {
    const { machine } = definition();
    const contain = machine.States.Contain!;
    const gate = contain.Branches![0]!;

    const wait = gate.States.AwaitApproval!;

    expect(wait).toMatchObject({
      Type: 'Task',
      Resource: 'arn:${Partition}:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: '${AwaitApprovalFunctionArn}',
        Payload: expect.objectContaining({ 'taskToken.$': '$$.Task.Token', 'approval.$': '$.before.approval' }),
      },
      TimeoutSecondsPath: '$.before.approval.timeoutSeconds',
    });
    expect(wait.Catch?.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['States.Timeout'], 'ApplyTimeoutPolicy'],
      [['States.ALL'], 'GateClosed'],
    ]);
    // Exactly one callback task in the whole definition: one approval per execution.
    const callbacks = names(machine).filter((n) => {
      const find = (m: AslMachine): AslState | undefined =>
        m.States[n] ?? Object.values(m.States).flatMap((s) => [...(s.Branches ?? []), ...(s.ItemProcessor ? [s.ItemProcessor] : [])]).map(find).find(Boolean);
      return find(machine)?.Resource?.includes('waitForTaskToken');
    });
    expect(callbacks).toEqual(['AwaitApproval']);
  });

  it('gates what changes service (Auto Scaling, target groups, security groups, the role) and nothing of the evidence', () => {
    const { machine } = definition();
    const [gate, ...evidence] = machine.States.Contain!.Branches!;

    const gated = names(gate!);
    const ungated = evidence.flatMap(names);

    expect(gated).toEqual(
      expect.arrayContaining(['AwaitApproval', 'ProtectAfterApproval', 'PrepareIsolationGroups', 'QuarantineRole', 'LeaveTargetGroups']),
    );
    expect(ungated).toEqual(expect.arrayContaining(['EnableFlowLogs', 'CreateSnapshots', 'PreserveBeforeApproval', 'CollectEvidence']));
    for (const s of ['PrepareIsolationGroups', 'QuarantineRole', 'ProtectAfterApproval', 'LeaveTargetGroups']) expect(ungated).not.toContain(s);
    // Behind the gate, the evidence branch's preserve leaves target groups alone.
    const held = evidence.find((b) => b.StartAt === 'ShouldHoldTargetGroups')!.States.PreserveBeforeApproval!;
    expect(held.Parameters).toMatchObject({ deregisterFromTargetGroups: false });
  });
});

describe('ApprovalGate.grantDecide', () => {
  it('gives a decider Query on byResponseId, GetItem/UpdateItem on the ledger and SendTaskSuccess on this state machine only', () => {
    // Prepare
    const stack = new Stack(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }), 'Gate', { env: { region: 'eu-west-1' } });
    const store = new EvidenceStore(stack, 'EvidenceStore', { sourceAccounts: ['111111111111'] });
    const requester = new CordonFunction(stack, 'AwaitApproval', { name: 'await-approval', logRetentionDays: 365 });
    const stateMachine = new sfn.StateMachine(stack, 'Workflow', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')) });
    const gate = new ApprovalGate(stack, 'ApprovalGate', { requester, store, stateMachine });
    const api = new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=1') });

    // Act
    gate.grantDecide(api);

    // Assess
    const t = Template.fromStack(stack);
    const ref = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
    const statements = iamStatements(t)
      .filter(({ owner }) => owner.startsWith('ApiServiceRoleDefaultPolicy'))
      .map(({ statement }) => ({ actions: asArray(statement.Action).sort(), resources: asArray(statement.Resource).map(flatten), condition: statement.Condition }));
    expect(statements).toEqual([
      { actions: ['dynamodb:Query'], resources: [`<${ref(store.ledger)}.Arn>/index/byResponseId`], condition: undefined },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [`<${ref(store.ledger)}.Arn>`], condition: undefined },
      {
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [`<${ref(store.key)}.Arn>`],
        condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
      },
      { actions: ['states:SendTaskSuccess'], resources: [flatten({ Ref: ref(stateMachine) })], condition: undefined },
    ]);
  });
});
