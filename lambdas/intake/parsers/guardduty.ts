/**
 * GuardDuty findings (`aws.guardduty` + `GuardDuty Finding`). Judged by finding TYPE
 * (finding-types.ts) and, for network findings whose meaning depends on it, the connection
 * direction. Never by `service.resourceRole`: GuardDuty marks the instance TARGET on DNS-based
 * and many outbound findings, and Runtime Monitoring findings carry no role at all.
 */
import { describeZodError } from '../../shared/schemas';
import { ignoreDecision, isPlainObject, rejectDecision, respondWith, type Decision } from '../decisions';
import { GuardDutyFindingEvent, type GuardDutyAdditionalInfo } from '../events';
import type { FindingTypeTable } from '../finding-types';
import { matchesTypeList, scopeCheck, type IntakePolicy } from '../policy';

/** The instance id GuardDuty puts in every sample finding. */
export const SAMPLE_INSTANCE_ID = 'i-99999999';

/** GuardDuty's boolean flags arrive as booleans or as strings. */
export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/** GuardDuty sample findings, in either `additionalInfo` shape. */
function sampleReason(info: GuardDutyAdditionalInfo | undefined): string | undefined {
  if (!info) return undefined;
  if (isTrue(info.sample)) return 'detail.service.additionalInfo.sample: true, a GuardDuty sample finding';
  if (typeof info.value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(info.value);
    } catch {
      return undefined; // not JSON, so no sample flag in it
    }
    if (isPlainObject(parsed) && isTrue(parsed.sample)) {
      return 'detail.service.additionalInfo.value: has "sample": true, a GuardDuty sample finding';
    }
  }
  return undefined;
}

export function decideGuardDuty(raw: Record<string, unknown>, policy: IntakePolicy, types: FindingTypeTable): Decision {
  const parsed = GuardDutyFindingEvent.safeParse(raw);
  if (!parsed.success) return rejectDecision(describeZodError(parsed.error));
  const { id: eventId, detail } = parsed.data;
  const { type, severity } = detail;
  const resourceType = detail.resource.resourceType;
  const instanceId = detail.resource.instanceDetails?.instanceId;

  // Rejections first: nothing about an out-of-scope or incomplete finding is trusted further.
  const outOfScope = scopeCheck(detail.accountId, detail.region, policy, {
    account: 'detail.accountId',
    region: 'detail.region',
  });
  if (outOfScope) return outOfScope;
  if (resourceType === 'Instance' && !instanceId) {
    return rejectDecision('detail.resource.instanceDetails.instanceId: required for resource type Instance');
  }

  if (detail.service.archived === true) return ignoreDecision(`detail.service.archived: finding ${detail.id} is archived`);
  const sample = sampleReason(detail.service.additionalInfo);
  if (sample) return ignoreDecision(sample);

  const rule = types.lookup(type)?.rule;
  const credentialExfiltration = rule === 'credential-exfiltration';
  if (credentialExfiltration && !instanceId) {
    return ignoreDecision(
      `detail.resource.instanceDetails.instanceId: ${type} names no instance whose credentials were used; nothing to contain`,
    );
  }
  if (!credentialExfiltration && resourceType !== 'Instance') {
    return ignoreDecision(
      `detail.resource.resourceType: ${type} concerns resource type ${resourceType}, not an EC2 instance; cordon contains instances only`,
    );
  }
  if (!instanceId) return rejectDecision('detail.resource.instanceDetails.instanceId: required'); // narrowed above
  if (instanceId === SAMPLE_INSTANCE_ID) {
    return ignoreDecision(`detail.resource.instanceDetails.instanceId: ${SAMPLE_INSTANCE_ID} is GuardDuty's sample instance`);
  }

  if (matchesTypeList(type, policy.denyTypes)) return ignoreDecision(`detail.type: ${type} matches the policy's denyTypes`);
  const allowListed = policy.allowTypes.length > 0 && matchesTypeList(type, policy.allowTypes);
  if (policy.allowTypes.length > 0 && !allowListed) {
    return ignoreDecision(`detail.type: ${type} does not match the policy's allowTypes`);
  }

  const direction = detail.service.action?.networkConnectionAction?.connectionDirection;
  const directionField = 'detail.service.action.networkConnectionAction.connectionDirection';
  if (rule === 'inbound') {
    return ignoreDecision(
      `detail.type: ${type} is an inbound attack against ${instanceId}; the instance is the target, not the attacker`,
    );
  }
  if (rule === 'directional') {
    if (direction === 'INBOUND') {
      return ignoreDecision(
        `${directionField}: INBOUND ${type} against ${instanceId}; the instance is the target, not the attacker`,
      );
    }
    if (direction !== 'OUTBOUND') {
      return ignoreDecision(
        `${directionField}: ${direction ?? 'missing'} for ${type}; cannot tell whether ${instanceId} is the attacker or the target`,
      );
    }
  } else if (rule === undefined && !allowListed) {
    return ignoreDecision(`detail.type: finding type ${type} not in cordon's containment list`);
  }

  if (severity < policy.severityThreshold) {
    return ignoreDecision(`detail.severity: ${severity} is below the threshold ${policy.severityThreshold}`);
  }

  const reason = credentialExfiltration
    ? `GuardDuty ${type} (severity ${severity}): role credentials of ${instanceId} used outside it`
    : `GuardDuty ${type} (severity ${severity}) on ${instanceId}`;
  return respondWith({
    requestId: eventId,
    source: 'guardduty',
    target: { accountId: detail.accountId, region: detail.region, instanceId },
    finding: { id: detail.id, type, severity, title: detail.title, updatedAt: detail.updatedAt },
    actions: types.actionsFor(type),
    reason,
    requestedBy: `guardduty:${detail.service.detectorId}`,
  });
}
