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

/** The release workflow definition (DESIGN.md §3 "Release"). */
export const RELEASE_ASL_PATH = path.join(__dirname, '..', '..', 'state-machines', 'release.asl.json');

export interface ReleaseWorkflowProps {
  /**
   * The responder functions by `RESPONDERS` name. Every responder of the release workflow
   * (`workflow: 'release'` in lib/responders.ts) must be present: its ARN is substituted into the definition.
   */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Topic the failure alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Retention of the execution log group, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /**
   * The ASL file. Its own top-level `TimeoutSeconds` is the execution timeout (CDK's `timeout` prop does
   * not apply to a definition loaded from a file).
   * @default RELEASE_ASL_PATH (state-machines/release.asl.json)
   */
  readonly definitionPath?: string;
}

/**
 * The release state machine (DESIGN.md §3 "Release"): undoes a containment from the incident's
 * original before-state, keeps every piece of evidence, and records who released it and why.
 * Loaded from `state-machines/release.asl.json` with one `definitionSubstitutions` entry per
 * release responder. Logs at ALL (with execution data) to `/aws/vendedlogs/states/cordon-release-<region>`,
 * traces with X-Ray, and alarms to the incident topic on failed, timed-out or throttled executions:
 * a refused or partial release ends in a Fail state, so it alarms.
 */
export class ReleaseWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The execution log group. */
  public readonly logGroup: logs.LogGroup;
  /** Every substitution handed to the definition, placeholder name → value. */
  public readonly definitionSubstitutions: Readonly<Record<string, string>>;
  /** Alarms on ExecutionsFailed, ExecutionsTimedOut and ExecutionThrottled (each ≥ 1 in a minute). */
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id);
    const substitutions: Record<string, string> = {};
    const invoked: lambda.IFunction[] = [];
    for (const spec of respondersOf('release')) {
      const fn = props.functions[spec.name];
      if (!fn || !spec.placeholder) {
        throw new Error(
          `ReleaseWorkflow ${id}: no function for responder '${spec.name}' (placeholder \${${spec.placeholder ?? '?'}}); pass it in props.functions`,
        );
      }
      substitutions[spec.placeholder] = fn.functionArn;
      invoked.push(fn);
    }
    this.definitionSubstitutions = substitutions;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/cordon-release-${Stack.of(this).region}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionPath ?? RELEASE_ASL_PATH),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'cordon: release a contained EC2 instance, keeping every piece of evidence',
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
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
        alarmDescription: `cordon release workflow: ${what}. A refused or partial release fails its execution: check the execution history, the RELEASE item in the ledger and the notification.`,
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
