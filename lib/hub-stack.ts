import { Aws, CfnOutput, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { usesOrganizationOnly, type CordonConfig } from './config';
import { EvidenceStore, INCIDENT_PREFIX } from './constructs/evidence-store';
import { CordonApi } from './constructs/api';
import { Intake, type IntakePolicy } from './constructs/intake';
import { nagRef } from './constructs/nag';
import { ApprovalGate } from './constructs/approval-gate';
import { ResponderFunction } from './constructs/responder-function';
import { ReleaseWorkflow } from './constructs/release-workflow';
import { ResponseWorkflow } from './constructs/response-workflow';
import { RESPONDERS, RESPONDER_ROLE_NAME } from './responders';

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
 * The hub (DESIGN.md §1): deployed to the security account in every configured
 * region. Holds the evidence store, one ResponderFunction per `RESPONDERS` entry,
 * the response workflow, the release workflow and the GuardDuty intake. Its Lambdas hold no EC2 or IAM
 * write permissions: every target-account action goes through `CordonResponder`
 * (lib/member-stack.ts), the hub account included.
 */
export class CordonHubStack extends Stack {
  public readonly evidence: EvidenceStore;
  /** Every responder function except intake, by `RESPONDERS` name. */
  public readonly functions: Readonly<Record<string, ResponderFunction>>;
  public readonly workflow: ResponseWorkflow;
  /** The release workflow (DESIGN.md §3 "Release"). */
  public readonly release: ReleaseWorkflow;
  /** The approval gate: `approvalGate.grantDecide(x)` lets the API or a responder role approve and deny. */
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

    const extraEnv: Record<string, Record<string, string>> = {
      'capture-state': {
        LEDGER_TABLE: ledger.tableName,
        EVIDENCE_BUCKET: bucket.bucketName,
        EXEMPT_TAG_KEY: config.exemptionTag.key,
        EXEMPT_TAG_VALUE: config.exemptionTag.value,
        SETTLE_SECONDS: String(config.settleSeconds),
        APPROVAL_REQUIRED_FOR_TAGS: JSON.stringify(config.approval.requiredForTags),
        APPROVAL_TIMEOUT_SECONDS: String(config.approval.timeoutSeconds),
        APPROVAL_ON_TIMEOUT: config.approval.onTimeout,
      },
      'await-approval': { LEDGER_TABLE: ledger.tableName, TOPIC_ARN: topic.topicArn },
      'collect-evidence': { EVIDENCE_BUCKET: bucket.bucketName },
      isolate: { TCP_ESTABLISHED_TIMEOUT: String(config.tcpEstablishedTimeoutSeconds), LEDGER_TABLE: ledger.tableName },
      'quarantine-role': { REVOKE_SESSIONS: config.revokeSessions },
      'flow-logs': { FLOW_LOG_BUCKET_ARN: bucket.bucketArn },
      'share-snapshot': { EVIDENCE_KEY_ARN: key.keyArn, SNAPSHOT_MAX_HOURS: String(config.snapshotMaxHours) },
      snapshot: { SNAPSHOT_MAX_HOURS: String(config.snapshotMaxHours) },
      record: { LEDGER_TABLE: ledger.tableName, EVIDENCE_BUCKET: bucket.bucketName, TOPIC_ARN: topic.topicArn },
      'release-load': { LEDGER_TABLE: ledger.tableName },
      'release-record': { LEDGER_TABLE: ledger.tableName, EVIDENCE_BUCKET: bucket.bucketName, TOPIC_ARN: topic.topicArn },
    };

    const responderRoleArns = orgOnly
      ? [`arn:${Aws.PARTITION}:iam::*:role/${RESPONDER_ROLE_NAME}`]
      : targetAccounts.map((a) => `arn:${Aws.PARTITION}:iam::${a}:role/${RESPONDER_ROLE_NAME}`);

    const functions: Record<string, ResponderFunction> = {};
    for (const spec of RESPONDERS) {
      if (spec.name === 'intake') continue;
      const memberEnv: Record<string, string> = spec.actsInMemberAccounts
        ? { PARTITION: Aws.PARTITION, RESPONDER_ROLE_NAME, HUB_ACCOUNT_ID: this.hubAccount }
        : {};
      const fn = new ResponderFunction(this, pascalCase(spec.name), {
        responder: spec.name,
        logRetentionDays: config.logRetentionDays,
        environment: { ...memberEnv, ...extraEnv[spec.name] },
      });
      if (spec.actsInMemberAccounts) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'AssumeCordonResponder',
            actions: ['sts:AssumeRole'],
            resources: responderRoleArns,
            conditions: orgOnly ? { StringEquals: { 'aws:ResourceOrgID': config.organizationId } } : undefined,
          }),
        );
      }
      functions[spec.name] = fn;
    }
    this.functions = functions;

    // Ledger writes: capture-state and record. Evidence writes: those two and collect-evidence.
    for (const name of LEDGER_WRITERS) {
      const fn = functions[name];
      if (!fn) continue;
      ledger.grantReadWriteData(fn);
      acknowledgePolicy(fn, [ledgerIndexAck(this.evidence)]);
    }
    for (const name of EVIDENCE_WRITERS) {
      const fn = functions[name];
      if (!fn) continue;
      bucket.grantPut(fn, `${INCIDENT_PREFIX}/*`);
      acknowledgePolicy(fn, [...EVIDENCE_KEY_ACKS, ...incidentPutAcks(this.evidence)]);
    }
    for (const name of RECORDERS) {
      const record = functions[name];
      if (!record) continue;
      topic.grantPublish(record);
      // The manifest lists every evidence object with S3's own SHA-256 (ListObjectsV2 + HeadObject).
      bucket.grantRead(record, `${INCIDENT_PREFIX}/*`);
      acknowledgePolicy(record, manifestReadAcks());
    }
    // release-load writes the ledger only (the release lock and the RELEASE item): the evidence-key findings of
    // its table grant are acknowledged here, as EVIDENCE_WRITERS does for the others.
    // isolate likewise: it records the security groups it creates (lambdas/shared/group-records.ts).
    for (const name of ['release-load', 'isolate']) {
      const fn = functions[name];
      if (fn) acknowledgePolicy(fn, EVIDENCE_KEY_ACKS);
    }
    if (orgOnly) {
      for (const fn of Object.values(functions)) {
        if (fn.spec.actsInMemberAccounts) acknowledgePolicy(fn, [ORG_ASSUME_ROLE_ACK]);
      }
    }

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

    // The finding itself is evidence: intake stores it under incidents/<id>/findings/ before starting the workflow.
    this.intake.function.addEnvironment('EVIDENCE_BUCKET', bucket.bucketName);
    bucket.grantPut(this.intake.function, `${INCIDENT_PREFIX}/*`);
    acknowledgePolicy(this.intake.function, [...EVIDENCE_KEY_ACKS, ...incidentPutAcks(this.evidence)]);

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

