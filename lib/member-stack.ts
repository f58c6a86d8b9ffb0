import { Aws, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { CordonConfig } from './config';
import { EVIDENCE_KEY_ALIAS } from './constructs/evidence-store';
import { RESPONDERS, RESPONDER_ROLE_NAME, hubRoleName } from './responders';

/** Tag on every security group cordon creates; its SG mutations are limited to groups carrying it. */
export const MANAGED_TAG_KEY = 'cordon:managed';
export const MANAGED_TAG_VALUE = 'true';

/** Actions cordon never needs and must never gain: evidence is never destroyed. */
export const DENIED_ACTIONS = ['ec2:TerminateInstances', 'ec2:DeleteVolume', 'ec2:DeleteFlowLogs'];
/** Only cordon's own temporary member-side snapshot copies may be deleted (after the hub has its copy). */
export const TEMPORARY_TAG_KEY = 'cordon:temporary';

export interface CordonMemberStackProps extends StackProps {
  /** The parsed configuration (lib/config.ts `loadConfig`). */
  readonly config: CordonConfig;
}

/**
 * The member side (DESIGN.md §1): deployed once per account (one region; IAM is
 * global), the hub account included. Creates `CordonResponder`, trusted only by
 * the hub's Lambda roles that act in member accounts (exact ARNs for every
 * configured region, plus `aws:PrincipalOrgID` with an organization), holding
 * only what containment needs. Every remaining wildcard is listed in docs/iam.md.
 */
export class CordonMemberStack extends Stack {
  public readonly role: iam.Role;
  /** The exact hub role ARNs trusted to assume {@link role}. */
  public readonly trustedRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: CordonMemberStackProps) {
    super(scope, id, props);
    const { config } = props;
    const hubAccount = config.hubAccount ?? this.account;
    const partition = Aws.PARTITION;
    // Always the pseudo parameter, so the acknowledged finding ids do not depend on the synth environment.
    const account = Aws.ACCOUNT_ID;

    this.trustedRoleArns = config.regions.flatMap((region) =>
      RESPONDERS.filter((r) => r.actsInMemberAccounts).map(
        (r) => `arn:${partition}:iam::${hubAccount}:role/${hubRoleName(r.name, region)}`,
      ),
    );
    const trustConditions: Record<string, Record<string, unknown>> = {
      ArnEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns] },
    };
    if (config.organizationId) {
      trustConditions.StringEquals = { 'aws:PrincipalOrgID': config.organizationId };
    }

    this.role = new iam.Role(this, 'Responder', {
      roleName: RESPONDER_ROLE_NAME,
      description: 'cordon: contains compromised EC2 instances on behalf of the cordon hub (docs/iam.md)',
      assumedBy: new iam.AccountPrincipal(hubAccount).withConditions(trustConditions),
      maxSessionDuration: Duration.hours(1),
    });

    // Resource ARNs per configured region, in this account.
    const ec2 = (type: string): string[] =>
      config.regions.map((region) => `arn:${partition}:ec2:${region}:${account}:${type}/*`);
    const inRegions = { StringEquals: { 'aws:RequestedRegion': [...config.regions] } };
    const managedResource = { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE } };
    // Snapshot ARNs carry no account.
    const snapshots = config.regions.map((region) => `arn:${partition}:ec2:${region}::snapshot/*`);
    // The hub evidence key of each region: by ARN where configured (issue 3), otherwise by its alias as a fallback.
    const keyArns = config.evidenceKeyArns;
    const aliasRegions = config.regions.filter((region) => !keyArns[region]);
    const viaEc2 = { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } };
    const keyGroups: Array<{ sid: string; resources: string[]; conditions: Record<string, Record<string, unknown>> }> = [];
    if (Object.keys(keyArns).length > 0) {
      keyGroups.push({ sid: 'ByArn', resources: Object.values(keyArns), conditions: viaEc2 });
    }
    if (aliasRegions.length > 0) {
      keyGroups.push({
        sid: 'ByAlias',
        resources: aliasRegions.map((region) => `arn:${partition}:kms:${region}:${hubAccount}:key/*`),
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': EVIDENCE_KEY_ALIAS }, ...viaEc2 },
      });
    }

    const statements = [
      new iam.PolicyStatement({
        sid: 'DescribeForContainment',
        actions: [
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceAttribute',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSecurityGroupRules',
          'ec2:DescribeIamInstanceProfileAssociations',
          'ec2:DescribeFlowLogs',
          'ec2:DescribeVolumes',
          'ec2:DescribeSnapshots',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
        ],
        resources: ['*'],
        conditions: inRegions,
      }),
      // Isolation groups: created only with the managed tag, in the target VPC.
      new iam.PolicyStatement({
        sid: 'CreateIsolationGroupInVpc',
        actions: ['ec2:CreateSecurityGroup'],
        resources: ec2('vpc'),
      }),
      new iam.PolicyStatement({
        sid: 'CreateIsolationGroupTagged',
        actions: ['ec2:CreateSecurityGroup'],
        resources: ec2('security-group'),
        conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE } },
      }),
      new iam.PolicyStatement({
        sid: 'TagIsolationGroupOnCreate',
        actions: ['ec2:CreateTags'],
        resources: ec2('security-group'),
        conditions: {
          StringEquals: {
            'ec2:CreateAction': 'CreateSecurityGroup',
            [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE,
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'EditManagedGroupRules',
        actions: [
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        resources: ec2('security-group'),
        conditions: managedResource,
      }),
      // Swap each ENI's groups and lower its connection-tracking timeout.
      new iam.PolicyStatement({
        sid: 'IsolateNetworkInterfaces',
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        resources: [...ec2('network-interface'), ...ec2('security-group'), ...ec2('instance'), ...ec2('vpc')],
      }),
      // Console output and screenshot, stored as evidence by the hub.
      new iam.PolicyStatement({
        sid: 'ReadConsoleEvidence',
        actions: ['ec2:GetConsoleOutput', 'ec2:GetConsoleScreenshot'],
        resources: ec2('instance'),
      }),
      // Termination protection and instance-initiated shutdown → stop; disassociate the instance profile.
      new iam.PolicyStatement({
        sid: 'PreserveInstance',
        actions: ['ec2:ModifyInstanceAttribute', 'ec2:DisassociateIamInstanceProfile'],
        resources: ec2('instance'),
      }),
      new iam.PolicyStatement({
        sid: 'CreateFlowLogs',
        actions: ['ec2:CreateFlowLogs'],
        resources: [...ec2('vpc'), ...ec2('network-interface'), ...ec2('vpc-flow-log')],
      }),
      new iam.PolicyStatement({
        sid: 'TagFlowLogOnCreate',
        actions: ['ec2:CreateTags'],
        resources: ec2('vpc-flow-log'),
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateFlowLogs' } },
      }),
      // Flow logs to S3 are delivered by CloudWatch Logs' log delivery on behalf of the creator.
      new iam.PolicyStatement({
        sid: 'FlowLogDelivery',
        actions: ['logs:CreateLogDelivery', 'logs:DeleteLogDelivery'],
        resources: ['*'],
      }),
      // Crash-consistent snapshots of every volume, tagged cordon:managed at creation.
      new iam.PolicyStatement({
        sid: 'SnapshotInstanceVolumes',
        actions: ['ec2:CreateSnapshots'],
        resources: [...ec2('instance'), ...ec2('volume')],
      }),
      new iam.PolicyStatement({
        sid: 'CreateManagedSnapshots',
        actions: ['ec2:CreateSnapshots'],
        resources: snapshots,
        conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE } },
      }),
      new iam.PolicyStatement({
        sid: 'TagSnapshotsOnCreate',
        actions: ['ec2:CreateTags'],
        resources: snapshots,
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
      }),
      // After creation, only the volume and device tags, and only on cordon's snapshots: nothing can relabel a
      // snapshot as temporary (that tag is set only when CopySnapshot creates the copy).
      new iam.PolicyStatement({
        sid: 'TagManagedSnapshots',
        actions: ['ec2:CreateTags'],
        resources: snapshots,
        conditions: { ...managedResource, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['cordon:volume', 'cordon:device'] } },
      }),
      new iam.PolicyStatement({
        sid: 'RemoveTemporaryCopies',
        actions: ['ec2:DeleteSnapshot'],
        resources: snapshots,
        conditions: {
          StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE, [`aws:ResourceTag/${TEMPORARY_TAG_KEY}`]: 'true' },
        },
      }),
      // Re-encrypt each snapshot under the hub evidence key, then share the copy with the hub.
      new iam.PolicyStatement({
        sid: 'CopySnapshotsToEvidenceKey',
        actions: ['ec2:CopySnapshot'],
        resources: snapshots,
      }),
      new iam.PolicyStatement({
        sid: 'TagSnapshotCopiesOnCreate',
        actions: ['ec2:CreateTags'],
        resources: snapshots,
        conditions: { StringEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
      }),
      new iam.PolicyStatement({
        sid: 'ShareManagedSnapshotsWithHub',
        actions: ['ec2:ModifySnapshotAttribute'],
        resources: snapshots,
        conditions: managedResource,
      }),
      // The hub evidence key: the EBS actions only, through EC2 only.
      ...keyGroups.flatMap((g) => [
        new iam.PolicyStatement({
          sid: `UseEvidenceKeyForSnapshots${g.sid}`,
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'],
          resources: g.resources,
          conditions: g.conditions,
        }),
        new iam.PolicyStatement({
          sid: `GrantEvidenceKeyToEbs${g.sid}`,
          actions: ['kms:CreateGrant'],
          resources: g.resources,
          conditions: { ...g.conditions, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ]),
      new iam.PolicyStatement({
        sid: 'ReadInstanceRole',
        actions: ['iam:GetInstanceProfile'],
        resources: [`arn:${partition}:iam::${account}:instance-profile/*`],
      }),
      // Quarantine: a deny-all inline policy conditioned on ec2:SourceInstanceARN.
      new iam.PolicyStatement({
        sid: 'QuarantineInstanceRole',
        actions: ['iam:GetRole', 'iam:ListInstanceProfilesForRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
        resources: [`arn:${partition}:iam::${account}:role/*`],
      }),
      // Release (DESIGN.md §3 "Release"): associate the instance profile again — which passes its role to EC2 —
      // and delete cordon's policy from the role once nothing is left in it.
      new iam.PolicyStatement({
        sid: 'ReassociateInstanceProfile',
        actions: ['ec2:AssociateIamInstanceProfile'],
        resources: ec2('instance'),
      }),
      new iam.PolicyStatement({
        sid: 'PassInstanceRoleToEc2',
        actions: ['iam:PassRole'],
        resources: [`arn:${partition}:iam::${account}:role/*`],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
      new iam.PolicyStatement({
        sid: 'ReleaseQuarantinePolicy',
        actions: ['iam:DeleteRolePolicy'],
        resources: [`arn:${partition}:iam::${account}:role/*`],
      }),
      new iam.PolicyStatement({
        sid: 'DetachFromAutoScaling',
        actions: ['autoscaling:DetachInstances'],
        resources: config.regions.map(
          (region) => `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/*`,
        ),
      }),
      // Preserve: take the instance out of the target groups it is registered in directly.
      new iam.PolicyStatement({
        sid: 'DeregisterFromTargetGroups',
        actions: ['elasticloadbalancing:DeregisterTargets'],
        resources: config.regions.map(
          (region) => `arn:${partition}:elasticloadbalancing:${region}:${account}:targetgroup/*/*`,
        ),
      }),
      // iam:PutRolePolicy and DeleteRolePolicy can't be limited by policy name or content, nor PassRole by role:
      // keep them off the roles that matter.
      new iam.PolicyStatement({
        sid: 'NeverEditPrivilegedRoles',
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:PassRole'],
        resources: [
          `arn:${partition}:iam::${account}:role/${RESPONDER_ROLE_NAME}`,
          `arn:${partition}:iam::${account}:role/cordon-*`,
          `arn:${partition}:iam::${account}:role/aws-service-role/*`,
          `arn:${partition}:iam::${account}:role/aws-reserved/*`,
        ],
      }),
      // Belt and braces: cordon never destroys evidence, whatever is added above later.
      new iam.PolicyStatement({
        sid: 'NeverDestroyEvidence',
        effect: iam.Effect.DENY,
        actions: [...DENIED_ACTIONS],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'NeverDeleteEvidenceSnapshots',
        effect: iam.Effect.DENY,
        actions: ['ec2:DeleteSnapshot'],
        resources: ['*'],
        conditions: { StringNotEquals: { [`aws:ResourceTag/${TEMPORARY_TAG_KEY}`]: 'true' } },
      }),
      new iam.PolicyStatement({
        sid: 'NeverRelabelSnapshotsTemporary',
        effect: iam.Effect.DENY,
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: snapshots,
        conditions: {
          'ForAnyValue:StringEquals': { 'aws:TagKeys': [TEMPORARY_TAG_KEY] },
          StringNotEquals: { 'ec2:CreateAction': 'CopySnapshot' },
        },
      }),
    ];
    const policy = new iam.Policy(this, 'ResponderPolicy', {
      policyName: 'cordon-containment',
      roles: [this.role],
      statements,
    });

    Validations.of(policy).acknowledge(...wildcardAcknowledgements(config.regions, hubAccount, aliasRegions));
  }
}

/**
 * The IAM5 findings of {@link CordonMemberStack}'s policy, each named exactly.
 * Every one has a row in docs/iam.md with its reason and compensating control.
 */
function wildcardAcknowledgements(
  regions: readonly string[],
  hubAccount: string,
  aliasKeyRegions: readonly string[],
): { id: string; reason: string }[] {
  const hub = /^\d{12}$/.test(hubAccount) ? hubAccount : '<AWS::AccountId>';
  const acks = [
    {
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason: 'EBS re-encrypts snapshot copies under the hub evidence key (ReEncryptFrom/To), the action set EBS documents',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'EC2/Auto Scaling Describe* and logs:CreateLogDelivery/DeleteLogDelivery support no resource-level permissions; Describe is limited by aws:RequestedRegion',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*]',
      reason: 'The target instance profile is only known at incident time; read-only',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]',
      reason:
        'The compromised instance role is only known at incident time; PutRolePolicy, DeleteRolePolicy and PassRole are denied on CordonResponder, cordon-*, service-linked and SSO roles, and PassRole only to ec2.amazonaws.com',
    },
  ];
  for (const region of regions) {
    const arn = (type: string): string => `arn:<AWS::Partition>:ec2:${region}:<AWS::AccountId>:${type}/*`;
    acks.push(
      {
        id: `AwsSolutions-IAM5[Resource::${arn('vpc')}]`,
        reason: 'Isolation groups and flow logs are created in the target instance VPC, known only at incident time',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${arn('security-group')}]`,
        reason:
          'Create requires the cordon:managed request tag and rule edits require the cordon:managed resource tag; ENI group swaps name arbitrary original groups',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${arn('network-interface')}]`,
        reason: 'Every ENI of the target instance is isolated; the instance is only known at incident time',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${arn('instance')}]`,
        reason: 'The target instance is only known at incident time; TerminateInstances is explicitly denied',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${arn('volume')}]`,
        reason: 'Snapshots cover every volume of the target instance; DeleteVolume is explicitly denied',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${region}::snapshot/*]`,
        reason:
          'New snapshots must carry the cordon:managed request tag, later tags need the cordon:managed resource tag, and DeleteSnapshot is denied unless the snapshot is a cordon:temporary=true copy',
      },
      ...(!aliasKeyRegions.includes(region)
        ? []
        : [
            {
              id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:${hub}:key/*]`,
              reason:
                'Fallback until cordon.evidenceKeyArn is configured: the hub key is named by kms:ResourceAliases alias/cordon-evidence, used via EC2 only',
            },
          ]),
      {
        id: `AwsSolutions-IAM5[Resource::${arn('vpc-flow-log')}]`,
        reason: 'Flow logs are created for the target VPC or ENIs; DeleteFlowLogs is explicitly denied',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/*]`,
        reason: 'The target instance Auto Scaling group is only known at incident time; detach keeps capacity (no terminate)',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:${region}:<AWS::AccountId>:targetgroup/*/*]`,
        reason: 'The target groups the instance is registered in are only known at incident time; deregistration only, no delete',
      },
    );
  }
  return acks;
}
