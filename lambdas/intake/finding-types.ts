/**
 * The GuardDuty finding types cordon responds to, and how (docs/design.md §2): THE one place a
 * finding type is added, removed or given its own actions.
 *
 * Derived from the Amazon GuardDuty User Guide: "GuardDuty EC2 finding types"
 * (guardduty_finding-types-ec2), "GuardDuty IAM finding types" (InstanceCredentialExfiltration),
 * "Malware Protection for EC2 finding types" and "Runtime Monitoring finding types".
 * Exact names, not prefixes: a type GuardDuty adds later is ignored with a clear reason
 * ("not in cordon's containment list") until someone decides it is worth containing
 * (the policy's `allowTypes` can name it meanwhile; it then gets every action).
 *
 * To add a type: one line in FINDING_TYPES with its rule, and `actions` if it should not get all
 * of them. Intake (parsers/guardduty.ts, parsers/securityhub.ts) reads only this table.
 */
import { ACTIONS, type ActionKey } from '../shared/actions';

/**
 * How intake judges a finding of the type:
 * - `contain`: the instance is doing something only a compromised host does: respond whatever the direction;
 * - `directional`: same type either way: the instance is the attacker (OUTBOUND: respond) or the
 *   victim (INBOUND: ignore); a finding without a direction is ignored;
 * - `inbound`: an attack *against* the instance: it is the target, so there is nothing to contain;
 * - `credential-exfiltration`: resource type `AccessKey`, the instance's role credentials used
 *   from outside it; `resource.instanceDetails` names the instance they were issued to, and that
 *   instance is contained.
 */
export type FindingTypeRule = 'contain' | 'directional' | 'inbound' | 'credential-exfiltration';

export interface FindingTypeSpec {
  /** The GuardDuty type, exactly as GuardDuty spells it. */
  readonly type: string;
  readonly rule: FindingTypeRule;
  /**
   * The containment actions a response to this type asks for (lambdas/shared/actions.ts keys); the
   * request lists them in declaration order whatever the order here. Omitted: every action.
   * Ignored for `inbound` types, which never get a response.
   */
  readonly actions?: readonly ActionKey[];
}

/** A family of types matched by pattern, for types GuardDuty names by scheme rather than one by one. */
export interface FindingTypePattern {
  readonly pattern: RegExp;
  readonly rule: FindingTypeRule;
  readonly actions?: readonly ActionKey[];
}

