/**
 * Intake's judgement (DESIGN.md §2): one pure function from an incoming event to
 * `respond`, `ignore` or `reject`. No AWS calls, no clock, no randomness, so the
 * same event always yields the same decision and the same `ResponseRequest`
 * (which is what makes a redelivered event idempotent downstream).
 *
 * Entry points, told apart by `source` and `detail-type`:
 * - GuardDuty: `aws.guardduty` + `GuardDuty Finding`. Judged by finding TYPE and, for
 *   network findings whose meaning depends on it, the connection direction. Never by
 *   `service.resourceRole`: GuardDuty marks the instance TARGET on DNS-based and many
 *   outbound findings, and Runtime Monitoring findings carry no role at all.
 * - Security Hub: `aws.securityhub` + `Security Hub Findings - Custom Action`. A responder
 *   chose "Contain" on these findings in the console, so the policy's severity and type
 *   filters do not apply (they exist to tame automation, not to overrule a person);
 *   account/region scoping, sample detection and validation still do. One decision per
 *   `AwsEc2Instance` resource; a finding naming no instance gets one `ignore`.
 * - Manual / API: a `ResponseRequest` (shared schema) with `source` `manual` or `api`.
 *   Account/region scoping applies.
 * Anything else is rejected.
 *
 * Reasons always start with the field they are about (`detail.accountId: …`), and are
 * stripped of control characters and bounded, since they go to logs and the ledger.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  ACTIONS,
  AccountId,
  describeZodError,
  FindingId,
  InstanceId,
  MAX_TEXT,
  Region,
  ResponseRequest,
  type Target,
} from '../shared/schemas';
import {
  AsffFinding,
  FindingType,
  GuardDutyFindingEvent,
  MAX_EVENT_BYTES,
  SECURITY_HUB_CUSTOM_ACTION,
  SecurityHubCustomActionEnvelope,
  type GuardDutyAdditionalInfo,
} from './events';

type Action = (typeof ACTIONS)[number];

// ---------------------------------------------------------------------------
// Finding-type catalogue
// ---------------------------------------------------------------------------
// Derived from the Amazon GuardDuty User Guide: "GuardDuty EC2 finding types"
// (guardduty_finding-types-ec2), "GuardDuty IAM finding types" (InstanceCredentialExfiltration),
// "Malware Protection for EC2 finding types" and "Runtime Monitoring finding types".
// Exact names, not prefixes: a type GuardDuty adds later is ignored with a clear reason
// ("not in cordon's containment list") until someone decides it is worth containing
// (the policy's `allowTypes` can name it meanwhile).

/** The instance itself is doing something only a compromised host does: respond whatever the direction. */
export const CONTAINMENT_TYPES: ReadonlySet<string> = new Set([
  'Backdoor:EC2/C&CActivity.B',
  'Backdoor:EC2/C&CActivity.B!DNS',
  'Backdoor:EC2/DenialOfService.Dns',
  'Backdoor:EC2/DenialOfService.Tcp',
  'Backdoor:EC2/DenialOfService.Udp',
  'Backdoor:EC2/DenialOfService.UdpOnTcpPorts',
  'Backdoor:EC2/DenialOfService.UnusualProtocol',
  'Backdoor:EC2/Spambot',
  'CryptoCurrency:EC2/BitcoinTool.B',
  'CryptoCurrency:EC2/BitcoinTool.B!DNS',
  'DefenseEvasion:EC2/UnusualDNSResolver',
  'DefenseEvasion:EC2/UnusualDoHActivity',
  'DefenseEvasion:EC2/UnusualDoTActivity',
  'Impact:EC2/AbusedDomainRequest.Reputation',
  'Impact:EC2/BitcoinDomainRequest.Reputation',
  'Impact:EC2/MaliciousDomainRequest.Custom',
  'Impact:EC2/MaliciousDomainRequest.Reputation',
  'Impact:EC2/PortSweep',
  'Impact:EC2/SuspiciousDomainRequest.Reputation',
  'Trojan:EC2/BlackholeTraffic',
  'Trojan:EC2/BlackholeTraffic!DNS',
  'Trojan:EC2/DGADomainRequest.B',
  'Trojan:EC2/DGADomainRequest.C!DNS',
  'Trojan:EC2/DNSDataExfiltration',
  'Trojan:EC2/DriveBySourceTraffic!DNS',
  'Trojan:EC2/DropPoint',
  'Trojan:EC2/DropPoint!DNS',
  'Trojan:EC2/PhishingDomainRequest!DNS',
  // DNS rebinding to the metadata service: the instance's role credentials may be exposed.
  'UnauthorizedAccess:EC2/MetadataDNSRebind',
  'UnauthorizedAccess:EC2/TorClient',
  'UnauthorizedAccess:EC2/TorRelay',
  // Malware Protection for EC2 found a malicious file on the instance's volumes.
  'Execution:EC2/MaliciousFile',
]);
// Deliberately absent (ignored unless `allowTypes` names them):
// - Behavior:EC2/NetworkPortUnusual, Behavior:EC2/TrafficVolumeUnusual: baseline anomalies, not evidence of compromise;
// - Execution:EC2/SuspiciousFile: "potentially unwanted programs … dual use tools";
// - Execution:EC2/MaliciousFile!Snapshot, !AMI, !RecoveryPoint: a scanned artefact, not a running instance;
// - AttackSequence:EC2/CompromisedInstanceGroup: names a group of instances, not one in `instanceDetails`.