/** Functions that write the incident ledger. */
const LEDGER_WRITERS = ['capture-state', 'isolate', 'record', 'release-load', 'release-record'];
/** Functions that write evidence objects under `incidents/`. */
const EVIDENCE_WRITERS = ['capture-state', 'collect-evidence', 'record', 'release-record'];
/** Functions that notify and rewrite the manifest. */
const RECORDERS = ['record', 'release-record'];

interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Findings of the evidence-key grants that grantReadWriteData / grantPut / grantPublish add (docs/iam.md). */
const EVIDENCE_KEY_ACKS: readonly Acknowledgement[] = [
  {
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'Added by the ledger/bucket/topic grants, on the evidence key only: data keys for SSE-KMS writes',
  },
  {
    id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    reason: 'Added by the ledger/bucket grants, on the evidence key only; no other key is reachable',
  },
];

/** Findings of `bucket.grantPut(fn, 'incidents/*')` (docs/iam.md). */
/** grantReadWriteData covers the ledger's indexes (`<table>/index/*`): only `byResponseId` exists. */
function ledgerIndexAck(store: EvidenceStore): Acknowledgement {
  return {
    id: `AwsSolutions-IAM5[Resource::${nagRef(store.ledger)}/index/*]`,
    reason: "Added by the ledger's grantReadWriteData: the ledger's own indexes (only byResponseId), no other table",
  };
}

function incidentPutAcks(store: EvidenceStore): Acknowledgement[] {
  return [
    {
      id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
      reason: 'grantPut: abort multipart uploads of incident evidence only; deletes stay denied by the bucket policy',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${nagRef(store.bucket)}/${INCIDENT_PREFIX}/*]`,
      reason: 'Evidence keys are per incident (incidents/<id>/…); writes are limited to that prefix',
    },
  ];
}

/** Findings of `bucket.grantRead(record, 'incidents/*')`, which the manifest writer needs (docs/iam.md). */
function manifestReadAcks(): Acknowledgement[] {
  return [
    { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: 'grantRead: HeadObject with the stored SHA-256 checksum, for the manifest; incidents/ only' },
    { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', reason: 'grantRead adds bucket-level reads; they apply to the evidence bucket only' },
    { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: 'grantRead: ListObjectsV2 of an incident prefix, for the manifest; evidence bucket only' },
  ];
}

const ORG_ASSUME_ROLE_ACK: Acknowledgement = {
  id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${RESPONDER_ROLE_NAME}]`,
  reason:
    'Organization mode without a member list: CordonResponder in any account of the organization, enforced by aws:ResourceOrgID and by the member trust policy',
};

/** Acknowledge findings on the function's grant policy (its role's DefaultPolicy), never wider. */
function acknowledgePolicy(fn: ResponderFunction, acks: readonly Acknowledgement[]): void {
  const policy = fn.executionRole.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${fn.node.path}: no DefaultPolicy to acknowledge findings on`);
  Validations.of(policy).acknowledge(...acks);
}

function pascalCase(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
