/**
 * The events intake accepts (docs/design.md §2), as zod schemas.
 *
 * What intake relies on is validated strictly with the shared identifier schemas:
 * account, region, instance id, finding id and type, severity, title, timestamps,
 * and the few `service` fields that decide whether to act. Everything else is a
 * loose object (`z.looseObject`): GuardDuty and Security Hub add fields over time,
 * and an unknown field must not turn a real finding into a rejection.
 *
 * Sizes are bounded everywhere we read, so a hostile event cannot smuggle an
 * unbounded string into a log line, a reason or an execution input.
 */
import { z } from 'zod';
import { AccountId, FindingId, InstanceId, MAX_TEXT, Region } from '../shared/schemas';

/** EventBridge's own limit on an event's size (256 KiB). Anything larger is not a real event. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** A Security Hub custom action carries at most this many findings; more is rejected. */
export const MAX_SECURITY_HUB_FINDINGS = 100;
/** ASFF allows at most 32 resources per finding. */
export const MAX_FINDING_RESOURCES = 32;
/** Bound for free-form strings we do not act on but do accept (descriptions, JSON-in-a-string). */
export const MAX_LOOSE_TEXT = 8192;

/** Characters GuardDuty uses in finding types, e.g. `Backdoor:EC2/C&CActivity.B!DNS`. */
const FINDING_TYPE_CHARS = /^[A-Za-z0-9:/!&._-]+$/;

export const FindingType = z
  .string()
  .min(1)
  .max(128)
  .regex(FINDING_TYPE_CHARS, 'must be a finding type such as Backdoor:EC2/C&CActivity.B!DNS');

/**
 * The EventBridge event `id` (a UUID in practice). It becomes the `requestId`
 * (and, for Security Hub, `${id}-${index}`), so it uses `RequestId`'s alphabet with
 * room for the suffix.
 */
export const EventId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must contain only letters, digits and . _ : -');

/**
 * A finding title or action name: one line, bounded, no control characters at all. Stricter
 * than the shared `Text` (which allows tab and newline for multi-line reasons): no real
 * GuardDuty or Security Hub title spans lines, and a forged line break is a log-injection attempt.
 */
export const SingleLineText = z
  .string()
  .min(1)
  .max(MAX_TEXT)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must not contain control characters');

const LooseText = z.string().max(MAX_LOOSE_TEXT, `must be at most ${MAX_LOOSE_TEXT} characters`);
const Timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 timestamp' });

/** The parts of the EventBridge envelope common to every AWS event. `account` is never a target. */
const envelopeShape = {
  version: z.string().max(16).optional(),
  id: EventId,
  account: z.string().max(64).optional(),
  time: z.string().max(64).optional(),
  region: z.string().max(64).optional(),
  resources: z.array(z.string().max(2048)).max(100).optional(),
};

// ---------------------------------------------------------------------------
// GuardDuty
// ---------------------------------------------------------------------------

/**
 * `service.additionalInfo`. Two shapes exist:
 * - older findings: an object with the fields inline, e.g. `{ "sample": true, "threatListName": … }`;
 * - newer findings: `{ "value": "<JSON string>", "type": "default" }`, where the JSON string
 *   holds those fields, e.g. `"{\"sample\":true}"`.
 */
export const GuardDutyAdditionalInfo = z.looseObject({
  sample: z.union([z.boolean(), z.string().max(16)]).optional(),
  value: LooseText.optional(),
  type: z.string().max(256).optional(),
});
export type GuardDutyAdditionalInfo = z.infer<typeof GuardDutyAdditionalInfo>;

export const ConnectionDirection = z.enum(['INBOUND', 'OUTBOUND', 'UNKNOWN']);

export const GuardDutyService = z.looseObject({
  serviceName: z.string().max(64).optional(),
  detectorId: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be a GuardDuty detector id'),
  action: z
    .looseObject({
      actionType: z.string().max(64).optional(),
      networkConnectionAction: z
        .looseObject({ connectionDirection: ConnectionDirection.optional() })
        .optional(),
    })
    .optional(),
  // Present on most findings, absent on Runtime Monitoring ones. Deliberately NOT used to decide.
  resourceRole: z.string().max(32).optional(),
  additionalInfo: GuardDutyAdditionalInfo.optional(),
  archived: z.boolean().optional(),
  count: z.number().int().min(0).optional(),
});

