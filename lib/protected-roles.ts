/**
 * The `protectedRoles` configuration key (lib/config.ts): roles `CordonResponder` may never write to or pass
 * (lib/member-permissions.ts, docs/iam.md "Protected roles").
 */
import { z } from 'zod';

/**
 * Roles in member accounts that `CordonResponder` may never edit, pass or otherwise write to (docs/iam.md
 * "Protected roles"), by role name; `*` and `?` match as in IAM ARNs, at any path. `CordonResponder`, `cordon-*`,
 * service-linked roles and `aws-reserved/*` are always protected besides these.
 */
export const DEFAULT_PROTECTED_ROLES = [
  'OrganizationAccountAccessRole',
  'AWSReservedSSO_*',
  'aws-controltower-*',
  'AWSControlTower*',
  'stacksets-exec-*',
  'AWSCloudFormationStackSetExecutionRole',
  'cdk-*',
] as const;

const ProtectedRolePattern = z
  .string()
  .regex(/^[\w+=,.@*?-]{1,64}$/, 'must be an IAM role name (letters, digits and +=,.@_-, at most 64), with * or ? as wildcards')
  .refine((p) => /[^*?]/.test(p), 'must name something besides wildcards: a pattern matching every role would forbid every quarantine');

/** The `protectedRoles` schema: at most 50 distinct patterns; absent, the default list. */
export const ProtectedRoles = z
  .array(ProtectedRolePattern)
  .max(50, 'must name at most 50 patterns')
  .refine((items) => new Set(items).size === items.length, 'must not repeat a pattern')
  .default([...DEFAULT_PROTECTED_ROLES]);
