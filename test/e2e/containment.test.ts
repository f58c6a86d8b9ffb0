/**
 * End to end in the simulator (docs/design.md §7, issue 4): a real-shaped finding goes through the
 * real intake and the real response ASL with the real handlers, against the simulated account on
 * the simulated clock. Assertions are outcomes read from the model: which groups each ENI is in,
 * whether the attacker's flows still pass, whether the stolen credentials are denied, which
 * snapshots the hub owns.
 */
import { readFileSync } from 'node:fs';
import { DEMO_FINDING } from '../../bin/cli/simulate';
import { judgeFlow } from '../../lib/simulator/conntrack';
import type { Check } from '../../lib/simulator/judge';
import { simulate, type Simulation } from '../../lib/simulator/simulate';
import type { ScenarioInput } from '../../lib/simulator/scenario';

const demoEvent = JSON.parse(readFileSync(DEMO_FINDING, 'utf8')) as Record<string, unknown>;
const MEMBER = '444455556666';
const HUB = '999988887777';
const INSTANCE = 'i-0c0ffee0c0ffee001';
const INCIDENT = `inc-${MEMBER}-us-east-1-${INSTANCE}`;

function check(sim: Simulation, name: string | RegExp): Check {
  const found = sim.report.executions[0]?.checks.find((c) => (typeof name === 'string' ? c.name === name : name.test(c.name)));
  if (!found) throw new Error(`no check ${String(name)} in ${JSON.stringify(sim.report.executions[0]?.checks.map((c) => c.name))}`);
  return found;
}

/** The groups an ENI ends in, and whether they hold any rule at all. */
function finalNetwork(sim: Simulation, eniId: string) {
  const eni = sim.world.enis.get(eniId);
  if (!eni) throw new Error(`no ENI ${eniId}`);
  const rules = eni.groups.flatMap((g) => sim.world.groups.get(g)?.rules ?? []);
  return { groups: eni.groups, rules, timeout: eni.conntrack?.TcpEstablishedTimeout };
}

async function run(scenario: ScenarioInput = {}): Promise<Simulation> {
  return simulate(demoEvent, scenario);
}

