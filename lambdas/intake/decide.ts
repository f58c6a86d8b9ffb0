/**
 * Intake's judgement (docs/design.md §2): one pure function from an incoming event to
 * `respond`, `ignore` or `reject`. No AWS calls, no clock, no randomness, so the
 * same event always yields the same decision and the same `ResponseRequest`
 * (which is what makes a redelivered event idempotent downstream).
 *
 * Entry points, told apart by `source` and `detail-type`, each judged by its parser:
 * - GuardDuty: `aws.guardduty` + `GuardDuty Finding` (parsers/guardduty.ts), by the finding
 *   type's rule in finding-types.ts;
 * - Security Hub: `aws.securityhub` + `Security Hub Findings - Custom Action`
 *   (parsers/securityhub.ts), one decision per `AwsEc2Instance` resource;
 * - Manual / API: a `ResponseRequest` (shared schema) with `source` `manual` or `api`
 *   (parsers/manual.ts).
 * Anything else is rejected. The policy is policy.ts; the verdicts and their reasons, decisions.ts.
 *
 * Reasons always start with the field they are about (`detail.accountId: …`), and are
 * stripped of control characters and bounded, since they go to logs and the ledger.
 */
import { describeKind, isPlainObject, quote, rejectDecision, type Decision } from './decisions';
import { MAX_EVENT_BYTES, SECURITY_HUB_CUSTOM_ACTION } from './events';
import { FINDING_TYPE_TABLE, type FindingTypeTable } from './finding-types';
import { decideGuardDuty } from './parsers/guardduty';
import { decideManual } from './parsers/manual';
import { decideSecurityHub } from './parsers/securityhub';
import { DEFAULT_INTAKE_POLICY, type IntakePolicy } from './policy';

export {
  cleanReason,
  ignoreDecision,
  overallDecision,
  rejectDecision,
  type Decision,
  type DecisionKind,
  type IgnoreDecision,
  type RejectDecision,
  type RespondDecision,
} from './decisions';
export {
  CONTAINMENT_TYPES,
  CREDENTIAL_EXFILTRATION_TYPES,
  DIRECTIONAL_TYPES,
  INBOUND_ATTACK_TYPES,
} from './finding-types';
export { SAMPLE_INSTANCE_ID } from './parsers/guardduty';
export {
  DEFAULT_INTAKE_POLICY,
  IntakePolicy,
  matchesTypeList,
  TypePattern,
  type IntakePolicyInput,
} from './policy';

function serializedSize(value: unknown): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(value), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Judge one event and return one decision per target it names: exactly one for GuardDuty
 * and manual requests, one per finding/instance for a Security Hub custom action. `types` is
 * the finding-type table (finding-types.ts); tests pass their own.
 */
export function decideAll(
  event: unknown,
  policy: IntakePolicy = DEFAULT_INTAKE_POLICY,
  types: FindingTypeTable = FINDING_TYPE_TABLE,
): Decision[] {
  if (!isPlainObject(event)) return [rejectDecision(`(root): must be a JSON object, got ${describeKind(event)}`)];
  const size = serializedSize(event);
  if (size === undefined) return [rejectDecision('(root): is not serialisable as JSON')];
  if (size > MAX_EVENT_BYTES) {
    return [rejectDecision(`(root): event is ${size} bytes, larger than EventBridge's ${MAX_EVENT_BYTES}-byte limit`)];
  }

  const source = event.source;
  const detailType = event['detail-type'];
  if (source === 'aws.guardduty' && detailType === 'GuardDuty Finding') return [decideGuardDuty(event, policy, types)];
  if (source === 'aws.securityhub' && detailType === SECURITY_HUB_CUSTOM_ACTION) return decideSecurityHub(event, policy, types);
  if (detailType === undefined && (source === 'manual' || source === 'api')) return [decideManual(event, policy)];

  if (detailType !== undefined) {
    return [
      rejectDecision(
        `source/detail-type: unsupported event ${quote(source)} / ${quote(detailType)}; cordon accepts ` +
          `"GuardDuty Finding" from aws.guardduty and "${SECURITY_HUB_CUSTOM_ACTION}" from aws.securityhub`,
      ),
    ];
  }
  return [
    rejectDecision(
      `source: ${quote(source)} is not an entry point; expected an aws.guardduty or aws.securityhub event, ` +
        'or a ResponseRequest with source "manual" or "api"',
    ),
  ];
}

/**
 * Judge a single-target event (GuardDuty, manual, or a Security Hub action on one instance).
 * A Security Hub event naming several targets is rejected here: use `decideAll`.
 */
export function decide(
  event: unknown,
  policy: IntakePolicy = DEFAULT_INTAKE_POLICY,
  types: FindingTypeTable = FINDING_TYPE_TABLE,
): Decision {
  const all = decideAll(event, policy, types);
  const [only] = all;
  if (all.length === 1 && only) return only;
  return rejectDecision(
    `detail.findings: the event names ${all.length} targets; decide() judges single-target events, use decideAll()`,
  );
}