/**
 * Same type either way: the instance is the attacker (OUTBOUND: respond) or the victim
 * (INBOUND: ignore). GuardDuty documents the brute-force types as low severity when the
 * instance is the target and high when it is the actor.
 */
export const DIRECTIONAL_TYPES: ReadonlySet<string> = new Set([
  'UnauthorizedAccess:EC2/SSHBruteForce',
  'UnauthorizedAccess:EC2/RDPBruteForce',
  'Impact:EC2/WinRMBruteForce',
  'Recon:EC2/Portscan',
  'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom',
]);

/** Attacks *against* the instance: it is the target, so there is nothing to contain. */
export const INBOUND_ATTACK_TYPES: ReadonlySet<string> = new Set([
  'Recon:EC2/PortProbeUnprotectedPort',
  'Recon:EC2/PortProbeEMRUnprotectedPort',
  'UnauthorizedAccess:EC2/TorIPCaller', // retired; inbound connections from Tor exit nodes
]);

/**
 * Resource type `AccessKey`: the instance's role credentials are being used from outside it.
 * `resource.instanceDetails` names the instance they were issued to; that instance is contained.
 */
export const CREDENTIAL_EXFILTRATION_TYPES: ReadonlySet<string> = new Set([
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
]);

/** Runtime Monitoring types (`<Purpose>:Runtime/<Name>`); contained when the resource is an EC2 instance. */
const RUNTIME_TYPE = /^[A-Za-z]+:Runtime\//;

/** The instance id GuardDuty puts in every sample finding. */
export const SAMPLE_INSTANCE_ID = 'i-99999999';

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

/**
 * An entry of `allowTypes` / `denyTypes`. It matches a finding type when it is the exact
 * type, or when it ends in `/` or `:` and the type starts with it:
 * `Backdoor:EC2/` matches every `Backdoor:EC2/…`; `Trojan:` matches every Trojan type.
 */
export const TypePattern = FindingType;

export const IntakePolicy = z
  .object({
    /** Findings below this severity are ignored. 4 is the floor of GuardDuty's MEDIUM band. */
    severityThreshold: z.number().min(0).max(10).default(4),
    /**
     * Empty: every type in cordon's containment list. Non-empty: only matching types are
     * acted on, and a matching type outside the list is contained too. It never overrides the
     * direction rules: an inbound attack is not the instance's doing.
     */
    allowTypes: z.array(TypePattern).max(256).default([]),
    /** Matching types are ignored. Wins over `allowTypes`. */
    denyTypes: z.array(TypePattern).max(256).default([]),
    /** Accounts cordon manages; `undefined` = any. A target elsewhere is rejected. */
    allowedAccounts: z.array(AccountId).min(1).max(10_000).optional(),
    /** Regions cordon manages; `undefined` = any. A target elsewhere is rejected. */
    allowedRegions: z.array(Region).min(1).max(64).optional(),
  })
  .strict();
export type IntakePolicy = z.infer<typeof IntakePolicy>;
export type IntakePolicyInput = z.input<typeof IntakePolicy>;

export const DEFAULT_INTAKE_POLICY: IntakePolicy = IntakePolicy.parse({});

/** Exact match, or prefix match for patterns ending in `/` or `:`. */
export function matchesTypeList(type: string, patterns: readonly string[]): boolean {
  return patterns.some(
    (p) => p === type || ((p.endsWith('/') || p.endsWith(':')) && type.startsWith(p)),
  );
}

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

export interface RespondDecision {
  readonly decision: 'respond';
  readonly target: Target;
  readonly actions: Action[];
  readonly reason: string;
  /** The validated request to start the response workflow with. */
  readonly request: ResponseRequest;
}
export interface IgnoreDecision {
  readonly decision: 'ignore';
  readonly reason: string;
}
export interface RejectDecision {
  readonly decision: 'reject';
  readonly reason: string;
}
export type Decision = RespondDecision | IgnoreDecision | RejectDecision;
export type DecisionKind = Decision['decision'];

/** Control characters out, length bounded: reasons end up in logs and the ledger. */
export function cleanReason(reason: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return cleaned.length > MAX_TEXT ? `${cleaned.slice(0, MAX_TEXT - 1)}…` : cleaned;
}

export function ignoreDecision(reason: string): IgnoreDecision {
  return { decision: 'ignore', reason: cleanReason(reason) };
}

export function rejectDecision(reason: string): RejectDecision {
  return { decision: 'reject', reason: cleanReason(reason) };
}

