/**
 * cordon's deployment configuration (docs/design.md §5).
 *
 * The `cordon` key of the CDK context (cdk.json, or `-c cordon=…`) is parsed here,
 * once per app, with zod into a typed {@link CordonConfig}. Stacks and constructs
 * receive the typed config as props; nothing else reads the context.
 *
 * With no context at all the defaults give single-account mode: the hub and the
 * only member are the deploying account, in `CDK_DEFAULT_REGION` (or us-east-1).
 */
import type { IConstruct, Node } from 'constructs';
import { z } from 'zod';
import { AccountId, Region, describeZodError } from '../lambdas/shared/schemas';
import { ProtectedRoles } from './protected-roles';

export { DEFAULT_PROTECTED_ROLES } from './protected-roles';
import { ApprovalConfig, ExemptionsConfig, unique } from './config-selectors';

/** The context key holding cordon's configuration. */
export const CONTEXT_KEY = 'cordon';

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const FindingType = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9:/!._-]+$/, 'must be a GuardDuty finding type such as Backdoor:EC2/C&CActivity.B');

const OrganizationId = z
  .string()
  .regex(/^o-[a-z0-9]{10,32}$/, 'must be an AWS Organizations id (o- followed by 10 to 32 lowercase letters or digits)');

const RoleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN (arn:aws:iam::123456789012:role/Name)');

/** An IAM role or user that may call the HTTPS API (the resource policy matches it as `aws:PrincipalArn`). */
const PrincipalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/,
    'must be an IAM role or user ARN (arn:aws:iam::123456789012:role/Name); a role matches every session of it',
  );

/**
 * The schema of the `cordon` context block. Exported for documentation and tests;
 * use {@link loadConfig} or {@link parseConfig}, which also apply the environment defaults.
 */
/** The hub evidence key of one region, by ARN. */
const KeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>)');