describe('the demo scenario (cross-account, shared role, ASG + ALB, two ENIs one IPv6, two volumes one under aws/ebs)', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await run();
  });

  it('contains the instance and passes every after-check', () => {
    const [execution] = sim.report.executions;
    expect(execution?.outcome).toBe('contained');
    expect(execution?.status).toBe('SUCCEEDED');
    expect(sim.report.ok).toBe(true);
    expect(sim.world.item(INCIDENT, 'INCIDENT')?.status).toBe('contained');
  });

  it('leaves every ENI in an isolation group with no rule at all, IPv4 or IPv6, and the minimum tracking timeout', () => {
    const built = sim.instances.get(INSTANCE);
    expect(built?.enis).toHaveLength(2);
    for (const eni of built?.enis ?? []) {
      const net = finalNetwork(sim, eni);
      expect(net.groups).toHaveLength(1);
      expect(net.groups[0]).not.toBe(sim.estate.appGroup);
      expect(net.rules).toEqual([]);
      expect(net.timeout).toBe(60);
    }
  });

  it("cuts the attacker's direct IPv4 and IPv6 connections at their first packet after isolation, if the swap untracks them", () => {
    const built = sim.instances.get(INSTANCE);
    const isolatedAt = Math.max(...(built?.enis ?? []).map((eni) => (sim.world.eniHistory.get(eni) ?? []).at(-1)?.at ?? Infinity));
    for (const name of ['C2 over IPv4, straight out', 'C2 over IPv6']) {
      const flow = built?.flows.find((f) => f.name === name);
      const verdict = sim.report.executions[0]?.flows.find((v) => v.flow === name && v.assumption === 'optimistic');
      expect(verdict?.cutAt).toBeDefined();
      // The first packet after isolation, not later: nothing of the flow got through an isolated ENI.
      expect(verdict?.cutAt).toBeGreaterThan(isolatedAt);
      expect((verdict?.cutAt ?? 0) - isolatedAt).toBeLessThanOrEqual((flow?.packetEverySeconds ?? 0) * 1000);
    }
  });

  it('reports, rather than hides, that live tracked flows survive if the swap does not untrack them', () => {
    for (const v of sim.report.executions[0]?.flows.filter((f) => f.assumption === 'pessimistic') ?? []) {
      expect(v.cutAt).toBeUndefined();
      expect(v.trackedAtEnd).toBe(true);
    }
    expect(check(sim, /NAT gateway.*pessimistic/).pass).toBeNull();
    expect(check(sim, /NAT gateway.*pessimistic/).detail).toContain('always tracked');
  });

  it('cuts the NAT-gateway connection once it idles past the lowered 60 s timeout, under the optimistic assumption only', () => {
    const nat = sim.report.executions[0]?.flows.find((v) => v.flow === 'C2 through the NAT gateway' && v.assumption === 'optimistic');
    expect(nat?.reason).toContain('expired after 60 s idle');
  });

  it("denies the stolen credentials, but not the neighbour's, which shares the role", () => {
    const built = sim.instances.get(INSTANCE);
    expect(built?.roleName).toBe('web-role');
    expect(sim.world.credentialsDenied('web-role', INSTANCE, built?.stolenCredentialsIssuedAt as Date)).toBe(true);
    expect(sim.world.credentialsDenied('web-role', built?.neighbourId as string, built?.neighbourCredentialsIssuedAt as Date)).toBe(false);
    // Shared role in auto mode: no aws:TokenIssueTime revocation (it would cut off the neighbour).
    const policies = [...(sim.world.roles.get('web-role')?.inline.values() ?? [])].join('');
    expect(policies).not.toContain('aws:TokenIssueTime');
    expect(check(sim, 'neighbour sharing the role still works').pass).toBe(true);
    for (const eni of built?.neighbourEnis ?? []) expect(finalNetwork(sim, eni).groups).toEqual([sim.estate.appGroup]);
  });

  it('gets a completed copy of every volume into the hub, under the evidence key, including the aws/ebs one', () => {
    const hubSnapshots = [...sim.world.snapshots.values()].filter((s) => s.owner === HUB);
    expect(hubSnapshots).toHaveLength(2);
    for (const s of hubSnapshots) {
      expect(s.state).toBe('completed');
      expect(s.kmsKeyId).toBe(sim.hub.evidenceKeyArn);
      expect(s.tags['cordon:incident']).toBe(INCIDENT);
    }
    // The original of the default-key volume could never have been shared as is.
    const defaultKeyOriginal = [...sim.world.snapshots.values()].find((s) => s.owner === MEMBER && s.kmsKeyId === 'alias/aws/ebs');
    expect(defaultKeyOriginal?.sharedWith).toEqual([]);
  });

  it('takes the instance out of its Auto Scaling group and target group, protected from termination, its volumes kept', () => {
    const instance = sim.world.instances.get(INSTANCE);
    expect(sim.world.autoScaling.has(INSTANCE)).toBe(false);
    expect(instance?.disableApiTermination).toBe(true);
    expect(instance?.shutdownBehavior).toBe('stop');
    expect(instance?.volumes.every((v) => v.deleteOnTermination === false)).toBe(true);
    const target = sim.world.targetGroups.get(sim.instances.get(INSTANCE)?.targetGroupArn as string)?.targets.find((t) => t.id === INSTANCE);
    expect(target?.state).not.toBe('healthy');
  });

  it('keeps evidence whose every SHA-256 the manifest cites, and deletes nothing but temporary copies', () => {
    expect(check(sim, 'evidence carries its SHA-256, cited by the manifest').pass).toBe(true);
    expect(sim.world.deleted.size).toBe(2);
    for (const s of sim.world.deleted.values()) expect(s.tags['cordon:temporary']).toBe('true');
  });

  it('is deterministic: the same scenario gives the same report', async () => {
    const again = await run();
    expect(again.report).toEqual(sim.report);
  });
});

