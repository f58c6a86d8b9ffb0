import { Aws, Duration, FeatureFlags, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { RESPONSE_INDEX } from '../../lambdas/shared/ledger';

/** Key prefix under which flow logs are delivered (`<prefix>/AWSLogs/<account>/…`). */
export const FLOW_LOG_PREFIX = 'flow-logs';
/** Key prefix for incident evidence written by the Lambdas. */
export const INCIDENT_PREFIX = 'incidents';
/**
 * Alias of the evidence key (contract): member `CordonResponder` policies name the
 * hub key through it (`kms:ResourceAliases`), since its ARN is unknown to them.
 */
export const EVIDENCE_KEY_ALIAS = 'alias/cordon-evidence';
/** Role in member accounts allowed to re-encrypt snapshots under the evidence key. */
const RESPONDER_ROLE = 'CordonResponder';

export interface EvidenceStoreProps {
  /**
   * Accounts whose flow logs may be delivered to the evidence bucket (the hub's own included).
   * Leave empty and set `organizationId` to admit every account in the organization.
   */
  readonly sourceAccounts: readonly string[];
  /**
   * Accounts other than the hub whose `CordonResponder` may use the evidence key to
   * re-encrypt snapshots (CopySnapshot) before sharing them with the hub.
   * @default - none (with `organizationId` and an empty `sourceAccounts`: every account of the organization)
   */
  readonly memberAccounts?: readonly string[];
  /**
   * Organization admitted for flow-log delivery when `sourceAccounts` is empty.
   * Uses `aws:SourceOrgID`, which AWS does not document for log delivery (docs/design.md §3):
   * prefer an explicit account list.
   * @default - none: only `sourceAccounts`
   */
  readonly organizationId?: string;
  /**
   * Object Lock default retention mode.
   * @default 'GOVERNANCE'
   */
  readonly objectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  /**
   * Object Lock default retention, in days.
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * The only principal allowed to delete evidence objects or versions.
   * @default - nobody may delete evidence
   */
  readonly breakGlassRoleArn?: string;
  /**
   * Email addresses subscribed to the incident topic.
   * @default - none
   */
  readonly notificationEmails?: readonly string[];
  /**
   * Days server access logs of the evidence bucket are kept.
   * @default 365
   */
  readonly accessLogRetentionDays?: number;
}

/**
 * Where evidence and incident state live (docs/design.md §4): the evidence KMS key,
 * the Object-Locked evidence bucket (which also receives VPC flow logs from the
 * member accounts), its separate server-access-log bucket, the incident ledger
 * table and the incident SNS topic. Everything is retained on stack deletion.
 */
export class EvidenceStore extends Construct {
  /** Customer managed key encrypting the bucket, the ledger and the topic (rotation on). */
  public readonly key: kms.Key;
  /** Evidence bucket: versioned, Object Lock, SSE-KMS, TLS only, deletes denied. */
  public readonly bucket: s3.Bucket;
  /** Receives the evidence bucket's server access logs (never the evidence bucket itself). */
  public readonly accessLogBucket: s3.Bucket;
  /** Incident ledger: `pk`/`sk` string keys, PITR on. */
  public readonly ledger: dynamodb.Table;
  /** Incident notifications. */
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: EvidenceStoreProps) {
    super(scope, id);
    if (props.sourceAccounts.length === 0 && !props.organizationId) {
      throw new Error(
        `EvidenceStore ${id}: sourceAccounts is empty and no organizationId is set; pass at least the hub account ` +
          'so flow logs can be delivered',
      );
    }
    if (!FeatureFlags.of(this).isEnabled(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY)) {
      throw new Error(
        `EvidenceStore ${id}: set the feature flag "${cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY}": true in cdk.json ` +
          'context; the access-log bucket must admit log delivery by bucket policy, not ACLs',
      );
    }
    const stack = Stack.of(this);
    const retentionDays = props.retentionDays ?? 90;
    const mode = props.objectLockMode ?? 'GOVERNANCE';

    this.key = new kms.Key(this, 'Key', {
      description: 'cordon evidence: bucket, ledger, topic, flow-log delivery and evidence snapshots',
      alias: EVIDENCE_KEY_ALIAS,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.allowMemberSnapshotCopies(props);

    // Flow-log delivery to an SSE-KMS bucket (VPC User Guide, "Amazon S3 bucket permissions for flow logs";
    // CloudWatch Logs User Guide, "Logs sent to Amazon S3": Amazon S3 bucket server-side encryption).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowFlowLogDeliveryToUseTheKey',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: this.deliverySourceConditions(props),
      }),
    );
    // CloudWatch alarms publish to the encrypted topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(props.accessLogRetentionDays ?? 365) }],
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        mode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(retentionDays))
          : s3.ObjectLockRetention.governance(Duration.days(retentionDays)),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyEvidenceDeletion',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: props.breakGlassRoleArn
          ? { ArnNotEquals: { 'aws:PrincipalArn': props.breakGlassRoleArn } }
          : undefined,
      }),
    );

    const delivery = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
    const deliveryConditions = this.deliverySourceConditions(props);
    const flowLogObjects =
      props.sourceAccounts.length > 0
        ? props.sourceAccounts.map((a) => this.bucket.arnForObjects(`${FLOW_LOG_PREFIX}/AWSLogs/${a}/*`))
        : [this.bucket.arnForObjects(`${FLOW_LOG_PREFIX}/AWSLogs/*`)];
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AWSLogDeliveryWrite',
        principals: [delivery],
        actions: ['s3:PutObject'],
        resources: flowLogObjects,
        conditions: {
          ...deliveryConditions,
          StringEquals: {
            ...deliveryConditions.StringEquals,
            's3:x-amz-acl': 'bucket-owner-full-control',
          },
        },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AWSLogDeliveryAclCheck',
        principals: [delivery],
        actions: ['s3:GetBucketAcl', 's3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: deliveryConditions,
      }),
    );

    this.ledger = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Responses by their public id (the request id), for `cordon status` and GET /v1/responses/{id}.
    this.ledger.addGlobalSecondaryIndex({
      indexName: RESPONSE_INDEX,
      partitionKey: { name: 'responseId', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'cordon incidents',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.notificationEmails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }

  /**
   * Cross-account snapshot copies (docs/design.md §3.3, Snapshots): member `CordonResponder`
   * roles may use the key through EC2 only, with exactly the actions EBS documents for
   * using a key (never any that manage it); grants only for AWS resources.
   */
  private allowMemberSnapshotCopies(props: EvidenceStoreProps): void {
    const members = props.memberAccounts ?? [];
    const orgOnly = props.sourceAccounts.length === 0 && props.organizationId !== undefined;
    if (members.length === 0 && !orgOnly) return;
    const principals = orgOnly ? [new iam.AnyPrincipal()] : members.map((a) => new iam.AccountPrincipal(a));
    const who = {
      ArnLike: { 'aws:PrincipalArn': `arn:${Aws.PARTITION}:iam::*:role/${RESPONDER_ROLE}` },
      StringEquals: {
        'kms:ViaService': `ec2.${Aws.REGION}.amazonaws.com`,
        ...(orgOnly ? { 'aws:PrincipalOrgID': props.organizationId } : {}),
      },
    };
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowMemberRespondersToReEncryptSnapshots',
        principals,
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'],
        resources: ['*'],
        conditions: who,
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowMemberRespondersGrantsForEbs',
        principals,
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { ...who, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
  }

  /**
   * Confused-deputy conditions for `delivery.logs.amazonaws.com`: the listed source
   * accounts (and their log-delivery ARNs), or, with only an organization, `aws:SourceOrgID`.
   */
  private deliverySourceConditions(props: EvidenceStoreProps): {
    StringEquals: Record<string, unknown>;
    ArnLike?: Record<string, unknown>;
  } {
    if (props.sourceAccounts.length > 0) {
      return {
        StringEquals: { 'aws:SourceAccount': [...props.sourceAccounts] },
        ArnLike: { 'aws:SourceArn': props.sourceAccounts.map((a) => `arn:${Aws.PARTITION}:logs:*:${a}:*`) },
      };
    }
    return { StringEquals: { 'aws:SourceOrgID': props.organizationId } };
  }
}