export const CordonConfigSchema = z
  .object({
    /**
     * The security (GuardDuty delegated administrator) account holding the hub.
     * Required in multi-account mode. In single-account mode it defaults to
     * `CDK_DEFAULT_ACCOUNT`, or to the deploying account at deploy time.
     */
    hubAccount: AccountId.optional(),
    /** Organization whose accounts may be contained when `memberAccounts` is empty. */
    organizationId: OrganizationId.optional(),
    /** Accounts besides the hub that cordon may contain. The hub is always included. */
    memberAccounts: z
      .array(AccountId)
      .refine(unique, 'must not repeat an account')
      .default([]),
    /** Regions the hub is deployed to. Default: `[CDK_DEFAULT_REGION ?? 'us-east-1']`. */
    regions: z.array(Region).min(1, 'must name at least one region').refine(unique, 'must not repeat a region').optional(),
    /** GuardDuty findings below this severity never reach intake. */
    severityThreshold: z.number().min(1, 'must be at least 1').max(8.9, 'must be at most 8.9').default(4),
    /** Finding types intake always responds to (`allow`) or always ignores (`deny`). */
    findingTypes: z
      .object({
        allow: z.array(FindingType).default([]),
        deny: z.array(FindingType).default([]),
      })
      .strict()
      .prefault({}),
    /** Instances cordon records and collects evidence from, but never isolates or quarantines. */
    exemptions: ExemptionsConfig.prefault({}),
    /** Removed: exemptions are hub configuration (`exemptions`); kept here only to refuse it with a reason. */
    exemptionTag: z.unknown().optional(),
    /** Wait between the untrack and isolation security-group swaps. */
    settleSeconds: z.number().int('must be a whole number').min(0).max(300).default(15),
    /** Established-TCP idle timeout set on each contained network interface (60 is the minimum AWS allows). */
    tcpEstablishedTimeoutSeconds: z.number().int('must be a whole number').min(60).max(432000).default(60),
    /** Revoke every earlier session of the instance role: only when no other instance uses it (`auto`), `always` or `never`. */
    revokeSessions: z.enum(['auto', 'always', 'never']).default('auto'),
    /** Default Object Lock retention of the evidence bucket. */
    objectLock: z
      .object({
        mode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default('GOVERNANCE'),
        retentionDays: z.number().int('must be a whole number').min(1).max(36500).default(90),
      })
      .strict()
      .prefault({}),
    /** The only principal allowed to delete evidence. Without it, nobody may. */
    breakGlassRoleArn: RoleArn.optional(),
    /** Role-name patterns CordonResponder may never write to, in every member account (docs/iam.md). Replaces the default list. */
    protectedRoles: ProtectedRoles,
    /**
     * The hub evidence key's ARN (the hub stack's EvidenceKeyArn output). Member stacks name the key by
     * this ARN in CordonResponder's policy; without it they fall back to the key's alias (docs/iam.md).
     */
    evidenceKeyArn: z.union([KeyArn, z.record(Region, KeyArn)]).optional(),
    /** Cap on waiting for one snapshot or snapshot copy, in hours: a several-TB volume must not fail for being slow. */
    snapshotMaxHours: z.number().int('must be a whole number').min(1).max(168).default(24),
    /** Addresses subscribed to the incident topic (each must confirm the subscription). */
    notificationEmails: z.array(z.email('must be an email address')).default([]),
    /** The HTTPS API for SOAR platforms (docs/api.md). */
    api: z
      .object({
        /** Create the API. */
        enabled: z.boolean().default(true),
        /**
         * Callers allowed by the API's resource policy, by role or user ARN, any account. Empty: no resource
         * policy; IAM auth alone applies, so only principals of the hub account with execute-api:Invoke may call.
         */
        allowedPrincipals: z.array(PrincipalArn).max(100).refine(unique, 'must not repeat a principal').default([]),
        /** Stage-wide throttling: steady requests per second and burst. */
        throttling: z
          .object({
            rateLimit: z.number().min(1, 'must be at least 1').max(10000).default(10),
            burstLimit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(5000).default(20),
          })
          .strict()
          .prefault({}),
        /**
         * API Gateway execution logging (ERROR level, no request data). Needs the account's API Gateway
         * CloudWatch Logs role set in the region; access logs are always on.
         */
        executionLogging: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /**
     * Create the Security Hub custom action "Contain EC2 instance" and route it to intake. Security Hub must be
     * enabled, and CloudFormation must offer AWS::SecurityHub::ActionTarget in the region (docs/api.md).
     */
    securityHubAction: z.boolean().default(true),
    /** Retention of every Lambda and state-machine log group. */
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(365),
    /** The optional approval gate (docs/approval.md). */
    approval: ApprovalConfig.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const multiAccount = c.memberAccounts.length > 0 || c.organizationId !== undefined;
    if (multiAccount && c.hubAccount === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['hubAccount'],
        message:
          'is required when memberAccounts or organizationId is set: member stacks must trust a fixed hub account, ' +
          'and the deploying account is the member when a member stack is deployed',
      });
    }
    const both = c.findingTypes.allow.filter((t) => c.findingTypes.deny.includes(t));
    if (both.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['findingTypes'],
        message: `allow and deny both name ${both.join(', ')}: remove each type from one of the lists`,
      });
    }
    if (c.exemptionTag !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['exemptionTag'],
        message:
          'is no longer supported: exemptions moved to `exemptions` (accounts, instanceIds, autoScalingGroups as <accountId>/<groupName>), ' +
          'because an instance tag is writable by the member account, including by whoever compromised the instance, ' +
          'and must never turn containment off (docs/containment.md); remove exemptionTag',
      });
    }
    const hubSelected = c.approval.requiredFor.accounts.length + c.approval.requiredFor.instanceIds.length > 0;
    if (c.approval.onTimeout === 'deny' && !hubSelected) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'onTimeout'],
        message:
          '"deny" applies only to gates selected by approval.requiredFor (hub configuration), and none is set: gates selected by ' +
          'approval.requiredForTags always approve on timeout, because the member account can write tags; add accounts or ' +
          'instance ids to approval.requiredFor, or set onTimeout to "approve"',
      });
    }
    if (c.api.throttling.burstLimit < c.api.throttling.rateLimit) {
      ctx.addIssue({
        code: 'custom',
        path: ['api', 'throttling', 'burstLimit'],
        message: `is below rateLimit (${c.api.throttling.rateLimit}): the burst must hold at least one second of the steady rate`,
      });
    }
  });

/** The validated configuration, with every default applied. */
export interface CordonConfig {
  /** Fixed hub account, or undefined in single-account mode without `CDK_DEFAULT_ACCOUNT` (use the stack's account). */
  readonly hubAccount: string | undefined;
  readonly organizationId: string | undefined;
  readonly memberAccounts: readonly string[];
  readonly regions: readonly string[];
  readonly severityThreshold: number;
  readonly findingTypes: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  /** Instances never isolated or quarantined (hub configuration only); evidence is still collected. */
  readonly exemptions: {
    readonly accounts: readonly string[];
    readonly instanceIds: readonly string[];
    /** `<accountId>/<groupName>`. */
    readonly autoScalingGroups: readonly string[];
  };
  readonly settleSeconds: number;
  readonly tcpEstablishedTimeoutSeconds: number;
  readonly revokeSessions: 'auto' | 'always' | 'never';
  readonly objectLock: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly retentionDays: number };
  readonly breakGlassRoleArn: string | undefined;
  /** Role-name patterns CordonResponder may never write to (besides the always-protected ones). */
  readonly protectedRoles: readonly string[];
  /** The hub evidence key per hub region, by ARN (empty: member policies fall back to the key's alias). */
  readonly evidenceKeyArns: Readonly<Record<string, string>>;
  readonly snapshotMaxHours: number;
  readonly notificationEmails: readonly string[];
  readonly logRetentionDays: number;
  /** The approval gate; disabled when `requiredForTags` and `requiredFor` are empty. */
  readonly approval: {
    /** Member-writable selectors: these gates always approve on timeout. */
    readonly requiredForTags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
    /** Hub-side selectors: `onTimeout` applies to these gates. */
    readonly requiredFor: { readonly accounts: readonly string[]; readonly instanceIds: readonly string[] };
    readonly timeoutSeconds: number;
    /** Applies to hub-selected gates only. */
    readonly onTimeout: 'approve' | 'deny';
  };
  readonly api: {
    readonly enabled: boolean;
    readonly allowedPrincipals: readonly string[];
    readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
    readonly executionLogging: boolean;
  };
  readonly securityHubAction: boolean;
}

