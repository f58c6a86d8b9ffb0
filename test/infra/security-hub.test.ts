/**
 * The Security Hub custom action "Contain EC2 instance" (docs/design.md §2.2): the hub creates the
 * action target, and a rule routes its events to intake exactly as the GuardDuty rule does
 * (same function, dead-letter queue and retry policy). Off with `securityHubAction: false`.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Intake, SECURITY_HUB_ACTION } from '../../lib/constructs/intake';
import { SECURITY_HUB_CUSTOM_ACTION } from '../../lambdas/intake/events';
import { loadEvent } from '../unit/intake/fixtures';
import { synth, type Synthesized } from './synth';

type Resource = { Type: string; Properties: Record<string, unknown> };

let app: Synthesized;
let template: Template;
let intakeId: string;
let actionId: string;

beforeAll(() => {
  app = synth();
  template = app.hubTemplate;
  const hub = app.hubs[0]!;
  intakeId = hub.getLogicalId(hub.intake.function.node.defaultChild as never);
  actionId = hub.getLogicalId(hub.intake.securityHubActionTarget! as never);
});

function rules(): Record<string, Resource> {
  return template.findResources('AWS::Events::Rule') as Record<string, Resource>;
}

describe('the custom action', () => {
  it('is created once, within Security Hub’s limits (name ≤ 20 characters, id ≤ 20 alphanumerics)', () => {
    const targets = Object.values(template.findResources('AWS::SecurityHub::ActionTarget') as Record<string, Resource>);

    expect(targets.map((t) => t.Properties)).toEqual([
      { Id: 'CordonContain', Name: 'Contain EC2 instance', Description: SECURITY_HUB_ACTION.description },
    ]);
    expect(SECURITY_HUB_ACTION.name.length).toBeLessThanOrEqual(20);
    expect(SECURITY_HUB_ACTION.id).toMatch(/^[A-Za-z0-9]{1,20}$/);
    expect(SECURITY_HUB_ACTION.description.length).toBeLessThanOrEqual(512);
    // Intake's schema for the event's actionName (the action's name) accepts it.
    expect(SECURITY_HUB_ACTION.name.length).toBeLessThanOrEqual(64);
  });

  it('has its events routed by the action’s ARN to intake, with the GuardDuty rule’s DLQ and retries', () => {
    const [sh, ...others] = Object.values(rules()).filter(
      (r) => (r.Properties.EventPattern as { source?: string[] }).source?.[0] === 'aws.securityhub',
    );
    const [gd] = Object.values(rules()).filter((r) => (r.Properties.EventPattern as { source?: string[] }).source?.[0] === 'aws.guardduty');

    expect(others).toEqual([]);
    expect(sh!.Properties.EventPattern).toEqual({
      source: ['aws.securityhub'],
      'detail-type': [SECURITY_HUB_CUSTOM_ACTION],
      resources: [{ 'Fn::GetAtt': [actionId, 'ActionTargetArn'] }],
    });
    expect(sh!.Properties.State ?? 'ENABLED').toBe('ENABLED');
    const [target] = sh!.Properties.Targets as Record<string, unknown>[];
    const [gdTarget] = gd!.Properties.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      Arn: { 'Fn::GetAtt': [intakeId, 'Arn'] },
      DeadLetterConfig: gdTarget!.DeadLetterConfig,
      RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 20 },
    });
    const hub = app.hubs[0]!;
    expect(target!.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': [hub.getLogicalId(hub.intake.deadLetterQueue.node.defaultChild as never), 'Arn'] },
    });
  });

  it('may invoke intake (EventBridge permission from this rule), and may send to the dead-letter queue', () => {
    const ruleId = Object.entries(rules()).find(([, r]) => (r.Properties.EventPattern as { source?: string[] }).source?.[0] === 'aws.securityhub')![0];

    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [intakeId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('matches the real-shaped custom action events intake decides (source, detail-type, the action ARN)', () => {
    for (const file of ['sh-custom-action-one-instance.json', 'sh-custom-action-two-instances.json', 'sh-custom-action-mixed.json']) {
      const event = loadEvent<{ source: string; 'detail-type': string; resources: string[] }>(file);
      expect({ file, source: event.source, detailType: event['detail-type'] }).toEqual({
        file,
        source: 'aws.securityhub',
        detailType: SECURITY_HUB_CUSTOM_ACTION,
      });
      expect(event.resources.some((r) => /^arn:aws:securityhub:[a-z0-9-]+:\d{12}:action\/custom\/[A-Za-z0-9]+$/.test(r))).toBe(true);
    }
    expect(loadEvent<{ resources: string[] }>('sh-custom-action-mixed.json').resources).toEqual([
      `arn:aws:securityhub:us-east-1:111122223333:action/custom/${SECURITY_HUB_ACTION.id}`,
    ]);
  });
});

describe('securityHubAction: false', () => {
  function standalone(securityHubAction: boolean | undefined): Template {
    const a = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(a, 'IntakeOnly', { env: { account: '111111111111', region: 'us-east-1' } });
    const machine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Start')) });
    new Intake(stack, 'Intake', {
      stateMachine: machine,
      policy: { severityThreshold: 4, allowedRegions: ['us-east-1'] },
      logRetentionDays: 30,
      evidenceBucketName: 'cordon-evidence',
      alarmTopic: new sns.Topic(stack, 'Topic'),
      ...(securityHubAction === undefined ? {} : { securityHubAction }),
    });
    return Template.fromStack(stack);
  }

  it('creates neither the action nor its rule; the default creates both', () => {
    const off = standalone(false);
    const byDefault = standalone(undefined);

    off.resourceCountIs('AWS::SecurityHub::ActionTarget', 0);
    off.resourceCountIs('AWS::Events::Rule', 1);
    off.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.guardduty'] }) });
    byDefault.resourceCountIs('AWS::SecurityHub::ActionTarget', 1);
    byDefault.resourceCountIs('AWS::Events::Rule', 2);
  });
});
