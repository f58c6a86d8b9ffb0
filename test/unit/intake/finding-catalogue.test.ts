/**
 * Issue 16: the finding-type catalogue as a table. Every type cordon knows, driven through the real
 * decision (`decide` on a GuardDuty finding of that type), with its exact decision and reason. The
 * expected lists are held here as well as read from the source, so a type deleted from (or added to)
 * the catalogue fails a test instead of silently changing what cordon contains.
 */
import {
  CONTAINMENT_TYPES,
  CREDENTIAL_EXFILTRATION_TYPES,
  decide,
  decideAll,
  DIRECTIONAL_TYPES,
  INBOUND_ATTACK_TYPES,
  IntakePolicy,
  type Decision,
} from '../../../lambdas/intake/decide';
import { ACTIONS } from '../../../lambdas/shared/actions';
import { loadEvent } from './fixtures';

const INSTANCE = 'i-0123456789abcdef0';
const DIRECTION = 'detail.service.action.networkConnectionAction.connectionDirection';

const EXPECTED_CONTAINMENT = [
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
  'Execution:EC2/MaliciousFile',
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
  'UnauthorizedAccess:EC2/MetadataDNSRebind',
  'UnauthorizedAccess:EC2/TorClient',
  'UnauthorizedAccess:EC2/TorRelay',
];
const EXPECTED_DIRECTIONAL = [
  'Impact:EC2/WinRMBruteForce',
  'Recon:EC2/Portscan',
  'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom',
  'UnauthorizedAccess:EC2/RDPBruteForce',
  'UnauthorizedAccess:EC2/SSHBruteForce',
];
const EXPECTED_INBOUND = ['Recon:EC2/PortProbeEMRUnprotectedPort', 'Recon:EC2/PortProbeUnprotectedPort', 'UnauthorizedAccess:EC2/TorIPCaller'];
const EXPECTED_CREDENTIALS = [
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
];
/** Deliberately absent from the catalogue (see lambdas/intake): ignored unless allowTypes names them. */
const NOT_CONTAINED = [
  'Behavior:EC2/NetworkPortUnusual',
  'Behavior:EC2/TrafficVolumeUnusual',
  'Execution:EC2/SuspiciousFile',
  'Execution:EC2/MaliciousFile!Snapshot',
  'Execution:EC2/MaliciousFile!AMI',
  'Execution:EC2/MaliciousFile!RecoveryPoint',
  'AttackSequence:EC2/CompromisedInstanceGroup',
  'Backdoor:EC2/C&CActivity',
  'Policy:IAMUser/RootCredentialUsage',
];

interface GdEvent {
  detail: {
    type: string;
    severity: number;
    resource: { resourceType: string; instanceDetails?: unknown };
    service: { action?: { networkConnectionAction?: { connectionDirection?: string } } };
  };
}

/** A real-shaped GuardDuty finding of `type`, severity 8, on INSTANCE, with the given connection direction. */
function finding(type: string, direction: string | undefined): GdEvent {
  const event = loadEvent<GdEvent>('gd-ssh-bruteforce-outbound.json');
  event.detail.type = type;
  const nca = event.detail.service.action?.networkConnectionAction;
  if (!nca) throw new Error('fixture without networkConnectionAction');
  if (direction === undefined) delete event.detail.service.action;
  else nca.connectionDirection = direction;
  return event;
}

function credentialFinding(type: string): GdEvent {
  const event = loadEvent<GdEvent>('gd-credential-exfiltration-outside-aws.json');
  event.detail.type = type;
  return event;
}

const sorted = (s: ReadonlySet<string>) => [...s].sort();
const verdict = (d: Decision) => ({ decision: d.decision, reason: d.reason });
const responds = (type: string) => ({ decision: 'respond', reason: `GuardDuty ${type} (severity 8) on ${INSTANCE}` });

describe('the catalogue holds exactly the expected types', () => {
  it.each([
    ['containment', CONTAINMENT_TYPES, EXPECTED_CONTAINMENT, 32],
    ['directional', DIRECTIONAL_TYPES, EXPECTED_DIRECTIONAL, 5],
    ['inbound attack', INBOUND_ATTACK_TYPES, EXPECTED_INBOUND, 3],
    ['credential exfiltration', CREDENTIAL_EXFILTRATION_TYPES, EXPECTED_CREDENTIALS, 2],
  ])('%s types', (_name, table, expected, count) => {
    expect(sorted(table)).toEqual([...expected].sort());
    expect(table.size).toBe(count);
  });
});

describe('containment types: respond whatever the direction', () => {
  it.each(EXPECTED_CONTAINMENT)('%s', (type) => {
    for (const direction of ['OUTBOUND', 'INBOUND', undefined]) {
      const d = decide(finding(type, direction));
      expect(verdict(d)).toEqual(responds(type));
      if (d.decision !== 'respond') throw new Error('unreachable');
      expect(d.request.finding?.type).toBe(type);
      expect(d.actions).toEqual([...ACTIONS]);
    }
  });
});