/** Input shape of the `cordon` context block. */
export type CordonConfigInput = z.input<typeof CordonConfigSchema>;

/**
 * Validate a raw `cordon` context value and apply the defaults.
 * @param raw the context value (undefined when absent)
 * @param env where `CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION` are read from
 * @throws Error `Invalid cordon config: <field.path>: <problem>` naming every failing field
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): CordonConfig {
  let value: unknown = raw ?? {};
  // `cdk -c cordon='{"…"}'` passes the block as a string.
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (err) {
      throw new Error(`Invalid cordon config: (root): must be a JSON object (${(err as Error).message})`, { cause: err });
    }
  }
  const result = CordonConfigSchema.safeParse(value);
  if (!result.success) {
    throw new Error(`Invalid cordon config: ${describeZodError(result.error)}`);
  }
  const c = result.data;
  const multiAccount = c.memberAccounts.length > 0 || c.organizationId !== undefined;
  const defaultAccount = env.CDK_DEFAULT_ACCOUNT && /^\d{12}$/.test(env.CDK_DEFAULT_ACCOUNT) ? env.CDK_DEFAULT_ACCOUNT : undefined;
  const hubAccount = c.hubAccount ?? (multiAccount ? undefined : defaultAccount);
  const regions = c.regions ?? [env.CDK_DEFAULT_REGION || 'us-east-1'];
  const evidenceKeyArns = evidenceKeysByRegion(c.evidenceKeyArn, regions, hubAccount);
  return {
    hubAccount,
    organizationId: c.organizationId,
    memberAccounts: c.memberAccounts.filter((a) => a !== hubAccount),
    regions,
    severityThreshold: c.severityThreshold,
    findingTypes: c.findingTypes,
    exemptions: c.exemptions,
    settleSeconds: c.settleSeconds,
    tcpEstablishedTimeoutSeconds: c.tcpEstablishedTimeoutSeconds,
    revokeSessions: c.revokeSessions,
    objectLock: c.objectLock,
    breakGlassRoleArn: c.breakGlassRoleArn,
    protectedRoles: c.protectedRoles,
    evidenceKeyArns,
    snapshotMaxHours: c.snapshotMaxHours,
    notificationEmails: c.notificationEmails,
    logRetentionDays: c.logRetentionDays,
    approval: c.approval,
    api: c.api,
    securityHubAction: c.securityHubAction,
  };
}

/**
 * Each hub region has its own evidence key. One ARN names one region's key; several regions need a map
 * `{ "<region>": "<key ARN>" }`. Every key must be in its region and in the hub account.
 */
function evidenceKeysByRegion(
  value: string | Record<string, string> | undefined,
  regions: readonly string[],
  hubAccount: string | undefined,
): Record<string, string> {
  if (value === undefined) return {};
  const fail = (message: string): never => {
    throw new Error(`Invalid cordon config: evidenceKeyArn: ${message}`);
  };
  const regionOf = (arn: string) => arn.split(':')[3] ?? '';
  let byRegion: Record<string, string>;
  if (typeof value === 'string') {
    if (regions.length > 1) {
      fail(`one ARN can't serve ${regions.length} hub regions (each has its own key): give {"<region>": "<key ARN>"} for each of ${regions.join(', ')}`);
    }
    byRegion = { [regionOf(value)]: value };
  } else {
    byRegion = { ...value };
  }
  for (const [region, arn] of Object.entries(byRegion)) {
    if (!regions.includes(region)) fail(`${arn} is in ${region}, which is not one of the hub regions (${regions.join(', ')})`);
    if (regionOf(arn) !== region) fail(`${arn} is not in ${region}`);
    if (hubAccount && arn.split(':')[4] !== hubAccount) fail(`${arn} is not in the hub account ${hubAccount}`);
  }
  return byRegion;
}

const cache = new WeakMap<Node, CordonConfig>();

/**
 * The app's configuration, parsed from the `cordon` context key on first use and
 * cached per construct tree: the one place in cordon that reads context.
 * @param scope the App, or any construct (or node) in its tree
 */
export function loadConfig(scope: IConstruct | Node, env: NodeJS.ProcessEnv = process.env): CordonConfig {
  const node = 'node' in scope ? scope.node : scope;
  const root = node.root.node;
  let config = cache.get(root);
  if (!config) {
    config = parseConfig(root.tryGetContext(CONTEXT_KEY), env);
    cache.set(root, config);
  }
  return config;
}

/**
 * True when the configuration names the member accounts only through the
 * organization (no explicit list): trust and delivery then rely on org conditions.
 */
export function usesOrganizationOnly(config: CordonConfig): boolean {
  return config.organizationId !== undefined && config.memberAccounts.length === 0;
}
