/**
 * Security Hub custom actions (`aws.securityhub` + `Security Hub Findings - Custom Action`). A
 * responder chose "Contain" on these findings in the console, so the policy's severity and type
 * filters do not apply (they exist to tame automation, not to overrule a person); account/region
 * scoping, sample detection and validation still do. One decision per `AwsEc2Instance`
 * resource; a finding naming no instance gets one `ignore`. The actions are the finding type's
 * (finding-types.ts; every action for a type not in the table).
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { describeZodError, FindingId, InstanceId } from '../../shared/schemas';
import { ignoreDecision, quote, rejectDecision, respondWith, type Decision } from '../decisions';
import { AsffFinding, FindingType, SecurityHubCustomActionEnvelope } from '../events';
import type { FindingTypeTable } from '../finding-types';
import { scopeCheck, type IntakePolicy } from '../policy';
import { isTrue, SAMPLE_INSTANCE_ID } from './guardduty';

const EC2_INSTANCE_ARN = /^arn:(aws[a-z-]*):ec2:([a-z0-9-]+):(\d{12}):instance\/(.+)$/;

/** ASFF's GuardDuty type rendering (`Recon:EC2-Portscan`) back to GuardDuty's (`Recon:EC2/Portscan`). */
const ASFF_GUARDDUTY_TYPE = /^([A-Za-z]+:[A-Za-z0-9]+)-(.+)$/;

const SEVERITY_LABELS: Readonly<Record<string, number>> = {
  INFORMATIONAL: 0,
  LOW: 1,
  MEDIUM: 4,
  HIGH: 7,
  CRITICAL: 9,
};

/** A valid `FindingId`: the ARN's last path segment, else the whole Id, else a digest of it. */
function asffFindingId(id: string): string {
  const last = id.split('/').pop() ?? '';
  if (FindingId.safeParse(last).success) return last;
  if (FindingId.safeParse(id).success) return id;
  return `sha256-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

/** Best effort: the last segment of the first `Types` entry, in GuardDuty's spelling where it applies. */
function asffFindingType(finding: AsffFinding): string {
  const segment = finding.Types?.[0]?.split('/').pop()?.trim() ?? '';
  const fromGuardDuty = finding.ProductName === 'GuardDuty' || (finding.ProductArn ?? '').endsWith('/aws/guardduty');
  const candidate = fromGuardDuty ? segment.replace(ASFF_GUARDDUTY_TYPE, '$1/$2') : segment;
  if (FindingType.safeParse(candidate).success) return candidate;
  const sanitized = candidate.replace(/[^A-Za-z0-9:/!&._-]/g, '_').slice(0, 128);
  return sanitized.length > 0 ? sanitized : 'SecurityHub/CustomAction';
}

/** `Severity.Product` when it is on GuardDuty's 0–10 scale, else `Normalized / 10`, else the label. */
function asffSeverity(finding: AsffFinding): number {
  const s = finding.Severity;
  if (s?.Product !== undefined && s.Product >= 0 && s.Product <= 10) return s.Product;
  if (s?.Normalized !== undefined) return s.Normalized / 10;
  const byLabel = s?.Label !== undefined ? SEVERITY_LABELS[s.Label.toUpperCase()] : undefined;
  return byLabel ?? 0;
}

export function decideSecurityHub(raw: Record<string, unknown>, policy: IntakePolicy, types: FindingTypeTable): Decision[] {
  const envelope = SecurityHubCustomActionEnvelope.safeParse(raw);
  if (!envelope.success) return [rejectDecision(describeZodError(envelope.error))];
  const { id: eventId, detail } = envelope.data;
  const decisions: Decision[] = [];

  detail.findings.forEach((rawFinding, f) => {
    const at = `detail.findings.${f}`;
    const parsed = AsffFinding.safeParse(rawFinding);
    if (!parsed.success) {
      decisions.push(rejectDecision(prefixIssues(at, parsed.error)));
      return;
    }
    const finding = parsed.data;
    const instances = finding.Resources.map((resource, r) => ({ resource, r })).filter(
      ({ resource }) => resource.Type === 'AwsEc2Instance',
    );
    if (instances.length === 0) {
      decisions.push(ignoreDecision(`${at}.Resources: the finding names no AwsEc2Instance resource; nothing to contain`));
      return;
    }
    for (const { resource, r } of instances) {
      // A resource that says it lives elsewhere than its finding: the finding's Region would aim at the wrong place.
      if (resource.Region !== undefined && resource.Region !== finding.Region) {
        decisions.push(
          rejectDecision(`${at}.Resources.${r}.Region: region ${quote(resource.Region)} differs from ${at}.Region ${finding.Region}`),
        );
        continue;
      }
      // The position in the output gives each instance its own request id.
      decisions.push(
        decideAsffInstance(finding, resource.Id, `${at}.Resources.${r}.Id`, at, {
          requestId: `${eventId}-${decisions.length}`,
          actionName: detail.actionName,
          policy,
          types,
        }),
      );
    }
  });
  return decisions;
}

function prefixIssues(prefix: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}

function decideAsffInstance(
  finding: AsffFinding,
  resourceId: string,
  idField: string,
  at: string,
  ctx: { requestId: string; actionName: string; policy: IntakePolicy; types: FindingTypeTable },
): Decision {
  let instanceId: string;
  const arn = EC2_INSTANCE_ARN.exec(resourceId);
  if (arn) {
    const [, , arnRegion, arnAccount, arnInstance] = arn;
    if (!InstanceId.safeParse(arnInstance).success || arnInstance === undefined) {
      return rejectDecision(`${idField}: must be an EC2 instance ARN ending in a valid instance id`);
    }
    if (arnAccount !== finding.AwsAccountId) {
      return rejectDecision(`${idField}: account ${arnAccount} differs from ${at}.AwsAccountId ${finding.AwsAccountId}`);
    }
    if (arnRegion !== finding.Region) {
      return rejectDecision(`${idField}: region ${quote(arnRegion)} differs from ${at}.Region ${finding.Region}`);
    }
    instanceId = arnInstance;
  } else if (InstanceId.safeParse(resourceId).success) {
    instanceId = resourceId;
  } else {
    return rejectDecision(`${idField}: must be an EC2 instance ARN (arn:aws:ec2:<region>:<account>:instance/i-…)`);
  }

  const outOfScope = scopeCheck(finding.AwsAccountId, finding.Region, ctx.policy, {
    account: `${at}.AwsAccountId`,
    region: `${at}.Region`,
  });
  if (outOfScope) return outOfScope;

  if (instanceId === SAMPLE_INSTANCE_ID) return ignoreDecision(`${idField}: ${SAMPLE_INSTANCE_ID} is GuardDuty's sample instance`);
  if (isTrue(finding.ProductFields?.['aws/guardduty/service/additionalInfo/sample'])) {
    return ignoreDecision(`${at}.ProductFields: aws/guardduty/service/additionalInfo/sample is true, a GuardDuty sample finding`);
  }

  const type = asffFindingType(finding);
  const severity = asffSeverity(finding);
  return respondWith({
    requestId: ctx.requestId,
    source: 'securityhub',
    target: { accountId: finding.AwsAccountId, region: finding.Region, instanceId },
    finding: { id: asffFindingId(finding.Id), type, severity, title: finding.Title, updatedAt: finding.UpdatedAt },
    actions: ctx.types.actionsFor(type),
    reason: `Security Hub custom action ${ctx.actionName} on ${type} (severity ${severity}) for ${instanceId}`,
    requestedBy: `securityhub:${ctx.actionName}`,
  });
}
