import {
  cleanReason,
  decide,
  decideAll,
  DEFAULT_INTAKE_POLICY,
  IntakePolicy,
  matchesTypeList,
  overallDecision,
  type Decision,
  type IntakePolicyInput,
} from '../../../lambdas/intake/decide';
import {
  GuardDutyFindingEvent,
  SecurityHubCustomActionEvent,
} from '../../../lambdas/intake/events';
import { ResponseRequest } from '../../../lambdas/shared/schemas';
import { eventFiles, isMulti, loadEvent, loadExpected, loadPolicy } from './fixtures';
import { ACTIONS } from '../../../lambdas/shared/actions';

// ---------------------------------------------------------------------------
// Fixture shapes (only what the tests mutate)
// ---------------------------------------------------------------------------

interface GdFixture {
  id: string;
  account: string;
  region: string;
  [key: string]: unknown;
  detail: {
    accountId: string;
    region: string;
    id: string;
    type: string;
    severity: unknown;
    title: string;
    updatedAt: string;
    description?: string;
    resource: {
      resourceType: string;
      instanceDetails?: { instanceId?: string; [key: string]: unknown };
      [key: string]: unknown;
    };
    service: {
      detectorId: string;
      resourceRole?: string;
      archived?: unknown;
      additionalInfo?: Record<string, unknown>;
      action?: { networkConnectionAction?: { connectionDirection?: string } };
      [key: string]: unknown;
    };
    [key: string]: unknown;
  };
}

interface ShFinding {
  Id: string;
  AwsAccountId: string;
  Region: string;
  Types?: string[];
  Title: string;
  Severity?: { Product?: number; Normalized?: number; Label?: string };
  ProductFields?: Record<string, string>;
  Resources: { Type: string; Id: string; [key: string]: unknown }[];
  [key: string]: unknown;
}
interface ShFixture {
  id: string;
  account: string;
  region: string;
  detail: { actionName: string; findings: ShFinding[] };
  [key: string]: unknown;
}

const policy = (input: IntakePolicyInput = {}): IntakePolicy => IntakePolicy.parse(input);

function single(event: unknown, p: IntakePolicy = DEFAULT_INTAKE_POLICY): Decision {
  const all = decideAll(event, p);
  expect(all).toHaveLength(1);
  return all[0] as Decision;
}

function expectRespond(d: Decision): Extract<Decision, { decision: 'respond' }> {
  expect(d.decision).toBe('respond');
  if (d.decision !== 'respond') throw new Error(`expected respond, got ${d.decision}: ${d.reason}`);
  return d;
}

function expectNot(d: Decision, kind: 'ignore' | 'reject', field: string): string {
  expect({ decision: d.decision, reason: d.reason }).toEqual({ decision: kind, reason: expect.any(String) });
  expect(d.reason.startsWith(`${field}:`)).toBe(true);
  return d.reason;
}