export const GuardDutyResource = z.looseObject({
  resourceType: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9 ._-]+$/, 'must be a GuardDuty resource type such as Instance'),
  // `Instance` findings and the `InstanceCredentialExfiltration` (`AccessKey`) findings name the instance here.
  instanceDetails: z.looseObject({ instanceId: InstanceId.optional() }).nullish(),
  accessKeyDetails: z.looseObject({}).nullish(),
});

export const GuardDutyFindingDetail = z.looseObject({
  schemaVersion: z.string().max(16).optional(),
  accountId: AccountId,
  region: Region,
  partition: z.string().max(32).optional(),
  id: FindingId,
  arn: z.string().max(2048).optional(),
  type: FindingType,
  resource: GuardDutyResource,
  service: GuardDutyService,
  severity: z.number().min(0, 'must be between 0 and 10').max(10, 'must be between 0 and 10'),
  createdAt: Timestamp.optional(),
  updatedAt: Timestamp,
  title: SingleLineText,
  description: LooseText.optional(),
});
export type GuardDutyFindingDetail = z.infer<typeof GuardDutyFindingDetail>;

/** A GuardDuty finding as EventBridge delivers it: camelCase `detail`, numeric severity. */
export const GuardDutyFindingEvent = z.looseObject({
  ...envelopeShape,
  'detail-type': z.literal('GuardDuty Finding'),
  source: z.literal('aws.guardduty'),
  detail: GuardDutyFindingDetail,
});
export type GuardDutyFindingEvent = z.infer<typeof GuardDutyFindingEvent>;

// ---------------------------------------------------------------------------
// Security Hub custom action
// ---------------------------------------------------------------------------

export const SECURITY_HUB_CUSTOM_ACTION = 'Security Hub Findings - Custom Action';

export const AsffResource = z.looseObject({
  Type: z.string().min(1).max(256),
  Id: z.string().min(1).max(2048),
  Partition: z.string().max(32).optional(),
  Region: z.string().max(64).optional(),
});

/** One ASFF finding (PascalCase). The target comes from here, never from the envelope. */
export const AsffFinding = z.looseObject({
  SchemaVersion: z.string().max(32).optional(),
  Id: z.string().min(1).max(512),
  ProductArn: z.string().max(2048).optional(),
  ProductName: z.string().max(128).optional(),
  AwsAccountId: AccountId,
  Region: Region,
  Types: z.array(z.string().max(256)).max(50).optional(),
  UpdatedAt: Timestamp,
  Severity: z
    .looseObject({
      Product: z.number().optional(),
      Normalized: z.number().int().min(0).max(100).optional(),
      Label: z.string().max(32).optional(),
    })
    .optional(),
  Title: SingleLineText,
  Description: LooseText.optional(),
  ProductFields: z.record(z.string().max(256), z.string().max(4096)).optional(),
  Resources: z.array(AsffResource).min(1).max(MAX_FINDING_RESOURCES),
  RecordState: z.string().max(32).optional(),
});
export type AsffFinding = z.infer<typeof AsffFinding>;

const securityHubDetailShape = {
  actionName: SingleLineText.max(64, 'must be at most 64 characters'),
  actionDescription: LooseText.optional(),
};

/**
 * The envelope of a custom action event, with the findings left unparsed so each
 * can be judged (and rejected) on its own: one malformed finding must not hide the others.
 */
export const SecurityHubCustomActionEnvelope = z.looseObject({
  ...envelopeShape,
  'detail-type': z.literal(SECURITY_HUB_CUSTOM_ACTION),
  source: z.literal('aws.securityhub'),
  detail: z.looseObject({
    ...securityHubDetailShape,
    findings: z
      .array(z.unknown())
      .min(1, 'must name at least one finding')
      .max(MAX_SECURITY_HUB_FINDINGS, `must name at most ${MAX_SECURITY_HUB_FINDINGS} findings`),
  }),
});
export type SecurityHubCustomActionEnvelope = z.infer<typeof SecurityHubCustomActionEnvelope>;

/** The whole custom action event, every finding validated. */
export const SecurityHubCustomActionEvent = SecurityHubCustomActionEnvelope.extend({
  detail: z.looseObject({
    ...securityHubDetailShape,
    findings: z.array(AsffFinding).min(1).max(MAX_SECURITY_HUB_FINDINGS),
  }),
});
export type SecurityHubCustomActionEvent = z.infer<typeof SecurityHubCustomActionEvent>;
