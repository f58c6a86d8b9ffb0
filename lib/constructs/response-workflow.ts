import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { respondersOf } from '../responders';

/** The response workflow definition (owned by the workflow authors, DESIGN.md §3). */
export const RESPONSE_ASL_PATH = path.join(__dirname, '..', '..', 'state-machines', 'response.asl.json');

export interface ResponseWorkflowProps {
  /**
   * The responder functions by `RESPONDERS` name. Every responder with a
   * `placeholder` must be present: its ARN is substituted into the definition.
   */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Topic the failure alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Retention of the execution log group, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /**
   * Extra `definitionSubstitutions` (for example the settle wait), besides the function ARNs.
   * @default - none
   */
  readonly extraSubstitutions?: Readonly<Record<string, string>>;
  /**
   * The ASL file.
   * @default RESPONSE_ASL_PATH (state-machines/response.asl.json)
   */
  readonly definitionPath?: string;
  /**
   * Execution timeout: a backstop for the definition's own caps.
   * @default - none beyond the definition's own TimeoutSeconds
   */
  readonly timeout?: Duration;
}

/**
 * The response state machine (DESIGN.md §3): the ASL from `state-machines/`,
 * loaded with `DefinitionBody.fromFile` and one `definitionSubstitutions` entry
 * per responder placeholder, plus `Partition` for service-integration ARNs. The
 * approval gate's callback task invokes `await-approval` like any responder, so
 * the one `lambda:InvokeFunction` statement covers it. Logs at ALL (with execution data) to
 * `/aws/vendedlogs/states/cordon-response-<region>`, traces with X-Ray, and
 * alarms to the incident topic on failed, timed-out or throttled executions.
 */
export class ResponseWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The execution log group. */
  public readonly logGroup: logs.LogGroup;
  /** Every substitution handed to the definition, placeholder name → value. */
  public readonly definitionSubstitutions: Readonly<Record<string, string>>;
  /** Alarms on ExecutionsFailed, ExecutionsTimedOut and ExecutionThrottled (each ≥ 1 in a minute). */
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ResponseWorkflowProps) {
    super(scope, id);
    const substitutions: Record<string, string> = {};
    const invoked: lambda.IFunction[] = [];
    for (const spec of respondersOf('response')) {
      if (!spec.placeholder) continue;
      const fn = props.functions[spec.name];
      if (!fn) {
        throw new Error(
          `ResponseWorkflow ${id}: no function for responder '${spec.name}' (placeholder \${${spec.placeholder}}); ` +
            'pass it in props.functions',
        );
      }
      substitutions[spec.placeholder] = fn.functionArn;
      invoked.push(fn);
    }
    // Service-integration ARNs (the approval gate's `lambda:invoke.waitForTaskToken`) name the partition.
    substitutions.Partition = Stack.of(this).partition;
    for (const [key, value] of Object.entries(props.extraSubstitutions ?? {})) {
      if (key in substitutions) {
        throw new Error(`ResponseWorkflow ${id}: extraSubstitutions.${key} collides with a function placeholder; rename it`);
      }
      substitutions[key] = value;
    }
    this.definitionSubstitutions = substitutions;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/cordon-response-${Stack.of(this).region}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionPath ?? RESPONSE_ASL_PATH),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'cordon: contain a compromised EC2 instance and preserve the evidence',
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      timeout: props.timeout,
    });

    // Unqualified ARNs only: the definition names each function by its plain ARN.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: invoked.map((fn) => fn.functionArn),
      }),
    );
    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Step Functions log delivery (logs:CreateLogDelivery, PutResourcePolicy, …) and X-Ray writes support no resource-level permissions; ' +
          'CDK adds exactly those statements for logging level ALL and tracing (docs/iam.md)',
      });
    }

    const period = Duration.minutes(1);
    const alarmOn = (alarmId: string, metric: cloudwatch.Metric, what: string): cloudwatch.Alarm => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `cordon response workflow: ${what}. Check the execution history and the incident ledger.`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      return alarm;
    };
    this.alarms = [
      alarmOn('ExecutionsFailedAlarm', this.stateMachine.metricFailed({ period, statistic: 'Sum' }), 'an execution failed'),
      alarmOn('ExecutionsTimedOutAlarm', this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }), 'an execution timed out'),
      alarmOn('ExecutionThrottledAlarm', this.stateMachine.metricThrottled({ period, statistic: 'Sum' }), 'executions were throttled'),
    ];
  }
}
