import { Aws, CfnOutput, Stack, Token, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { usesOrganizationOnly, type CordonConfig } from './config';
import { EvidenceStore } from './constructs/evidence-store';
import { CordonApi } from './constructs/api';
import { Intake, type IntakePolicy } from './constructs/intake';
import { ApprovalGate } from './constructs/approval-gate';
import { CordonFunction } from './constructs/cordon-function';
import { ReleaseWorkflow } from './constructs/release-workflow';
import { ResponseWorkflow } from './constructs/response-workflow';
import { environmentFor, type SettingsFor } from './environment';
import { FUNCTIONS, WORKFLOW_FUNCTIONS, type WorkflowFunctionName } from './functions';
import { grantCapabilities } from './grants';

export interface CordonHubStackProps extends StackProps {
  /** The parsed configuration (lib/config.ts `loadConfig`). */
  readonly config: CordonConfig;
  /**
   * The response workflow ASL file.
   * @default state-machines/response.asl.json
   */
  readonly responseDefinitionPath?: string;
}

/**
 * The hub (docs/design.md §1): deployed to the security account in every configured
 * region. Holds the evidence store, one CordonFunction per workflow function of `FUNCTIONS`
 * (lib/functions.ts), the response workflow, the release workflow and the GuardDuty intake. Its Lambdas hold no EC2 or IAM
 * write permissions: every target-account action goes through `CordonResponder`
 * (lib/member-stack.ts), the hub account included.
 */
export class CordonHubStack extends Stack {
  public readonly evidence: EvidenceStore;
  /** The functions the workflows call (every `FUNCTIONS` entry with a `workflow`), by name. */
  public readonly functions: Readonly<Record<string, CordonFunction>>;
  public readonly workflow: ResponseWorkflow;
  /** The release workflow (docs/design.md §3.5). */
  public readonly release: ReleaseWorkflow;
  /** The approval gate: `approvalGate.grantDecide(x)` lets the API or a responder's role approve and deny. */
  public readonly approvalGate: ApprovalGate;
  public readonly intake: Intake;
  /** The HTTPS API for SOAR platforms (docs/api.md); undefined when `api.enabled` is false. */
  public readonly api?: CordonApi;
  /** The hub account id (a token when the stack is environment-agnostic). */
  public readonly hubAccount: string;

  constructor(scope: Construct, id: string, props: CordonHubStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.hubAccount && !Token.isUnresolved(this.account) && this.account !== config.hubAccount) {
      throw new Error(
        `${id}: the hub stack must be deployed to the hub account ${config.hubAccount}, not ${this.account}; ` +
          'fix env.account or cordon.hubAccount',
      );
    }
    if (!Token.isUnresolved(this.region) && !config.regions.includes(this.region)) {
      throw new Error(
        `${id}: region ${this.region} is not in cordon.regions (${config.regions.join(', ')}); add it, ` +
          'or member accounts will not trust this hub',
      );
    }
    this.hubAccount = config.hubAccount ?? this.account;
    const orgOnly = usesOrganizationOnly(config);
    const targetAccounts = [this.hubAccount, ...config.memberAccounts];

    this.evidence = new EvidenceStore(this, 'EvidenceStore', {
      sourceAccounts: orgOnly ? [] : targetAccounts,
      memberAccounts: config.memberAccounts,
      organizationId: config.organizationId,
      objectLockMode: config.objectLock.mode,
      retentionDays: config.objectLock.retentionDays,
      breakGlassRoleArn: config.breakGlassRoleArn,
      notificationEmails: config.notificationEmails,
      accessLogRetentionDays: config.logRetentionDays,
    });
    const { bucket, key, ledger, topic } = this.evidence;

    // Every function's environment comes from lib/environment.ts; its grants from its catalogue entry (lib/grants.ts).
    const settings: SettingsFor<WorkflowFunctionName> = {
      config,
      partition: Aws.PARTITION,
      hubAccountId: this.hubAccount,
      ledgerTable: ledger.tableName,
      evidenceBucket: bucket.bucketName,
      evidenceBucketArn: bucket.bucketArn,
      evidenceKeyArn: key.keyArn,
      topicArn: topic.topicArn,
      toJson: (value) => this.toJsonString(value),
    };
    const functions: Record<string, CordonFunction> = {};
    for (const spec of WORKFLOW_FUNCTIONS) {
      functions[spec.name] = new CordonFunction(this, pascalCase(spec.name), {
        name: spec.name,
        logRetentionDays: config.logRetentionDays,
        environment: environmentFor(spec.name, settings),
      });
    }
    this.functions = functions;

    this.workflow = new ResponseWorkflow(this, 'ResponseWorkflow', {
      functions,
      alarmTopic: topic,
      logRetentionDays: config.logRetentionDays,
      definitionPath: props.responseDefinitionPath,
    });

    this.release = new ReleaseWorkflow(this, 'ReleaseWorkflow', {
      functions,
      alarmTopic: topic,
      logRetentionDays: config.logRetentionDays,
    });
    const requester = functions['await-approval'];
    if (!requester) throw new Error(`${id}: no await-approval function`);
    this.approvalGate = new ApprovalGate(this, 'ApprovalGate', { requester, store: this.evidence, stateMachine: this.workflow.stateMachine });

    // One decision policy for every entry point: GuardDuty and Security Hub (intake) and the API.
    const intakePolicy: IntakePolicy = {
      severityThreshold: config.severityThreshold,
      allowTypes: [...config.findingTypes.allow],
      denyTypes: [...config.findingTypes.deny],
      allowedAccounts: orgOnly ? undefined : targetAccounts,
      allowedRegions: [...config.regions],
    };
    this.intake = new Intake(this, 'Intake', {
      stateMachine: this.workflow.stateMachine,
      alarmTopic: topic,
      logRetentionDays: config.logRetentionDays,
      policy: intakePolicy,
      // The finding itself is evidence: intake stores it under incidents/<id>/findings/ before starting the workflow.
      evidenceBucketName: bucket.bucketName,
      securityHubAction: config.securityHubAction,
    });

    if (config.api.enabled) {
      this.api = new CordonApi(this, 'Api', {
        responseStateMachine: this.workflow.stateMachine,
        releaseStateMachine: this.release.stateMachine,
        ledger,
        policy: intakePolicy,
        approvalGate: this.approvalGate,
        logRetentionDays: config.logRetentionDays,
        allowedPrincipals: config.api.allowedPrincipals,
        throttling: config.api.throttling,
        executionLogging: config.api.executionLogging,
      });
      new CfnOutput(this, 'ApiUrl', { description: 'The HTTPS API for SOAR platforms (docs/api.md)', value: this.api.url });
    }
    if (this.intake.securityHubActionTarget) {
      new CfnOutput(this, 'SecurityHubActionArn', {
        description: 'Security Hub custom action "Contain EC2 instance"',
        value: this.intake.securityHubActionTarget.attrActionTargetArn,
      });
    }

    // Every catalogue entry's grants (the API's are its construct's own: it has none here).
    grantCapabilities({ ...functions, intake: this.intake.function }, FUNCTIONS, {
      store: this.evidence,
      targetAccounts: orgOnly ? undefined : targetAccounts,
      organizationId: config.organizationId,
    });

    new CfnOutput(this, 'EvidenceKeyArn', {
      description: 'The evidence KMS key: set it as cordon.evidenceKeyArn for member stacks, which then name it by ARN',
      value: key.keyArn,
    });
    new CfnOutput(this, 'ResponseStateMachineArn', {
      description: 'The response workflow: `cordon` starts executions here',
      value: this.workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'ReleaseStateMachineArn', {
      description: 'The release workflow: `cordon release` and the API start executions here (input: a ReleaseRequest)',
      value: this.release.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'EvidenceBucketName', {
      description: 'Evidence bucket (Object Lock): incident manifests, before/after state, flow logs',
      value: bucket.bucketName,
    });
    new CfnOutput(this, 'TopicArn', { description: 'Incident notifications', value: topic.topicArn });
    new CfnOutput(this, 'LedgerTableName', { description: 'Incident ledger', value: ledger.tableName });
  }
}

function pascalCase(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
