import { decideAll, DEFAULT_INTAKE_POLICY, IntakePolicy } from '../../../lambdas/intake/decide';
import { FindingType } from '../../../lambdas/intake/events';
import {
  CONTAINMENT_TYPES,
  FINDING_TYPE_PATTERNS,
  FINDING_TYPE_TABLE,
  FINDING_TYPES,
  findingTypeTable,
  FindingTypeTableError,
} from '../../../lambdas/intake/finding-types';
import { ACTION_SPECS, ACTIONS } from '../../../lambdas/shared/actions';
import { loadEvent } from './fixtures';

describe('the finding-type table', () => {
  it('names each type once, each a valid FindingType', () => {
    const types = FINDING_TYPES.map((s) => s.type);

    expect(new Set(types).size).toBe(types.length);
    expect(types.filter((t) => !FindingType.safeParse(t).success)).toEqual([]);
  });

  it('gives every type every action today, in declaration order', () => {
    expect(FINDING_TYPES.filter((s) => s.actions !== undefined).map((s) => s.type)).toEqual([]);
    expect(FINDING_TYPE_TABLE.actionsFor('Backdoor:EC2/C&CActivity.B')).toEqual(ACTION_SPECS.map((s) => s.key));
    expect(FINDING_TYPE_TABLE.actionsFor('Behavior:EC2/TrafficVolumeUnusual')).toEqual([...ACTIONS]);
  });

  it('looks up exact types first, then patterns, else nothing', () => {
    expect(FINDING_TYPE_TABLE.lookup('UnauthorizedAccess:EC2/SSHBruteForce')?.rule).toBe('directional');
    expect(FINDING_TYPE_TABLE.lookup('Execution:Runtime/ReverseShell')?.rule).toBe('contain');
    expect(FINDING_TYPE_TABLE.lookup('Behavior:EC2/TrafficVolumeUnusual')).toBeUndefined();
    expect(CONTAINMENT_TYPES.has('Execution:EC2/MaliciousFile')).toBe(true);
  });

  it('lists declared actions in declaration order, whatever order the entry gives', () => {
    const table = findingTypeTable(
      [{ type: 'Backdoor:EC2/Spambot', rule: 'contain', actions: ['snapshot', 'isolate'] }],
      [{ pattern: /^[A-Za-z]+:Runtime\//, rule: 'contain', actions: ['flowLogs'] }],
    );

    expect(table.actionsFor('Backdoor:EC2/Spambot')).toEqual(['isolate', 'snapshot']);
    expect(table.actionsFor('Execution:Runtime/ReverseShell')).toEqual(['flowLogs']);
    expect(table.actionsFor('Trojan:EC2/DropPoint')).toEqual([...ACTIONS]);
  });

  it('refuses a type listed twice, and empty or repeated actions', () => {
    expect(() =>
      findingTypeTable([
        { type: 'Backdoor:EC2/Spambot', rule: 'contain' },
        { type: 'Backdoor:EC2/Spambot', rule: 'directional' },
      ]),
    ).toThrow(new FindingTypeTableError('finding type Backdoor:EC2/Spambot is listed twice'));
    expect(() => findingTypeTable([{ type: 'Backdoor:EC2/Spambot', rule: 'contain', actions: [] }])).toThrow(
      'finding type Backdoor:EC2/Spambot: actions must name at least one action, each once',
    );
    expect(() => findingTypeTable([], [{ pattern: /^X:/, rule: 'contain', actions: ['isolate', 'isolate'] }])).toThrow(
      'finding type /^X:/: actions must name at least one action, each once',
    );
  });
});

describe('intake with a table giving a type its own actions', () => {
  const table = findingTypeTable(
    [
      ...FINDING_TYPES.filter((s) => s.type !== 'UnauthorizedAccess:EC2/SSHBruteForce' && s.type !== 'Recon:EC2/Portscan'),
      { type: 'UnauthorizedAccess:EC2/SSHBruteForce', rule: 'directional', actions: ['quarantineRole', 'snapshot'] },
      { type: 'Recon:EC2/Portscan', rule: 'directional', actions: ['isolate'] },
    ],
    FINDING_TYPE_PATTERNS,
  );

  it('asks a GuardDuty response for those actions only', () => {
    const [decision] = decideAll(loadEvent('gd-ssh-bruteforce-outbound.json'), DEFAULT_INTAKE_POLICY, table);

    expect(decision?.decision).toBe('respond');
    expect(decision?.decision === 'respond' && decision.request.actions).toEqual(['snapshot', 'quarantineRole']);
  });

  it('asks a Security Hub response for the type it names (GuardDuty spelling) those actions only', () => {
    const [decision] = decideAll(loadEvent('sh-custom-action-one-instance.json'), DEFAULT_INTAKE_POLICY, table);

    expect(decision?.decision).toBe('respond');
    expect(decision?.decision === 'respond' && decision.request.actions).toEqual(['isolate']);
  });

  it('gives a type the policy allows but the table does not list every action', () => {
    const policy = IntakePolicy.parse({ allowTypes: ['Behavior:EC2/'], severityThreshold: 0 });
    const [decision] = decideAll(loadEvent('gd-unknown-type.json'), policy, table);

    expect(decision?.decision).toBe('respond');
    expect(decision?.decision === 'respond' && decision.request.actions).toEqual([...ACTIONS]);
  });

  it('still ignores an inbound attack whatever actions its entry names', () => {
    const inboundTable = findingTypeTable([{ type: 'Recon:EC2/PortProbeUnprotectedPort', rule: 'inbound', actions: ['isolate'] }]);
    const [decision] = decideAll(loadEvent('gd-port-probe-unprotected-port.json'), DEFAULT_INTAKE_POLICY, inboundTable);

    expect(decision?.decision).toBe('ignore');
  });
});