const TARGET = { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' };
const ALL_ACTIONS = [...ACTIONS];;

// ---------------------------------------------------------------------------
// Table: every fixture against expected.json
// ---------------------------------------------------------------------------

describe('fixtures', () => {
  const expected = loadExpected();

  it('has at least 24 events, each with an expectation, and no expectation without an event', () => {
    const files = eventFiles();
    expect(files.length).toBeGreaterThanOrEqual(24);
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  it.each(Object.entries(expected))('%s', (file, exp) => {
    const p = exp.policy ? IntakePolicy.parse(loadPolicy(exp.policy)) : DEFAULT_INTAKE_POLICY;
    const decisions = decideAll(loadEvent(file), p);

    if (isMulti(exp)) {
      expect(overallDecision(decisions)).toBe(exp.decision);
      expect(decisions.map((d) => ({ decision: d.decision, target: d.decision === 'respond' ? d.target : undefined }))).toEqual(
        exp.decisions.map((d) => ({ decision: d.decision, target: d.target })),
      );
      return;
    }

    expect(decisions).toHaveLength(1);
    const d = decisions[0] as Decision;
    expect(d.decision).toBe(exp.decision);
    if (exp.reasonIncludes) expect(d.reason).toContain(exp.reasonIncludes);
    if (exp.field) expect(d.reason.startsWith(`${exp.field}: `)).toBe(true);
    if (d.decision === 'respond') {
      expect(d.target).toEqual(exp.target);
      expect(d.actions).toEqual(exp.actions ?? ALL_ACTIONS);
      expect(d.request.target).toEqual(exp.target);
      expect(ResponseRequest.parse(d.request)).toEqual(d.request);
    } else {
      expect(exp.target).toBeUndefined();
      expect(Object.keys(d).sort()).toEqual(['decision', 'reason']);
    }
  });
});

// ---------------------------------------------------------------------------
// GuardDuty
// ---------------------------------------------------------------------------

describe('GuardDuty findings', () => {
  it('builds the exact ResponseRequest, with & and ! in the finding type', () => {
    const event = loadEvent<GdFixture>('gd-backdoor-cc-activity-dns.json');
    const d = expectRespond(single(event));
    expect(d.request).toEqual({
      requestId: '0b7c1d2e-3f40-4a51-8b62-c73d84e95fa1',
      source: 'guardduty',
      target: TARGET,
      finding: {
        id: 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7',
        type: 'Backdoor:EC2/C&CActivity.B!DNS',
        severity: 8,
        title: 'Command and Control server domain name queried by EC2 instance i-0123456789abcdef0.',
        updatedAt: '2026-03-02T09:09:55.103Z',
      },
      actions: ALL_ACTIONS,
      reason: 'GuardDuty Backdoor:EC2/C&CActivity.B!DNS (severity 8) on i-0123456789abcdef0',
      requestedBy: 'guardduty:76807ee28899d9276d7066be0fc08d87',
    });
    expect(d.reason).toBe(d.request.reason);
  });

  it('targets detail.accountId and detail.region, never the delegated administrator in the envelope', () => {
    const event = loadEvent<GdFixture>('gd-delegated-admin-member-account.json');
    expect(event.account).toBe('999988887777');
    const d = expectRespond(single(event));
    expect(d.target).toEqual({ accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0a1b2c3d4e5f60718' });
  });

  it('ignores the envelope region too', () => {
    const event = loadEvent<GdFixture>('gd-portscan-outbound.json');
    event.region = 'ap-southeast-2';
    event.account = '999988887777';
    expect(expectRespond(single(event)).target).toEqual(TARGET);
  });

  describe('never decides by service.resourceRole', () => {
    it.each(['ACTOR', 'TARGET', undefined])('outbound SSH brute force responds with resourceRole %s', (role) => {
      const event = loadEvent<GdFixture>('gd-ssh-bruteforce-outbound.json');
      if (role === undefined) delete event.detail.service.resourceRole;
      else event.detail.service.resourceRole = role;
      expect(expectRespond(single(event)).target).toEqual(TARGET);
    });

    it('inbound SSH brute force is ignored even when marked ACTOR', () => {
      const event = loadEvent<GdFixture>('gd-ssh-bruteforce-inbound.json');
      event.detail.service.resourceRole = 'ACTOR';
      event.detail.severity = 8;
      const reason = expectNot(single(event), 'ignore', 'detail.service.action.networkConnectionAction.connectionDirection');
      expect(reason).toContain('INBOUND UnauthorizedAccess:EC2/SSHBruteForce against i-0123456789abcdef0');
    });

    it('a DNS finding marked TARGET responds', () => {
      const event = loadEvent<GdFixture>('gd-trojan-dns-exfiltration.json');
      expect(event.detail.service.resourceRole).toBe('TARGET');
      expect(single(event).decision).toBe('respond');
    });
  });

  describe('direction-dependent types', () => {
    it.each([
      ['UnauthorizedAccess:EC2/RDPBruteForce'],
      ['Impact:EC2/WinRMBruteForce'],
      ['UnauthorizedAccess:EC2/SSHBruteForce'],
      ['Recon:EC2/Portscan'],
      ['UnauthorizedAccess:EC2/MaliciousIPCaller.Custom'],
    ])('%s: OUTBOUND responds, INBOUND and missing direction are ignored', (type) => {
      const outbound = loadEvent<GdFixture>('gd-ssh-bruteforce-outbound.json');
      outbound.detail.type = type;
      expect(expectRespond(single(outbound)).request.finding?.type).toBe(type);

      const inbound = loadEvent<GdFixture>('gd-ssh-bruteforce-outbound.json');
      inbound.detail.type = type;
      inbound.detail.service.action = { networkConnectionAction: { connectionDirection: 'INBOUND' } };
      expect(expectNot(single(inbound), 'ignore', 'detail.service.action.networkConnectionAction.connectionDirection')).toContain(
        `INBOUND ${type} against i-0123456789abcdef0; the instance is the target, not the attacker`,
      );

      const unknown = loadEvent<GdFixture>('gd-ssh-bruteforce-outbound.json');
      unknown.detail.type = type;
      delete unknown.detail.service.action;
      expect(expectNot(single(unknown), 'ignore', 'detail.service.action.networkConnectionAction.connectionDirection')).toContain(
        'missing for',
      );
    });

    it('rejects a direction GuardDuty does not use', () => {
      const event = loadEvent<GdFixture>('gd-ssh-bruteforce-outbound.json');
      event.detail.service.action = { networkConnectionAction: { connectionDirection: 'SIDEWAYS' } };
      expectNot(single(event), 'reject', 'detail.service.action.networkConnectionAction.connectionDirection');
    });
  });

  it.each(['Recon:EC2/PortProbeUnprotectedPort', 'Recon:EC2/PortProbeEMRUnprotectedPort'])(
    '%s is an inbound attack: ignored whatever its severity',
    (type) => {
      const event = loadEvent<GdFixture>('gd-port-probe-unprotected-port.json');
      event.detail.type = type;
      event.detail.severity = 8;
      expect(expectNot(single(event), 'ignore', 'detail.type')).toBe(
        `detail.type: ${type} is an inbound attack against i-0123456789abcdef0; the instance is the target, not the attacker`,
      );
    },
  );

  it.each([
    'Backdoor:EC2/DenialOfService.UdpOnTcpPorts',
    'CryptoCurrency:EC2/BitcoinTool.B!DNS',
    'Trojan:EC2/DGADomainRequest.C!DNS',
    'UnauthorizedAccess:EC2/TorClient',
    'Impact:EC2/PortSweep',
    'DefenseEvasion:EC2/UnusualDoHActivity',
    'Execution:EC2/MaliciousFile',
    'PrivilegeEscalation:Runtime/ContainerMountsHostDirectory',
  ])('%s on an Instance responds whatever the direction', (type) => {
    const event = loadEvent<GdFixture>('gd-ssh-bruteforce-inbound.json');
    event.detail.type = type;
    event.detail.severity = 8;
    expect(expectRespond(single(event)).request.finding?.type).toBe(type);
  });

  it("ignores a type outside cordon's containment list", () => {
    const event = loadEvent<GdFixture>('gd-portscan-outbound.json');
    event.detail.type = 'Execution:EC2/SuspiciousFile';
    expect(expectNot(single(event), 'ignore', 'detail.type')).toBe(
      "detail.type: finding type Execution:EC2/SuspiciousFile not in cordon's containment list",
    );
  });

  it('ignores a Runtime finding on a container', () => {
    const event = loadEvent<GdFixture>('gd-runtime-reverse-shell.json');
    event.detail.resource = { resourceType: 'Container', containerDetails: { id: 'abc' } };
    expect(expectNot(single(event), 'ignore', 'detail.resource.resourceType')).toContain('resource type Container');
  });

  it('ignores a finding about an S3 bucket', () => {
    const event = loadEvent<GdFixture>('gd-portscan-outbound.json');
    event.detail.type = 'Policy:S3/BucketBlockPublicAccessDisabled';
    event.detail.resource = { resourceType: 'S3Bucket', s3BucketDetails: [{ name: 'b' }] };
    expectNot(single(event), 'ignore', 'detail.resource.resourceType');
  });

  describe('InstanceCredentialExfiltration', () => {
    it.each([
      ['gd-credential-exfiltration-outside-aws.json', 'i-0123456789abcdef0'],
      ['gd-credential-exfiltration-inside-aws.json', 'i-0fedcba9876543210'],
    ])('%s contains the instance in resource.instanceDetails', (file, instanceId) => {
      const event = loadEvent<GdFixture>(file);
      expect(event.detail.resource.resourceType).toBe('AccessKey');
      const d = expectRespond(single(event));
      expect(d.target).toEqual({ accountId: '111122223333', region: 'us-east-1', instanceId });
      expect(d.reason).toBe(`GuardDuty ${event.detail.type} (severity 8): role credentials of ${instanceId} used outside it`);
    });

    it('is ignored with a clear reason when no instance is named', () => {
      const event = loadEvent<GdFixture>('gd-credential-exfiltration-outside-aws.json');
      delete event.detail.resource.instanceDetails;
      expect(expectNot(single(event), 'ignore', 'detail.resource.instanceDetails.instanceId')).toContain(
        'names no instance whose credentials were used',
      );
    });

    it('rejects a hostile instance id', () => {
      const event = loadEvent<GdFixture>('gd-credential-exfiltration-inside-aws.json');
      event.detail.resource.instanceDetails = { instanceId: 'i-0fedcba9876543210`id`' };
      expectNot(single(event), 'reject', 'detail.resource.instanceDetails.instanceId');
    });

    it('other AccessKey findings are not instance compromises', () => {
      const event = loadEvent<GdFixture>('gd-credential-exfiltration-outside-aws.json');
      event.detail.type = 'UnauthorizedAccess:IAMUser/MaliciousIPCaller';
      expectNot(single(event), 'ignore', 'detail.resource.resourceType');
    });
  });

  describe('samples and archived findings', () => {
    it('accepts "true" as a string in the old shape', () => {
      const event = loadEvent<GdFixture>('gd-portscan-outbound.json');
      event.detail.service.additionalInfo = { sample: 'true' };
      expectNot(single(event), 'ignore', 'detail.service.additionalInfo.sample');
    });

    it('a value without sample, or not JSON at all, is not a sample', () => {
      for (const value of ['{}', '{"sample":false}', 'not json', '[true]']) {
        const event = loadEvent<GdFixture>('gd-portscan-outbound.json');
        event.detail.service.additionalInfo = { value, type: 'default' };
        expect(single(event).decision).toBe('respond');
      }
    });

    it('ignores archived before anything else about the finding', () => {
      const event = loadEvent<GdFixture>('gd-backdoor-cc-activity-dns.json');
      event.detail.service.archived = true;
      expect(single(event).reason).toBe('detail.service.archived: finding b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7 is archived');
    });
  });

  describe('policy', () => {
    const backdoor = (): GdFixture => loadEvent<GdFixture>('gd-backdoor-cc-activity-dns.json');

    it('has the documented defaults', () => {
      expect(DEFAULT_INTAKE_POLICY).toEqual({ severityThreshold: 4, allowTypes: [], denyTypes: [] });
      expect(IntakePolicy.safeParse({ severityThreshold: 4, extra: true }).success).toBe(false);
      expect(IntakePolicy.safeParse({ allowedAccounts: ['123'] }).success).toBe(false);
    });

    it('severity below the threshold is ignored; at the threshold responds', () => {
      expect(single(backdoor(), policy({ severityThreshold: 8.5 })).reason).toBe(
        'detail.severity: 8 is below the threshold 8.5',
      );
      expect(single(backdoor(), policy({ severityThreshold: 8 })).decision).toBe('respond');
    });

    it('denyTypes match exactly or by a prefix ending in / or :', () => {
      for (const deny of ['Backdoor:EC2/C&CActivity.B!DNS', 'Backdoor:EC2/', 'Backdoor:']) {
        expect(expectNot(single(backdoor(), policy({ denyTypes: [deny] })), 'ignore', 'detail.type')).toContain('denyTypes');
      }
      // A prefix not ending in / or : is not a prefix pattern.
      expect(single(backdoor(), policy({ denyTypes: ['Backdoor:EC2/C&CActivity.B'] })).decision).toBe('respond');
      expect(single(backdoor(), policy({ denyTypes: ['Backdoor'] })).decision).toBe('respond');
    });

    it('denyTypes win over allowTypes', () => {
      const p = policy({ allowTypes: ['Backdoor:'], denyTypes: ['Backdoor:EC2/'] });
      expect(single(backdoor(), p).decision).toBe('ignore');
    });

    it('a non-empty allowTypes restricts, and can add a type outside the containment list', () => {
      expect(expectNot(single(backdoor(), policy({ allowTypes: ['Trojan:'] })), 'ignore', 'detail.type')).toContain('allowTypes');
      const unusual = loadEvent<GdFixture>('gd-unknown-type.json');
      expect(single(unusual).decision).toBe('ignore');
      expect(single(unusual, policy({ allowTypes: ['Behavior:EC2/TrafficVolumeUnusual'] })).decision).toBe('respond');
    });

    it('allowTypes never turns an inbound attack into a response', () => {
      const p = policy({ allowTypes: ['Recon:', 'UnauthorizedAccess:EC2/'] });
      expect(single(loadEvent('gd-port-probe-unprotected-port.json'), p).decision).toBe('ignore');
      const inbound = loadEvent<GdFixture>('gd-ssh-bruteforce-inbound.json');
      inbound.detail.severity = 8;
      expect(single(inbound, p).decision).toBe('ignore');
    });

    it('allowedAccounts and allowedRegions reject targets outside them', () => {
      expect(single(backdoor(), policy({ allowedAccounts: ['111122223333'] })).decision).toBe('respond');
      expect(single(backdoor(), policy({ allowedAccounts: ['999999999999'] })).reason).toBe(
        'detail.accountId: account 111122223333 not managed by cordon (not in allowedAccounts)',
      );
      expect(single(backdoor(), policy({ allowedRegions: ['eu-west-1'] })).reason).toBe(
        'detail.region: region us-east-1 not managed by cordon (not in allowedRegions)',
      );
    });

    it('matchesTypeList', () => {
      expect(matchesTypeList('Trojan:EC2/DropPoint', ['Trojan:EC2/DropPoint'])).toBe(true);
      expect(matchesTypeList('Trojan:EC2/DropPoint!DNS', ['Trojan:EC2/DropPoint'])).toBe(false);
      expect(matchesTypeList('Trojan:EC2/DropPoint!DNS', ['Trojan:EC2/'])).toBe(true);
      expect(matchesTypeList('Trojan:Runtime/DropPoint', ['Trojan:EC2/'])).toBe(false);
      expect(matchesTypeList('Trojan:Runtime/DropPoint', ['Trojan:'])).toBe(true);
      expect(matchesTypeList('Trojan:EC2/DropPoint', [])).toBe(false);
    });
  });

  describe('malformed or hostile input is rejected, naming the field', () => {
    const portscan = (): GdFixture => loadEvent<GdFixture>('gd-portscan-outbound.json');

    it.each<[string, (e: GdFixture) => void, string]>([
      ['severity as a string', (e) => (e.detail.severity = '8'), 'detail.severity'],
      ['severity above 10', (e) => (e.detail.severity = 11), 'detail.severity'],
      ['archived as a string', (e) => (e.detail.service.archived = 'yes'), 'detail.service.archived'],
      ['missing accountId', (e) => delete (e.detail as Record<string, unknown>).accountId, 'detail.accountId'],
      ['account id with letters', (e) => (e.detail.accountId = '11112222333a'), 'detail.accountId'],
      ['region in capitals', (e) => (e.detail.region = 'US-EAST-1'), 'detail.region'],
      ['instance id too short', (e) => (e.detail.resource.instanceDetails = { instanceId: 'i-123' }), 'detail.resource.instanceDetails.instanceId'],
      ['Instance without an instance id', (e) => (e.detail.resource.instanceDetails = {}), 'detail.resource.instanceDetails.instanceId'],
      ['finding type with a space', (e) => (e.detail.type = 'Backdoor:EC2/C&C Activity'), 'detail.type'],
      ['bad updatedAt', (e) => (e.detail.updatedAt = 'yesterday'), 'detail.updatedAt'],
      ['bad detector id', (e) => (e.detail.service.detectorId = '../../etc'), 'detail.service.detectorId'],
      ['overlong description', (e) => (e.detail.description = 'x'.repeat(9000)), 'detail.description'],
      ['title with a NUL', (e) => (e.detail.title = 'scan\u0000'), 'detail.title'],
      ['detail as an array', (e) => ((e as Record<string, unknown>).detail = []), 'detail'],
      ['event id with a slash', (e) => (e.id = 'a/b'), 'id'],
    ])('%s', (_name, mutate, field) => {
      const event = portscan();
      mutate(event);
      expectNot(single(event), 'reject', field);
    });

    it.each([null, 42, 'a string', true, [], [{}]])('non-object %p', (input) => {
      expectNot(single(input), 'reject', '(root)');
    });

    it('an event larger than EventBridge allows', () => {
      const event = portscan();
      event.padding = 'x'.repeat(300 * 1024);
      expect(expectNot(single(event), 'reject', '(root)')).toContain("larger than EventBridge's 262144-byte limit");
    });

    it('keeps control characters and unbounded input out of reasons', () => {
      const d = single({ source: 'evil\n\u001b[31m', 'detail-type': 'x'.repeat(5000), id: '1' });
      // Quoted (JSON escapes the control characters) and cut at 64 characters.
      expect(d).toStrictEqual({
        decision: 'reject',
        reason:
          'source/detail-type: unsupported event "evil\\n\\u001b[31m" / "' + 'x'.repeat(64) + '…"; cordon accepts ' +
          '"GuardDuty Finding" from aws.guardduty and "Security Hub Findings - Custom Action" from aws.securityhub',
      });
    });

    it('cleanReason replaces raw control characters and bounds a reason at 1024 characters', () => {
      expect(cleanReason('a\u0000b\nc\u007fd\u009fe\u00a0f')).toBe('a?b?c?d?e\u00a0f');
      expect(cleanReason('y'.repeat(1024))).toBe('y'.repeat(1024));
      expect(cleanReason('y'.repeat(1025))).toBe(`${'y'.repeat(1023)}…`);
    });
  });
});

// ---------------------------------------------------------------------------
// Security Hub custom action
// ---------------------------------------------------------------------------

describe('Security Hub custom action', () => {
  const two = (): ShFixture => loadEvent<ShFixture>('sh-custom-action-two-instances.json');
  const T3 = { accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0a1b2c3d4e5f60718' };

  it('one request per instance, ids suffixed by position, target from each finding', () => {
    const event = two();
    const [a, b] = decideAll(event).map(expectRespond);
    expect(a?.request).toEqual({
      requestId: '8a5b9c0d-1e2f-4031-a425-b6c7d8e9f001-0',
      source: 'securityhub',
      target: TARGET,
      finding: {
        id: 'a6c1f0e2b3d4c5b6a7980f1e2d3c4b5a',
        type: 'Recon:EC2/Portscan',
        severity: 5,
        title: 'Unusual outbound port scan from EC2 instance i-0123456789abcdef0.',
        updatedAt: '2026-03-02T09:09:55.103Z',
      },
      actions: ALL_ACTIONS,
      reason: 'Security Hub custom action ContainInstance on Recon:EC2/Portscan (severity 5) for i-0123456789abcdef0',
      requestedBy: 'securityhub:ContainInstance',
    });
    expect(b?.request.requestId).toBe('8a5b9c0d-1e2f-4031-a425-b6c7d8e9f001-1');
    expect(b?.target).toEqual(T3);
    expect(b?.request.finding).toEqual({
      id: 'd0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5',
      type: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      title: 'Command and Control server domain name queried by EC2 instance i-0a1b2c3d4e5f60718.',
      updatedAt: '2026-03-02T09:09:55.103Z',
    });
  });

  it('takes the target from the finding even when the envelope (aggregation region) differs', () => {
    const event = two();
    expect(event.region).toBe('us-east-1');
    expect(decideAll(event).map((d) => (d.decision === 'respond' ? d.target.region : d.decision))).toEqual([
      'us-east-1',
      'eu-west-1',
    ]);
  });

  it('a finding naming two instances gives two decisions; a finding naming none gives one ignore', () => {
    const event = two();
    const first = event.detail.findings[0] as ShFinding;
    first.Resources.push({ Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0ccccccccccccccc1' });
    first.Resources.unshift({ Type: 'AwsEc2Volume', Id: 'arn:aws:ec2:us-east-1:111122223333:volume/vol-0123' });
    const none = structuredClone(first);
    none.Resources = [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::logs' }];
    event.detail.findings.push(none);
    const ds = decideAll(event);
    expect(ds.map((d) => d.decision)).toEqual(['respond', 'respond', 'respond', 'ignore']);
    expect(ds.map((d) => (d.decision === 'respond' ? d.request.requestId.slice(-2) : d.reason))).toEqual([
      '-0',
      '-1',
      '-2',
      'detail.findings.2.Resources: the finding names no AwsEc2Instance resource; nothing to contain',
    ]);
  });

  it('a malformed finding is rejected on its own, naming its index and field', () => {
    const event = two();
    (event.detail.findings[1] as ShFinding).AwsAccountId = '4444-5555-6666';
    const [a, b] = decideAll(event);
    expect(a?.decision).toBe('respond');
    expectNot(b as Decision, 'reject', 'detail.findings.1.AwsAccountId');
  });

  it.each<[string, string, string]>([
    ['account differs from AwsAccountId', 'arn:aws:ec2:us-east-1:999999999999:instance/i-0123456789abcdef0', 'account 999999999999 differs'],
    ['region differs from Region', 'arn:aws:ec2:us-west-2:111122223333:instance/i-0123456789abcdef0', 'region "us-west-2" differs'],
    ['shell metacharacters', 'arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0;reboot', 'valid instance id'],
    ['not an ARN', 'instance/i-0123456789abcdef0', 'must be an EC2 instance ARN'],
  ])('rejects an AwsEc2Instance Id whose %s', (_name, id, fragment) => {
    const event = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    (event.detail.findings[0] as ShFinding).Resources[0] = { Type: 'AwsEc2Instance', Id: id };
    expect(expectNot(single(event), 'reject', 'detail.findings.0.Resources.0.Id')).toContain(fragment);
  });

  it('rejects an instance resource whose own Region differs from its finding’s, on its own', () => {
    const event = two();
    const second = event.detail.findings[1] as ShFinding;
    second.Resources[0] = { Type: 'AwsEc2Instance', Id: 'i-0a1b2c3d4e5f60718', Region: 'ap-southeast-2' };

    const [a, b] = decideAll(event);

    expect(a?.decision).toBe('respond');
    expect(expectNot(b as Decision, 'reject', 'detail.findings.1.Resources.0.Region')).toBe(
      'detail.findings.1.Resources.0.Region: region "ap-southeast-2" differs from detail.findings.1.Region eu-west-1',
    );
  });

  it('judges every instance of every selected finding, from any product, each from its own finding', () => {
    const event = loadEvent<ShFixture>('sh-custom-action-mixed.json');
    expect({ account: event.account, region: event.region }).toEqual({ account: '111122223333', region: 'us-east-1' });

    const ds = decideAll(event);

    expect(ds.map((d) => (d.decision === 'respond' ? [d.request.requestId, d.target] : [d.decision, d.reason]))).toEqual([
      ['4e7a1c2b-9d3f-4a6e-8b1c-2d3e4f5a6b7c-0', { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0b1c2d3e4f5a6b7c8' }],
      ['ignore', 'detail.findings.1.Resources: the finding names no AwsEc2Instance resource; nothing to contain'],
      ['4e7a1c2b-9d3f-4a6e-8b1c-2d3e4f5a6b7c-2', { accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0c1d2e3f4a5b6c7d8' }],
      ['4e7a1c2b-9d3f-4a6e-8b1c-2d3e4f5a6b7c-3', { accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0d1e2f3a4b5c6d7e8' }],
    ]);
    const [inspector, , first] = ds.map((d) => (d.decision === 'respond' ? d.request : undefined));
    expect(inspector?.finding).toEqual({
      id: '3b9e0c4a5d6f7a8b9c0d1e2f3a4b5c6d',
      type: 'CVE',
      severity: 9,
      title: 'CVE-2024-3094 - xz-utils, xz-libs',
      updatedAt: '2026-03-03T13:50:02.000Z',
    });
    expect(first?.requestedBy).toBe('securityhub:Contain EC2 instance');
    expect(first?.finding?.type).toBe('Backdoor:EC2/C&CActivity.B');
    for (const d of ds) if (d.decision === 'respond') expect(ResponseRequest.parse(d.request)).toEqual(d.request);
  });

  it('accepts a bare instance id as the resource Id', () => {
    const event = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    (event.detail.findings[0] as ShFinding).Resources[0] = { Type: 'AwsEc2Instance', Id: 'i-0123456789abcdef0' };
    expect(expectRespond(single(event)).target).toEqual(TARGET);
  });

  it('rejects more than 100 findings, and none', () => {
    const event = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    const finding = event.detail.findings[0] as ShFinding;
    event.detail.findings = Array.from({ length: 101 }, () => structuredClone(finding));
    expect(expectNot(single(event), 'reject', 'detail.findings')).toContain('at most 100');
    event.detail.findings = event.detail.findings.slice(0, 100);
    expect(decideAll(event)).toHaveLength(100);
    event.detail.findings = [];
    expectNot(single(event), 'reject', 'detail.findings');
  });

  it('ignores sample findings', () => {
    const bySample = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    (bySample.detail.findings[0] as ShFinding).ProductFields = { 'aws/guardduty/service/additionalInfo/sample': 'true' };
    expectNot(single(bySample), 'ignore', 'detail.findings.0.ProductFields');
    const byInstance = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    (byInstance.detail.findings[0] as ShFinding).Resources[0] = {
      Type: 'AwsEc2Instance',
      Id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-99999999',
    };
    expectNot(single(byInstance), 'ignore', 'detail.findings.0.Resources.0.Id');
  });

  it('a responder chose these findings: severity and type filters do not apply, account scope does', () => {
    const event = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    (event.detail.findings[0] as ShFinding).Severity = { Normalized: 10, Label: 'LOW' };
    const d = expectRespond(single(event, policy({ severityThreshold: 7, denyTypes: ['Recon:'] })));
    expect(d.request.finding?.severity).toBe(1);
    expect(single(event, policy({ allowedAccounts: ['444455556666'] })).reason).toBe(
      'detail.findings.0.AwsAccountId: account 111122223333 not managed by cordon (not in allowedAccounts)',
    );
  });

  it('makes a valid finding id and type from any product', () => {
    const event = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    const f = event.detail.findings[0] as ShFinding;
    f.Id = 'urn:vendor:finding id with spaces/';
    f.ProductArn = 'arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default';
    f.ProductName = 'Default';
    f.Types = ['Unusual Behaviors/VM/Crypto mining detected'];
    f.Severity = { Label: 'CRITICAL' };
    const d = expectRespond(single(event));
    expect(d.request.finding?.id).toMatch(/^sha256-[0-9a-f]{32}$/);
    expect(d.request.finding?.type).toBe('Crypto_mining_detected');
    expect(d.request.finding?.severity).toBe(9);
  });

  it('rejects an envelope without actionName and a finding with a forged multi-line title', () => {
    const noName = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    delete (noName.detail as Record<string, unknown>).actionName;
    expectNot(single(noName), 'reject', 'detail.actionName');
    const forged = loadEvent<ShFixture>('sh-custom-action-one-instance.json');
    (forged.detail.findings[0] as ShFinding).Title = 'ok\n{"level":"INFO"}';
    expectNot(single(forged), 'reject', 'detail.findings.0.Title');
  });
});

// ---------------------------------------------------------------------------
// Manual / API requests, decide()
// ---------------------------------------------------------------------------

describe('manual and API requests', () => {
  const manual = (): Record<string, unknown> => loadEvent('manual-subset-actions.json');

  it('passes the request through, keeping its actions', () => {
    const d = expectRespond(single(manual()));
    expect(d.request).toEqual({
      requestId: 'ir-2026-0042',
      source: 'manual',
      target: { accountId: '111122223333', region: 'us-west-2', instanceId: 'i-0bb11cc22dd33ee44' },
      actions: ['isolate', 'snapshot'],
      reason: 'Responder saw crypto-miner process on the host during triage',
      requestedBy: 'alice@example.com',
    });
  });

  it('source api with actions omitted gets every action', () => {
    const event: Record<string, unknown> = { ...manual(), source: 'api' };
    delete event.actions;
    expect(expectRespond(single(event)).actions).toEqual(ALL_ACTIONS);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['unknown key', { extra: 1 }, '(root)'],
    ['repeated action', { actions: ['isolate', 'isolate'] }, 'actions'],
    ['no actions', { actions: [] }, 'actions'],
    ['bad target instance', { target: { accountId: '111122223333', region: 'us-west-2', instanceId: 'i-xyz' } }, 'target.instanceId'],
    ['empty reason', { reason: '' }, 'reason'],
  ])('rejects %s', (_name, patch, field) => {
    expectNot(single({ ...manual(), ...patch }), 'reject', field);
  });

  it('a ResponseRequest claiming source guardduty is not an entry point', () => {
    expectNot(single({ ...manual(), source: 'guardduty' }), 'reject', 'source');
  });

  it('allowedAccounts applies', () => {
    expect(single(manual(), policy({ allowedAccounts: ['444455556666'] })).reason).toBe(
      'target.accountId: account 111122223333 not managed by cordon (not in allowedAccounts)',
    );
  });
});

describe('decide()', () => {
  it('returns the single decision', () => {
    const event = loadEvent('gd-backdoor-cc-activity-dns.json');
    expect(decide(event)).toEqual(decideAll(event)[0]);
  });

  it('rejects a multi-target event, pointing at decideAll', () => {
    expect(decide(loadEvent('sh-custom-action-two-instances.json'))).toEqual({
      decision: 'reject',
      reason: 'detail.findings: the event names 2 targets; decide() judges single-target events, use decideAll()',
    });
  });

  it('overallDecision: respond > ignore > reject', () => {
    const r = { decision: 'reject', reason: 'x' } as const;
    const i = { decision: 'ignore', reason: 'x' } as const;
    const respond = decide(loadEvent('gd-backdoor-cc-activity-dns.json'));
    expect(overallDecision([r, i, respond])).toBe('respond');
    expect(overallDecision([r, i])).toBe('ignore');
    expect(overallDecision([r])).toBe('reject');
  });
});

describe('event schemas', () => {
  it('GuardDutyFindingEvent keeps the fields it does not rely on (loose objects)', () => {
    const parsed = GuardDutyFindingEvent.parse(loadEvent('gd-portscan-outbound.json'));
    expect(parsed.detail.resource.instanceDetails?.instanceId).toBe('i-0123456789abcdef0');
    expect((parsed.detail.resource.instanceDetails as Record<string, unknown>).instanceType).toBe('t3.medium');
    expect(parsed.detail.service.additionalInfo).toEqual({ value: '{}', type: 'default' });
  });

  it('SecurityHubCustomActionEvent validates every finding', () => {
    const event = loadEvent<ShFixture>('sh-custom-action-two-instances.json');
    expect(SecurityHubCustomActionEvent.parse(event).detail.findings.map((f) => f.AwsAccountId)).toEqual([
      '111122223333',
      '444455556666',
    ]);
    (event.detail.findings[1] as ShFinding).Region = 'mars-1';
    const result = SecurityHubCustomActionEvent.safeParse(event);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['detail.findings.1.Region']);
  });
});
