import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { IntakePolicyInput } from '../../lambdas/intake/decide';
import { SECURITY_HUB_CUSTOM_ACTION } from '../../lambdas/intake/events';
import { environmentFor } from '../environment';
import { CordonFunction } from './cordon-function';
import { nagRef } from './nag';

/** GuardDuty types whose `resource` is an AccessKey but which name the instance the credentials came from. */
export const CREDENTIAL_EXFILTRATION_PREFIX = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration';

/**
 * The Security Hub custom action the hub creates. Security Hub allows at most 20 characters in the
 * name and 20 alphanumeric characters in the id (CreateActionTarget). The name is what responders
 * see in the console's Actions menu, and what events carry as `detail.actionName`.
 */
export const SECURITY_HUB_ACTION = {
  id: 'CordonContain',
  name: 'Contain EC2 instance',
  description:
    'cordon: contain the EC2 instances named by the selected findings (isolate, flow logs, snapshots, quarantine the role). ' +
    'Findings that name no instance are ignored.',
} as const;

/**
 * The decision policy intake reads from `INTAKE_POLICY` (JSON): the handler's own
 * schema (lambdas/intake/decide.ts), with the fields the hub always sets made required.
 */
export type IntakePolicy = IntakePolicyInput & {
  readonly severityThreshold: number;
  readonly allowedRegions: string[];
};

export interface IntakeProps {
  /** The response workflow intake starts (the only one it may start). */
  readonly stateMachine: sfn.StateMachine;
  /** Intake's decision policy, passed to the function as `INTAKE_POLICY`. */
  readonly policy: IntakePolicy;
  /**
   * The evidence bucket, by name: intake keeps each finding there, under incidents/<id>/findings/. The hub
   * stack grants the write (`evidence:put`, lib/functions.ts).
   */
  readonly evidenceBucketName: string;
  /** Retention of the function's log group, in days. */
  readonly logRetentionDays: number;
  /** Topic notified when events land in the dead-letter queue. */
  readonly alarmTopic: sns.ITopic;
  /**
   * How long EventBridge keeps retrying delivery to intake.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
  /**
   * EventBridge delivery retries.
   * @default 20
   */
  readonly retryAttempts?: number;
  /**
   * Create the Security Hub custom action "Contain EC2 instance" ({@link SECURITY_HUB_ACTION}) and a rule
   * routing its events to intake. Security Hub must be enabled in the hub account and region, and
   * CloudFormation must offer AWS::SecurityHub::ActionTarget there (CDK's validation warns F3006 where
   * its regional lists lack it), or the deployment fails creating the action.
   * @default true
   */
  readonly securityHubAction?: boolean;
}

/**
 * The event entry points (docs/design.md §2.1 and §2.2), both targeting the intake function,
 * which makes the exact decision and starts the response workflow:
 * - GuardDuty: an EventBridge rule on the default bus with the coarse filter (source,
 *   detail-type, severity ≥ threshold, and the resource type: `Instance`, or `AccessKey`
 *   for InstanceCredentialExfiltration);
 * - Security Hub (optional, on by default): the custom action "Contain EC2 instance" and
 *   a rule matching its events by the action's ARN.
 * Undeliverable events and failed invocations go to an encrypted dead-letter queue,
 * which alarms to the incident topic.
 */
export class Intake extends Construct {
  public readonly function: CordonFunction;
  /** The GuardDuty findings rule. */
  public readonly rule: events.Rule;
  /** The Security Hub custom action, when `securityHubAction` is on. */
  public readonly securityHubActionTarget?: securityhub.CfnActionTarget;
  /** The rule routing the custom action's events to intake, when `securityHubAction` is on. */
  public readonly securityHubRule?: events.Rule;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: IntakeProps) {
    super(scope, id);
    const { policy } = props;
    if (!(policy.severityThreshold >= 1 && policy.severityThreshold <= 8.9)) {
      throw new Error(`Intake ${id}: policy.severityThreshold must be between 1 and 8.9 (got ${policy.severityThreshold})`);
    }
    if (policy.allowedRegions.length === 0) {
      throw new Error(`Intake ${id}: policy.allowedRegions is empty; list the regions the hub is deployed to`);
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the intake rule target and of intake async invocations',
    });

    this.function = new CordonFunction(this, 'Function', {
      name: 'intake',
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.seconds(30),
      environment: environmentFor('intake', {
        responseStateMachineArn: props.stateMachine.stateMachineArn,
        intakePolicy: policy,
        evidenceBucket: props.evidenceBucketName,
        toJson: (value) => Stack.of(this).toJsonString(value),
      }),
    });
    props.stateMachine.grantStartExecution(this.function);
    // Redelivered findings: intake describes its own earlier execution (same name) to tell a repeat from a conflict.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${props.stateMachine.stateMachineName}:*`,
        ],
      }),
    );
    Validations.of(this.function.executionRole.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${nagRef(props.stateMachine, 'Name')}:*]`,
      reason: 'DescribeExecution on the executions of the response workflow only; execution names are per request',
    });
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.rule = new events.Rule(this, 'GuardDutyFindingRule', {
      description: 'cordon: GuardDuty EC2 findings at or above the severity threshold, to intake',
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: {
          severity: [{ numeric: ['>=', policy.severityThreshold] }],
          $or: [
            { resource: { resourceType: ['Instance'] } },
            { resource: { resourceType: ['AccessKey'] }, type: [{ prefix: CREDENTIAL_EXFILTRATION_PREFIX }] },
          ],
        },
      },
    });
    const intakeTarget = (): targets.LambdaFunction =>
      new targets.LambdaFunction(this.function, {
        deadLetterQueue: this.deadLetterQueue,
        maxEventAge: props.maxEventAge ?? Duration.hours(2),
        retryAttempts: props.retryAttempts ?? 20,
      });
    this.rule.addTarget(intakeTarget());

    if (props.securityHubAction ?? true) {
      this.securityHubActionTarget = new securityhub.CfnActionTarget(this, 'SecurityHubContainAction', {
        id: SECURITY_HUB_ACTION.id,
        name: SECURITY_HUB_ACTION.name,
        description: SECURITY_HUB_ACTION.description,
      });
      // The target of each finding comes from the finding itself (intake), never from this envelope.
      this.securityHubRule = new events.Rule(this, 'SecurityHubActionRule', {
        description: `cordon: Security Hub custom action "${SECURITY_HUB_ACTION.name}", to intake`,
        eventPattern: {
          source: ['aws.securityhub'],
          detailType: [SECURITY_HUB_CUSTOM_ACTION],
          resources: [this.securityHubActionTarget.attrActionTargetArn],
        },
      });
      this.securityHubRule.addTarget(intakeTarget());
    }

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'cordon intake: a GuardDuty finding or Security Hub custom action could not be delivered or processed. Replay it from the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetterAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
