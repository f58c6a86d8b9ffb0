import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { functionsOf } from '../functions';

export interface WorkflowProps {
  /**
   * The functions by name (`FUNCTIONS`, lib/functions.ts). Every function of this workflow
   * must be present: its ARN is substituted into the definition.
   */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Topic the failure alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Retention of the execution log group, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /**
   * The ASL file.
   * @default the workflow's own file under state-machines/
   */
  readonly definitionPath?: string;
}

/** What distinguishes one cordon workflow from another (set by the subclass, not by callers). */
export interface WorkflowShape {
  /** `response` or `release`: which functions it invokes, and its log group `/aws/vendedlogs/states/cordon-<name>-<region>`. */
  readonly name: 'response' | 'release';
  readonly definitionPath: string;
  readonly comment: string;
  /** Appended to each alarm's description: where a responder looks first. */
  readonly alarmAdvice: string;
  /** Substitutions besides the function ARNs (checked not to collide with them). */
  readonly extraSubstitutions?: Readonly<Record<string, string>>;
  /** Execution timeout (CDK ignores it for a definition loaded from a file: the ASL's own TimeoutSeconds applies). */
  readonly timeout?: Duration;
}

/**
 * A cordon state machine (docs/design.md §3): the ASL from `state-machines/`, loaded with
 * `DefinitionBody.fromFile` and one `definitionSubstitutions` entry per function placeholder.
 * Logs at ALL (with execution data) to `/aws/vendedlogs/states/cordon-<name>-<region>`, traces with
 * X-Ray, may invoke exactly its functions (unqualified ARNs), and alarms to the incident topic on
 * failed, timed-out or throttled executions.
 */
export class CordonWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The execution log group. */
  public readonly logGroup: logs.LogGroup;
  /** Every substitution handed to the definition, placeholder name → value. */
  public readonly definitionSubstitutions: Readonly<Record<string, string>>;
  /** Alarms on ExecutionsFailed, ExecutionsTimedOut and ExecutionThrottled (each ≥ 1 in a minute). */
  public readonly alarms: readonly cloudwatch.Alarm[];

  protected constructor(scope: Construct, id: string, props: WorkflowProps, shape: WorkflowShape) {
    super(scope, id);
    const kind = `${shape.name[0]?.toUpperCase()}${shape.name.slice(1)}Workflow`;
    const substitutions: Record<string, string> = {};
    const invoked: lambda.IFunction[] = [];
    for (const spec of functionsOf(shape.name)) {
      const fn = props.functions[spec.name];
      if (!fn) {
        throw new Error(`${kind} ${id}: no function '${spec.name}' (placeholder \${${spec.placeholder}}); pass it in props.functions`);
      }
      substitutions[spec.placeholder] = fn.functionArn;
      invoked.push(fn);
    }
    for (const [key, value] of Object.entries(shape.extraSubstitutions ?? {})) {
      if (key in substitutions) throw new Error(`${kind} ${id}: substitution ${key} collides with a function placeholder; rename it`);
      substitutions[key] = value;
    }
    this.definitionSubstitutions = substitutions;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/cordon-${shape.name}-${Stack.of(this).region}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionPath ?? shape.definitionPath),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: shape.comment,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      timeout: shape.timeout,
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
        alarmDescription: `cordon ${shape.name} workflow: ${what}. ${shape.alarmAdvice}`,
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