describe('directional types: the instance as attacker responds, as target is ignored', () => {
  it.each(EXPECTED_DIRECTIONAL)('%s', (type) => {
    expect(verdict(decide(finding(type, 'OUTBOUND')))).toEqual(responds(type));
    expect(verdict(decide(finding(type, 'INBOUND')))).toEqual({
      decision: 'ignore',
      reason: `${DIRECTION}: INBOUND ${type} against ${INSTANCE}; the instance is the target, not the attacker`,
    });
    expect(verdict(decide(finding(type, undefined)))).toEqual({
      decision: 'ignore',
      reason: `${DIRECTION}: missing for ${type}; cannot tell whether ${INSTANCE} is the attacker or the target`,
    });
    expect(verdict(decide(finding(type, 'UNKNOWN')))).toEqual({
      decision: 'ignore',
      reason: `${DIRECTION}: UNKNOWN for ${type}; cannot tell whether ${INSTANCE} is the attacker or the target`,
    });
  });
});

describe('inbound attack types: always ignored, even allow-listed', () => {
  it.each(EXPECTED_INBOUND)('%s', (type) => {
    const ignored = { decision: 'ignore', reason: `detail.type: ${type} is an inbound attack against ${INSTANCE}; the instance is the target, not the attacker` };
    expect(verdict(decide(finding(type, 'OUTBOUND')))).toEqual(ignored);
    expect(verdict(decide(finding(type, 'OUTBOUND'), IntakePolicy.parse({ allowTypes: [type] })))).toEqual(ignored);
  });
});

describe('credential exfiltration types: the instance the credentials were issued to is contained', () => {
  it.each(EXPECTED_CREDENTIALS)('%s', (type) => {
    expect(verdict(decide(credentialFinding(type)))).toEqual({
      decision: 'respond',
      reason: `GuardDuty ${type} (severity 8): role credentials of ${INSTANCE} used outside it`,
    });
    const noInstance = credentialFinding(type);
    delete noInstance.detail.resource.instanceDetails;
    expect(verdict(decide(noInstance))).toEqual({
      decision: 'ignore',
      reason: `detail.resource.instanceDetails.instanceId: ${type} names no instance whose credentials were used; nothing to contain`,
    });
  });
});

describe('types outside the catalogue', () => {
  it.each(NOT_CONTAINED)('%s is ignored, and contained once allowTypes names it', (type) => {
    expect(verdict(decide(finding(type, 'OUTBOUND')))).toEqual({
      decision: 'ignore',
      reason: `detail.type: finding type ${type} not in cordon's containment list`,
    });
    expect(verdict(decide(finding(type, 'OUTBOUND'), IntakePolicy.parse({ allowTypes: [type] })))).toEqual(responds(type));
  });

  it.each(['Execution:Runtime/ReverseShell', 'CryptoCurrency:Runtime/BitcoinTool.B', 'PrivilegeEscalation:Runtime/ContainerMountsHostDirectory'])(
    'Runtime Monitoring type %s on an instance responds',
    (type) => {
      expect(verdict(decide(finding(type, undefined)))).toEqual(responds(type));
    },
  );

  it.each(['Execution:RuntimeX/ReverseShell', 'Runtime/ReverseShell', 'Execution:EC2/Runtime/ReverseShell'])('%s is not a Runtime Monitoring type', (type) => {
    expect(verdict(decide(finding(type, undefined)))).toEqual({
      decision: 'ignore',
      reason: `detail.type: finding type ${type} not in cordon's containment list`,
    });
  });

  it('a containment type on a resource that is not an instance is ignored', () => {
    const event = finding('Backdoor:EC2/Spambot', 'OUTBOUND');
    event.detail.resource.resourceType = 'S3Bucket';
    expect(verdict(decide(event))).toEqual({
      decision: 'ignore',
      reason: 'detail.resource.resourceType: Backdoor:EC2/Spambot concerns resource type S3Bucket, not an EC2 instance; cordon contains instances only',
    });
  });
});

describe('severity threshold, at its boundary', () => {
  it('responds at exactly the threshold and ignores just below it', () => {
    const at = finding('Backdoor:EC2/Spambot', undefined);
    at.detail.severity = 4;
    const below = finding('Backdoor:EC2/Spambot', undefined);
    below.detail.severity = 3.9;

    expect(verdict(decide(at))).toEqual({ decision: 'respond', reason: `GuardDuty Backdoor:EC2/Spambot (severity 4) on ${INSTANCE}` });
    expect(verdict(decide(below))).toEqual({ decision: 'ignore', reason: 'detail.severity: 3.9 is below the threshold 4' });
  });
});

describe('Security Hub', () => {
  it('a finding without ProductFields is judged, not a crash', () => {
    const event = loadEvent<{ detail: { findings: Array<Record<string, unknown>> } }>('sh-custom-action-one-instance.json');
    delete event.detail.findings[0]?.ProductFields;

    const [d] = decideAll(event);

    expect(d && verdict(d)).toEqual({
      decision: 'respond',
      reason: `Security Hub custom action ContainInstance on Recon:EC2/Portscan (severity 5) for ${INSTANCE}`,
    });
  });
});
