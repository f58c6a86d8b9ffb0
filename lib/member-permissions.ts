/**
 * What `CordonResponder` (lib/member-stack.ts) may do in a member account, besides each containment
 * action's own permissions (lib/actions.ts `ACTION_INFRA`): reading the instance, the evidence and
 * lifecycle steps every response takes, release, and the explicit denies. Every remaining wildcard is
 * acknowledged in {@link wildcardAcknowledgements}, with its row in docs/iam.md.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { EVIDENCE_KEY_ALIAS } from './constructs/evidence-store';
import { RESPONDER_ROLE_NAME } from './functions';

/** Tag on every security group cordon creates; its SG mutations are limited to groups carrying it. */
export const MANAGED_TAG_KEY = 'cordon:managed';
export const MANAGED_TAG_VALUE = 'true';

/** Actions cordon never needs and must never gain: evidence is never destroyed. */
export const DENIED_ACTIONS = ['ec2:TerminateInstances', 'ec2:DeleteVolume', 'ec2:DeleteFlowLogs'];
/** Only cordon's own temporary member-side snapshot copies may be deleted (after the hub has its copy). */
export const TEMPORARY_TAG_KEY = 'cordon:temporary';

type Conditions = Record<string, Record<string, unknown>>;

/** The names a member policy statement is built from. */
export interface MemberPolicyContext {
  readonly partition: string;
  /** This (member) account: always the pseudo parameter, so acknowledged finding ids don't depend on the synth environment. */
  readonly account: string;
  readonly hubAccount: string;
  readonly regions: readonly string[];
  /** `arn:<partition>:ec2:<region>:<account>:<type>/*`, one per configured region. */
  readonly ec2: (type: string) => string[];
  /** Snapshot ARNs (they carry no account), one per configured region. */
  readonly snapshots: string[];
  /** `aws:RequestedRegion` is one of the configured regions. */
  readonly inRegions: Conditions;
  /** The resource carries `cordon:managed=true`. */
  readonly managedResource: Conditions;
  /** The hub evidence key, by ARN where configured (issue 3), otherwise by its alias in the remaining regions. */
  readonly keyGroups: ReadonlyArray<{ readonly sid: string; readonly resources: string[]; readonly conditions: Conditions }>;
  /** Regions whose evidence key is named by alias (no `evidenceKeyArn` for them). */
  readonly aliasKeyRegions: readonly string[];
  /** The configured protected role-name patterns (lib/config.ts `protectedRoles`), besides {@link ALWAYS_PROTECTED_ROLES}. */
  readonly protectedRoles: readonly string[];
}

/** Roles never written to whatever the configuration says: cordon's own, service-linked and IAM Identity Center roles. */
export const ALWAYS_PROTECTED_ROLES = [RESPONDER_ROLE_NAME, 'cordon-*', 'aws-service-role/*', 'aws-reserved/*'] as const;

/** Every IAM write to a role that could widen what it may do, or hand it on: none may touch a protected role. */
export const PROTECTED_ROLE_ACTIONS = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:DeleteRole',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:PassRole',
];

/**
 * Instance attributes cordon never changes that EC2 names by an `ec2:Attribute/<name>` key (primitive values
 * and `Value`-only objects). Block-device mappings (preserve's DeleteOnTermination=false) are a list of objects,
 * which the key can't describe (docs/iam.md), so they are allowed by the absence of every one of these.
 */
export const UNCHANGED_INSTANCE_ATTRIBUTES = [
  'UserData',
  'InstanceType',
  'Kernel',
  'Ramdisk',
  'SourceDestCheck',
  'SriovNetSupport',
  'EnaSupport',
  'EbsOptimized',
  'DisableApiStop',
  'DisableApiTermination',
  'InstanceInitiatedShutdownBehavior',
] as const;

/**
 * Role ARNs for role-name patterns: each at the root path and at any path (`role/*\/<name>`), since IAM
 * Identity Center and many landing zones put their roles under a path. Path patterns (with `/`) as given.
 */