describe('other estates', () => {
  it('single-account deployment: contained, snapshots kept in the account under the evidence key, nothing shared', async () => {
    const sim = await run({ singleAccount: true });
    expect(sim.report.ok).toBe(true);
    expect(sim.hub.hubAccountId).toBe(MEMBER);
    const evidenceCopies = [...sim.world.snapshots.values()].filter((s) => s.kmsKeyId === sim.hub.evidenceKeyArn);
    expect(evidenceCopies).toHaveLength(2);
    expect([...sim.world.snapshots.values()].every((s) => s.sharedWith.length === 0)).toBe(true);
    expect(sim.world.calls.every((c) => c.account === MEMBER)).toBe(true);
  });

  it('a role used by this instance alone: its sessions are revoked too, and the stolen credentials are denied', async () => {
    const sim = await run({ instance: { profile: 'own' } });
    expect(sim.report.ok).toBe(true);
    const built = sim.instances.get(INSTANCE);
    const role = built?.roleName as string;
    expect(role).not.toBe('web-role');
    const policies = [...(sim.world.roles.get(role)?.inline.values() ?? [])].join('');
    expect(policies).toContain('aws:TokenIssueTime');
    expect(sim.world.credentialsDenied(role, INSTANCE, built?.stolenCredentialsIssuedAt as Date)).toBe(true);
    // Not just this instance's: any session issued before containment (a chained or copied one).
    expect(sim.world.credentialsDenied(role, 'i-0ffffffffffffffff', built?.stolenCredentialsIssuedAt as Date)).toBe(true);
  });

  it('an instance with no profile: network contained, no role touched, no credentials check to make', async () => {
    const sim = await run({ instance: { profile: 'none' } });
    expect(sim.report.executions[0]?.outcome).toBe('contained');
    expect(sim.world.calls.filter((c) => c.service === 'iam' && !/^(Get|List)/.test(c.command))).toEqual([]);
    expect(sim.report.executions[0]?.checks.map((c) => c.name)).not.toContain('stolen credentials denied');
    expect(sim.report.ok).toBe(true);
  });

  it('a terminated instance: a recorded failure, and nothing touched', async () => {
    const sim = await run({ instance: { state: 'terminated' } });
    const [execution] = sim.report.executions;
    expect(execution?.status).toBe('FAILED');
    expect(execution?.outcome).toBe('failed');
    expect(sim.world.item(INCIDENT, 'INCIDENT')?.status).toBe('failed');
    const mutating = sim.world.calls.filter((c) => ['ec2', 'iam', 'autoscaling', 'elasticloadbalancing'].includes(c.service) && !/^(Describe|Get|List)/.test(c.command));
    expect(mutating).toEqual([]);
    expect(sim.report.ok).toBe(true);
  });

  it('an attacker who never idles 60 s through the NAT gateway keeps the connection, and the report fails that check', async () => {
    const sim = await run({ attacker: { natBeaconSeconds: 30 } });
    expect(sim.report.executions[0]?.outcome).toBe('contained');
    const nat = check(sim, /NAT gateway.*optimistic/);
    expect(nat.pass).toBe(false);
    expect(nat.detail).toContain('NOT cut');
    expect(sim.report.ok).toBe(false);
  });

  it('ignores a sample finding: nothing built, nothing started', async () => {
    const sample = structuredClone(demoEvent) as { detail: { service: { additionalInfo: Record<string, unknown> } } };
    sample.detail.service.additionalInfo = { sample: true };
    const sim = await simulate(sample);
    expect(sim.report.decisions[0]?.decision).toBe('ignore');
    expect(sim.report.executions).toEqual([]);
    expect(sim.world.calls).toEqual([]);
  });
});