export const FINDING_TYPES: readonly FindingTypeSpec[] = [
  // contain: the instance is doing something only a compromised host does.
  { type: 'Backdoor:EC2/C&CActivity.B', rule: 'contain' },
  { type: 'Backdoor:EC2/C&CActivity.B!DNS', rule: 'contain' },
  { type: 'Backdoor:EC2/DenialOfService.Dns', rule: 'contain' },
  { type: 'Backdoor:EC2/DenialOfService.Tcp', rule: 'contain' },
  { type: 'Backdoor:EC2/DenialOfService.Udp', rule: 'contain' },
  { type: 'Backdoor:EC2/DenialOfService.UdpOnTcpPorts', rule: 'contain' },
  { type: 'Backdoor:EC2/DenialOfService.UnusualProtocol', rule: 'contain' },
  { type: 'Backdoor:EC2/Spambot', rule: 'contain' },
  { type: 'CryptoCurrency:EC2/BitcoinTool.B', rule: 'contain' },
  { type: 'CryptoCurrency:EC2/BitcoinTool.B!DNS', rule: 'contain' },
  { type: 'DefenseEvasion:EC2/UnusualDNSResolver', rule: 'contain' },
  { type: 'DefenseEvasion:EC2/UnusualDoHActivity', rule: 'contain' },
  { type: 'DefenseEvasion:EC2/UnusualDoTActivity', rule: 'contain' },
  { type: 'Impact:EC2/AbusedDomainRequest.Reputation', rule: 'contain' },
  { type: 'Impact:EC2/BitcoinDomainRequest.Reputation', rule: 'contain' },
  { type: 'Impact:EC2/MaliciousDomainRequest.Custom', rule: 'contain' },
  { type: 'Impact:EC2/MaliciousDomainRequest.Reputation', rule: 'contain' },
  { type: 'Impact:EC2/PortSweep', rule: 'contain' },
  { type: 'Impact:EC2/SuspiciousDomainRequest.Reputation', rule: 'contain' },
  { type: 'Trojan:EC2/BlackholeTraffic', rule: 'contain' },
  { type: 'Trojan:EC2/BlackholeTraffic!DNS', rule: 'contain' },
  { type: 'Trojan:EC2/DGADomainRequest.B', rule: 'contain' },
  { type: 'Trojan:EC2/DGADomainRequest.C!DNS', rule: 'contain' },
  { type: 'Trojan:EC2/DNSDataExfiltration', rule: 'contain' },
  { type: 'Trojan:EC2/DriveBySourceTraffic!DNS', rule: 'contain' },
  { type: 'Trojan:EC2/DropPoint', rule: 'contain' },
  { type: 'Trojan:EC2/DropPoint!DNS', rule: 'contain' },
  { type: 'Trojan:EC2/PhishingDomainRequest!DNS', rule: 'contain' },
  // DNS rebinding to the metadata service: the instance's role credentials may be exposed.
  { type: 'UnauthorizedAccess:EC2/MetadataDNSRebind', rule: 'contain' },
  { type: 'UnauthorizedAccess:EC2/TorClient', rule: 'contain' },
  { type: 'UnauthorizedAccess:EC2/TorRelay', rule: 'contain' },
  // Malware Protection for EC2 found a malicious file on the instance's volumes.
  { type: 'Execution:EC2/MaliciousFile', rule: 'contain' },

  // directional: GuardDuty documents the brute-force types as low severity when the instance is
  // the target and high when it is the actor.
  { type: 'UnauthorizedAccess:EC2/SSHBruteForce', rule: 'directional' },
  { type: 'UnauthorizedAccess:EC2/RDPBruteForce', rule: 'directional' },
  { type: 'Impact:EC2/WinRMBruteForce', rule: 'directional' },
  { type: 'Recon:EC2/Portscan', rule: 'directional' },
  { type: 'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom', rule: 'directional' },

  // inbound: attacks against the instance.
  { type: 'Recon:EC2/PortProbeUnprotectedPort', rule: 'inbound' },
  { type: 'Recon:EC2/PortProbeEMRUnprotectedPort', rule: 'inbound' },
  { type: 'UnauthorizedAccess:EC2/TorIPCaller', rule: 'inbound' }, // retired; inbound connections from Tor exit nodes

  // credential exfiltration (resource type AccessKey).
  { type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', rule: 'credential-exfiltration' },
  { type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS', rule: 'credential-exfiltration' },
];
// Deliberately absent (ignored unless `allowTypes` names them):
// - Behavior:EC2/NetworkPortUnusual, Behavior:EC2/TrafficVolumeUnusual: baseline anomalies, not evidence of compromise;
// - Execution:EC2/SuspiciousFile: "potentially unwanted programs … dual use tools";
// - Execution:EC2/MaliciousFile!Snapshot, !AMI, !RecoveryPoint: a scanned artefact, not a running instance;
// - AttackSequence:EC2/CompromisedInstanceGroup: names a group of instances, not one in `instanceDetails`.

/** Checked after the exact types: Runtime Monitoring (`<Purpose>:Runtime/<Name>`), contained when the resource is an EC2 instance. */
export const FINDING_TYPE_PATTERNS: readonly FindingTypePattern[] = [{ pattern: /^[A-Za-z]+:Runtime\//, rule: 'contain' }];

export interface FindingTypeTable {
  /** The exact entry for `type`, else the first pattern it matches, else undefined (not in the containment list). */
  lookup(type: string): { readonly rule: FindingTypeRule; readonly actions?: readonly ActionKey[] } | undefined;
  /** The actions a response to `type` asks for, in declaration order: the entry's, or every action. */
  actionsFor(type: string): ActionKey[];
}

export class FindingTypeTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FindingTypeTableError';
  }
}

/** A lookup over `specs` and `patterns`; throws on a duplicate type or an empty or repeated `actions`. */
export function findingTypeTable(specs: readonly FindingTypeSpec[], patterns: readonly FindingTypePattern[] = []): FindingTypeTable {
  const byType = new Map<string, FindingTypeSpec>();
  for (const spec of specs) {
    if (byType.has(spec.type)) throw new FindingTypeTableError(`finding type ${spec.type} is listed twice`);
    byType.set(spec.type, spec);
  }
  for (const entry of [...specs, ...patterns]) {
    const actions = entry.actions;
    const name = 'type' in entry ? entry.type : String(entry.pattern);
    if (actions && (actions.length === 0 || new Set(actions).size !== actions.length)) {
      throw new FindingTypeTableError(`finding type ${name}: actions must name at least one action, each once`);
    }
  }
  const lookup = (type: string) => byType.get(type) ?? patterns.find((p) => p.pattern.test(type));
  return {
    lookup,
    actionsFor(type) {
      const actions = lookup(type)?.actions;
      return actions ? ACTIONS.filter((a) => actions.includes(a)) : [...ACTIONS];
    },
  };
}

/** The table intake uses. */
export const FINDING_TYPE_TABLE: FindingTypeTable = findingTypeTable(FINDING_TYPES, FINDING_TYPE_PATTERNS);

const typesWith = (rule: FindingTypeRule): ReadonlySet<string> =>
  new Set(FINDING_TYPES.filter((s) => s.rule === rule).map((s) => s.type));

/** The exact types of each rule, as sets (read-only views of FINDING_TYPES). */
export const CONTAINMENT_TYPES = typesWith('contain');
export const DIRECTIONAL_TYPES = typesWith('directional');
export const INBOUND_ATTACK_TYPES = typesWith('inbound');
export const CREDENTIAL_EXFILTRATION_TYPES = typesWith('credential-exfiltration');