function respondWith(input: z.input<typeof ResponseRequest>): Decision {
  const parsed = ResponseRequest.safeParse(input);
  // Unreachable for inputs that passed the event schemas; kept so nothing unvalidated is ever started.
  if (!parsed.success) return rejectDecision(`request: ${describeZodError(parsed.error)}`);
  const request = parsed.data;
  return { decision: 'respond', target: request.target, actions: request.actions, reason: request.reason, request };
}

/** The overall verdict of several decisions: respond if any responds, else ignore if any ignores, else reject. */
export function overallDecision(decisions: readonly Decision[]): DecisionKind {
  if (decisions.some((d) => d.decision === 'respond')) return 'respond';
  if (decisions.some((d) => d.decision === 'ignore')) return 'ignore';
  return 'reject';
}

// ---------------------------------------------------------------------------
// Entry
// ---------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A short, safe rendering of an attacker-controlled value for a reason string. */
function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return value === undefined ? 'missing' : describeKind(value);
}

function serializedSize(value: unknown): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(value), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Judge one event and return one decision per target it names: exactly one for GuardDuty
 * and manual requests, one per finding/instance for a Security Hub custom action.
 */
export function decideAll(event: unknown, policy: IntakePolicy = DEFAULT_INTAKE_POLICY): Decision[] {
  if (!isPlainObject(event)) return [rejectDecision(`(root): must be a JSON object, got ${describeKind(event)}`)];
  const size = serializedSize(event);
  if (size === undefined) return [rejectDecision('(root): is not serialisable as JSON')];
  if (size > MAX_EVENT_BYTES) {
    return [rejectDecision(`(root): event is ${size} bytes, larger than EventBridge's ${MAX_EVENT_BYTES}-byte limit`)];
  }

  const source = event.source;
  const detailType = event['detail-type'];
  if (source === 'aws.guardduty' && detailType === 'GuardDuty Finding') return [decideGuardDuty(event, policy)];
  if (source === 'aws.securityhub' && detailType === SECURITY_HUB_CUSTOM_ACTION) return decideSecurityHub(event, policy);
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
export function decide(event: unknown, policy: IntakePolicy = DEFAULT_INTAKE_POLICY): Decision {
  const all = decideAll(event, policy);
  const [only] = all;
  if (all.length === 1 && only) return only;
  return rejectDecision(
    `detail.findings: the event names ${all.length} targets; decide() judges single-target events, use decideAll()`,
  );
}

// ---------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------

function scopeCheck(
  accountId: string,
  region: string,
  policy: IntakePolicy,
  fields: { account: string; region: string },
): RejectDecision | undefined {
  if (policy.allowedAccounts && !policy.allowedAccounts.includes(accountId)) {
    return rejectDecision(`${fields.account}: account ${accountId} not managed by cordon (not in allowedAccounts)`);
  }
  if (policy.allowedRegions && !policy.allowedRegions.includes(region)) {
    return rejectDecision(`${fields.region}: region ${region} not managed by cordon (not in allowedRegions)`);
  }
  return undefined;
}

function isTrue(value: unknown): boolean {
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

// ---------------------------------------------------------------------------
// GuardDuty
// ---------------------------------------------------------------------------

function decideGuardDuty(raw: Record<string, unknown>, policy: IntakePolicy): Decision {
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

  const credentialExfiltration = CREDENTIAL_EXFILTRATION_TYPES.has(type);
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
  if (INBOUND_ATTACK_TYPES.has(type)) {
    return ignoreDecision(
      `detail.type: ${type} is an inbound attack against ${instanceId}; the instance is the target, not the attacker`,
    );
  }
  if (DIRECTIONAL_TYPES.has(type)) {
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
  } else if (
    !credentialExfiltration &&
    !CONTAINMENT_TYPES.has(type) &&
    !RUNTIME_TYPE.test(type) &&
    !allowListed
  ) {
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
    actions: [...ACTIONS],
    reason,
    requestedBy: `guardduty:${detail.service.detectorId}`,
  });
}

// ---------------------------------------------------------------------------
// Security Hub custom action
// ---------------------------------------------------------------------------

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

function decideSecurityHub(raw: Record<string, unknown>, policy: IntakePolicy): Decision[] {
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
  ctx: { requestId: string; actionName: string; policy: IntakePolicy },
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
    actions: [...ACTIONS],
    reason: `Security Hub custom action ${ctx.actionName} on ${type} (severity ${severity}) for ${instanceId}`,
    requestedBy: `securityhub:${ctx.actionName}`,
  });
}

// ---------------------------------------------------------------------------
// Manual / API
// ---------------------------------------------------------------------------

function decideManual(raw: Record<string, unknown>, policy: IntakePolicy): Decision {
  const parsed = ResponseRequest.safeParse(raw);
  if (!parsed.success) return rejectDecision(describeZodError(parsed.error));
  const { target } = parsed.data;
  const outOfScope = scopeCheck(target.accountId, target.region, policy, {
    account: 'target.accountId',
    region: 'target.region',
  });
  return outOfScope ?? respondWith(parsed.data);
}