describe('a burst against the EC2 token buckets', () => {
  it('contains 40 instances at once: throttled calls are retried and no execution is lost', async () => {
    const events = Array.from({ length: 40 }, (_, n) => {
      const e = structuredClone(demoEvent) as { id: string; detail: { id: string; resource: { instanceDetails: { instanceId: string } } } };
      e.id = `0be4c400-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
      e.detail.id = `be4c4${n.toString(16).padStart(27, '0')}`;
      e.detail.resource.instanceDetails.instanceId = `i-${(0xf1ee70000 + n).toString(16).padStart(17, '0')}`;
      return e;
    });
    const sim = await simulate(events[0], { instance: { profile: 'own' } }, { extraEvents: events.slice(1) });
    expect(sim.report.executions).toHaveLength(40);
    expect(sim.report.executions.filter((e) => e.outcome !== 'contained')).toEqual([]);
    expect(sim.report.throttled).toBeGreaterThan(0);
    // Every ENI of every instance ends isolated.
    for (const built of sim.instances.values()) {
      for (const eni of built.enis) expect(finalNetwork(sim, eni).rules).toEqual([]);
    }
  });
});

describe('the connection-tracking model', () => {
  it('keeps a tracked flow alive across a rule change until it idles past the timeout', () => {
    const open = [{ id: 'r1', egress: true, protocol: '-1', cidr4: '0.0.0.0/0' }];
    const history = [
      { at: 0, groups: ['app'], rules: open, tcpEstablishedTimeout: 432_000 },
      { at: 10_000, groups: ['iso'], rules: [], tcpEstablishedTimeout: 60 },
    ];
    const flow = { name: 'f', eniId: 'eni-1', protocol: 'tcp' as const, family: 4 as const, remote: '203.0.113.1', via: 'direct' as const, establishedAt: 0, packetEverySeconds: 30 };
    // Active every 30 s: never idle 60 s, so the entry lives on even under the optimistic assumption.
    expect(judgeFlow(flow, history, 'optimistic', 3_600_000).cutAt).toBeUndefined();
    // Every 90 s: the lowered timeout lets the entry expire; the next packet meets the empty rules.
    expect(judgeFlow({ ...flow, packetEverySeconds: 90 }, history, 'optimistic', 3_600_000).cutAt).toBe(90_000);
    // Pessimistic: the entry keeps the 5-day timeout it was created with.
    expect(judgeFlow({ ...flow, packetEverySeconds: 90 }, history, 'pessimistic', 3_600_000).cutAt).toBeUndefined();
  });

  it('never untracks ICMP or NAT-gateway flows, and untracks a direct TCP flow only under allow-all both ways for its family', () => {
    const allowAll4 = [
      { id: 'a', egress: true, protocol: '-1', cidr4: '0.0.0.0/0' },
      { id: 'b', egress: false, protocol: '-1', cidr4: '0.0.0.0/0' },
    ];
    const history = [
      { at: 0, groups: ['app'], rules: [{ id: 'e', egress: true, protocol: '-1', cidr4: '0.0.0.0/0' }, { id: 'e6', egress: true, protocol: '-1', cidr6: '::/0' }], tcpEstablishedTimeout: 432_000 },
      { at: 5_000, groups: ['untrack'], rules: allowAll4, tcpEstablishedTimeout: 432_000 },
      { at: 20_000, groups: ['iso'], rules: [], tcpEstablishedTimeout: 432_000 },
    ];
    const base = { name: 'f', eniId: 'eni-1', establishedAt: 0, packetEverySeconds: 10, remote: '203.0.113.1', family: 4 as const };
    expect(judgeFlow({ ...base, protocol: 'tcp', via: 'direct' }, history, 'optimistic', 600_000).cutAt).toBe(20_000);
    expect(judgeFlow({ ...base, protocol: 'icmp', via: 'direct' }, history, 'optimistic', 600_000).cutAt).toBeUndefined();
    expect(judgeFlow({ ...base, protocol: 'tcp', via: 'nat-gateway' }, history, 'optimistic', 600_000).cutAt).toBeUndefined();
    // An IPv6 flow: the untrack rules above allow IPv4 only, so it stays tracked.
    expect(judgeFlow({ ...base, protocol: 'tcp', via: 'direct', family: 6, remote: '2001:db8::1' }, history, 'optimistic', 600_000).cutAt).toBeUndefined();
  });
});

describe('contain, then release', () => {
  /** What release must give back: per ENI its groups and effective tracking timeout; the profile; the instance attributes. */
  function observable(sim: Simulation) {
    const instance = sim.world.instances.get(INSTANCE);
    const association = [...sim.world.associations.values()].find((a) => a.instanceId === INSTANCE && a.state === 'associated');
    return {
      enis: (instance?.enis ?? []).map((id) => {
        const eni = sim.world.enis.get(id);
        return { id, groups: [...(eni?.groups ?? [])], tcpEstablishedTimeout: eni?.conntrack?.TcpEstablishedTimeout ?? 432_000 };
      }),
      profileArn: association?.profileArn,
      disableApiTermination: instance?.disableApiTermination,
      shutdownBehavior: instance?.shutdownBehavior,
    };
  }

  it('restores the exact before-state, keeps every snapshot and evidence object, and records who released it and why', async () => {
    const sim = await run();
    const responseId = sim.report.executions[0]?.responseId as string;
    // The before-state, as the estate was built (the first entry of each ENI's history) and as capture-state recorded it.
    const built = sim.instances.get(INSTANCE);
    const before = {
      enis: (built?.enis ?? []).map((id) => ({ id, groups: [...((sim.world.eniHistory.get(id) ?? [])[0]?.groups ?? [])], tcpEstablishedTimeout: 432_000 })),
      profileArn: `arn:aws:iam::${MEMBER}:instance-profile/web-profile`,
      disableApiTermination: false,
      shutdownBehavior: 'stop',
    };
    expect(observable(sim)).not.toEqual(before);
    const snapshotsBefore = [...sim.world.snapshots.keys()].sort();
    const evidenceBefore = [...sim.world.objects.keys()].filter((k) => k.includes(INCIDENT)).sort();

    const released = await sim.release({
      releaseId: 'rel-e2e-0001',
      responseId,
      reason: 'Imaged and rebuilt; returning the instance to its owner',
      requestedBy: 'arn:aws:sts::999988887777:assumed-role/IncidentResponder/alice',
    });
    expect(released.status).toBe('SUCCEEDED');
    expect(observable(sim)).toEqual(before);
    // Its credentials are no longer denied by cordon; the neighbour's never were.
    expect(sim.world.credentialsDenied('web-role', INSTANCE, new Date(sim.clock.millis()))).toBe(false);
    // Evidence never goes: every snapshot and every object is still there, plus the release's own record.
    expect([...sim.world.snapshots.keys()].sort()).toEqual(snapshotsBefore);
    const evidenceAfter = [...sim.world.objects.keys()].filter((k) => k.includes(INCIDENT));
    expect(evidenceAfter).toEqual(expect.arrayContaining(evidenceBefore));
    expect(evidenceAfter.some((k) => k.includes('/releases/rel-e2e-0001/'))).toBe(true);
    const incident = sim.world.item(INCIDENT, 'INCIDENT');
    expect(incident?.status).toBe('released');
    expect(incident?.releasedBy).toBe('arn:aws:sts::999988887777:assumed-role/IncidentResponder/alice');
    expect(incident?.releaseReason).toBe('Imaged and rebuilt; returning the instance to its owner');
  });

  it('refuses a second release of the same response, touching nothing', async () => {
    const sim = await run();
    const responseId = sim.report.executions[0]?.responseId as string;
    const requestedBy = 'arn:aws:sts::999988887777:assumed-role/IncidentResponder/alice';
    await sim.release({ releaseId: 'rel-e2e-0002', responseId, reason: 'first', requestedBy });
    const after = observable(sim);
    const calls = sim.world.calls.length;
    const again = await sim.release({ releaseId: 'rel-e2e-0003', responseId, reason: 'second', requestedBy });
    expect(again.status).toBe('FAILED');
    expect(again.error?.name).toBe('IncidentNotContainedError');
    expect(observable(sim)).toEqual(after);
    const mutating = sim.world.calls.slice(calls).filter((c) => ['ec2', 'iam'].includes(c.service) && !/^(Describe|Get|List)/.test(c.command));
    expect(mutating).toEqual([]);
  });
});