export function protectedRoleArns(partition: string, account: string, patterns: readonly string[]): string[] {
  return patterns.flatMap((p) =>
    p.includes('/') ? [`arn:${partition}:iam::${account}:role/${p}`] : [`arn:${partition}:iam::${account}:role/${p}`, `arn:${partition}:iam::${account}:role/*/${p}`],
  );
}

export function memberPolicyContext(
  partition: string,
  account: string,
  hubAccount: string,
  regions: readonly string[],
  evidenceKeyArns: Readonly<Record<string, string>>,
  protectedRoles: readonly string[] = [],
): MemberPolicyContext {
  const aliasKeyRegions = regions.filter((region) => !evidenceKeyArns[region]);
  const viaEc2 = { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } };
  const keyGroups: Array<{ sid: string; resources: string[]; conditions: Conditions }> = [];
  if (Object.keys(evidenceKeyArns).length > 0) {
    keyGroups.push({ sid: 'ByArn', resources: Object.values(evidenceKeyArns), conditions: viaEc2 });
  }
  if (aliasKeyRegions.length > 0) {
    keyGroups.push({
      sid: 'ByAlias',
      resources: aliasKeyRegions.map((region) => `arn:${partition}:kms:${region}:${hubAccount}:key/*`),
      conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': EVIDENCE_KEY_ALIAS }, ...viaEc2 },
    });
  }
  return {
    partition,
    account,
    hubAccount,
    regions,
    ec2: (type) => regions.map((region) => `arn:${partition}:ec2:${region}:${account}:${type}/*`),
    snapshots: regions.map((region) => `arn:${partition}:ec2:${region}::snapshot/*`),
    inRegions: { StringEquals: { 'aws:RequestedRegion': [...regions] } },
    managedResource: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE } },
    keyGroups,
    aliasKeyRegions,
    protectedRoles,
  };
}

/** Every function reads the instance and what surrounds it (capture-state, record, release-load above all). */
export function describeStatements(c: MemberPolicyContext): iam.PolicyStatement[] {
  return [
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
      conditions: c.inRegions,
    }),
  ];
}

/** The steps every response takes whatever its actions: collect-evidence, protect, preserve; and release's. */
export function responseStatements(c: MemberPolicyContext): iam.PolicyStatement[] {
  const { partition, account } = c;
  return [
    // Console output and screenshot, stored as evidence by the hub.
    new iam.PolicyStatement({
      sid: 'ReadConsoleEvidence',
      actions: ['ec2:GetConsoleOutput', 'ec2:GetConsoleScreenshot'],
      resources: c.ec2('instance'),
    }),
    // Termination protection (protect; release restores it) and instance-initiated shutdown (preserve: stop;
    // release restores it), and nothing else: `ec2:Attribute/<name>` is set only when the request changes that
    // attribute (EC2 User Guide, "ec2:Attribute condition key"), so user data, instance type, kernel, source/dest
    // check or groups are not allowed.
    new iam.PolicyStatement({
      sid: 'SetTerminationProtection',
      actions: ['ec2:ModifyInstanceAttribute'],
      resources: c.ec2('instance'),
      conditions: { StringEquals: { 'ec2:Attribute/DisableApiTermination': ['true', 'false'] } },
    }),
    new iam.PolicyStatement({
      sid: 'SetShutdownBehavior',
      actions: ['ec2:ModifyInstanceAttribute'],
      resources: c.ec2('instance'),
      conditions: { StringEquals: { 'ec2:Attribute/InstanceInitiatedShutdownBehavior': ['stop', 'terminate'] } },
    }),
    // Preserve keeps each volume (DeleteOnTermination=false) and release restores it: a block-device mapping, which
    // no ec2:Attribute key names. Allowed only when the request names none of the attributes above, nor the
    // legacy Attribute/Value form (ec2:Attribute).
    new iam.PolicyStatement({
      sid: 'KeepVolumesOnTermination',
      actions: ['ec2:ModifyInstanceAttribute'],
      resources: c.ec2('instance'),
      conditions: {
        Null: Object.fromEntries([
          ['ec2:Attribute', 'true'],
          ...UNCHANGED_INSTANCE_ATTRIBUTES.map((name) => [`ec2:Attribute/${name}`, 'true']),
        ]),
      },
    }),
    new iam.PolicyStatement({
      sid: 'DetachInstanceProfile',
      actions: ['ec2:DisassociateIamInstanceProfile'],
      resources: c.ec2('instance'),
    }),
    // Release (docs/design.md §3.5): associate the instance profile again — which passes its role to EC2 —
    // and delete cordon's policy from the role once nothing is left in it.
    new iam.PolicyStatement({
      sid: 'ReassociateInstanceProfile',
      actions: ['ec2:AssociateIamInstanceProfile'],
      resources: c.ec2('instance'),
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
      resources: c.regions.map((region) => `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/*`),
    }),
    // Preserve: take the instance out of the target groups it is registered in directly.
    new iam.PolicyStatement({
      sid: 'DeregisterFromTargetGroups',
      actions: ['elasticloadbalancing:DeregisterTargets'],
      resources: c.regions.map((region) => `arn:${partition}:elasticloadbalancing:${region}:${account}:targetgroup/*/*`),
    }),
  ];
}

/** The denies, last: whatever is added above later, these hold. */
export function guardStatements(c: MemberPolicyContext): iam.PolicyStatement[] {
  const { partition, account } = c;
  return [
    // iam:PutRolePolicy and DeleteRolePolicy can't be limited by policy name or content, nor PassRole by role:
    // keep every role write off the roles that matter (lib/config.ts `protectedRoles`).
    new iam.PolicyStatement({
      sid: 'NeverEditProtectedRoles',
      effect: iam.Effect.DENY,
      actions: [...PROTECTED_ROLE_ACTIONS],
      resources: [
        ...protectedRoleArns(partition, account, ALWAYS_PROTECTED_ROLES),
        ...protectedRoleArns(partition, account, c.protectedRoles),
      ],
    }),
    // Evidence leaves the account for the hub only, never publicly (Service Authorization Reference, EC2:
    // ModifySnapshotAttribute supports ec2:Add/userId and ec2:Add/group). Whatever is allowed above later.
    new iam.PolicyStatement({
      sid: 'NeverShareSnapshotsPublicly',
      effect: iam.Effect.DENY,
      actions: ['ec2:ModifySnapshotAttribute'],
      resources: ['*'],
      conditions: { Null: { 'ec2:Add/group': 'false' } },
    }),
    new iam.PolicyStatement({
      sid: 'NeverShareSnapshotsOutsideHub',
      effect: iam.Effect.DENY,
      actions: ['ec2:ModifySnapshotAttribute'],
      resources: ['*'],
      conditions: { Null: { 'ec2:Add/userId': 'false' }, StringNotEquals: { 'ec2:Add/userId': c.hubAccount } },
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
      resources: c.snapshots,
      conditions: {
        'ForAnyValue:StringEquals': { 'aws:TagKeys': [TEMPORARY_TAG_KEY] },
        StringNotEquals: { 'ec2:CreateAction': 'CopySnapshot' },
      },
    }),
  ];
}

/**
 * The IAM5 findings of {@link CordonMemberStack}'s policy, each named exactly.
 * Every one has a row in docs/iam.md with its reason and compensating control.
 */
export function wildcardAcknowledgements(
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
        'The compromised instance role is only known at incident time; every role write and PassRole is denied on the protected roles (CordonResponder, cordon-*, service-linked, SSO and the protectedRoles list), and PassRole only to ec2.amazonaws.com',
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
        reason:
          'The target instance is only known at incident time; ModifyInstanceAttribute only for termination protection and shutdown behaviour (ec2:Attribute/<name>), TerminateInstances explicitly denied',
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
