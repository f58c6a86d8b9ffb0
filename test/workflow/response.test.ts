/**
 * Workflow tests (docs/design.md §7): the real ASL in aws-local-stepfunctions, the
 * real handlers, over FakeAws — a stateful fake account — so the assertions
 * are about outcomes: where each ENI ends up, whether the stolen credentials
 * are denied, what the ledger and the evidence bucket hold.
 */
import { createHash } from 'node:crypto';
import { FakeAws, type WebInstance, webInstance } from '../support/fake-aws';
import {
  ACCOUNT,
  ENI_A,
  ENI_B,
  INCIDENT,
  INSTANCE,
  NEIGHBOUR,
  NOW,
  REGION,
  request,
  ROLE,
  STOLEN_AT,
  VPC,
} from '../../lib/simulator/scenario';
import { testClientFactory } from '../support/clients';
import { BUCKET, runWorkflow, type WorkflowRun } from '../support/workflow';

async function run(fake: FakeAws, input: unknown = request(), revokeSessions: 'auto' | 'always' | 'never' = 'auto'): Promise<WorkflowRun> {
  return runWorkflow(input, { factory: testClientFactory(), now: () => NOW, revokeSessions });
}

function groupsOf(fake: FakeAws, eni: string): string[] {
  return fake.enis.get(eni)?.groups ?? [];
}

function managedGroup(fake: FakeAws, purpose: string) {
  return [...fake.groups.values()].find((g) => g.tags['cordon:purpose'] === purpose && g.tags['cordon:managed'] === 'true');
}

/** Calls that change something in the target account. */
const MUTATIONS = [
  'ModifyNetworkInterfaceAttribute',
  'ModifyInstanceAttribute',
  'CreateSecurityGroup',
  'AuthorizeSecurityGroupIngress',
  'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
  'DisassociateIamInstanceProfile',
  'PutRolePolicy',
  'DetachInstances',
  'CreateFlowLogs',
  'CreateSnapshots',
  'CreateTags',
];

function latestMessage(fake: FakeAws, prefix: string) {
  const m = fake.messages.find((x) => x.subject?.startsWith(prefix));
  if (!m) throw new Error(`no SNS message starting with ${prefix}; got ${fake.messages.map((x) => x.subject).join(' | ')}`);
  return { subject: m.subject, body: JSON.parse(m.message) as Record<string, unknown> };
}

let scenario: WebInstance | undefined;
afterEach(() => scenario?.fake.restore());

describe('response workflow', () => {
  test('a two-ENI instance is fully contained: isolated, credentials denied, flow logs on, snapshots taken, recorded and notified', async () => {
    scenario = webInstance();
    const { fake, appSg } = scenario;

    const result = await run(fake);

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    const isolation = managedGroup(fake, 'isolation');
    const untrack = managedGroup(fake, 'untrack');
    expect(isolation?.vpcId).toBe(VPC);
    // Both ENIs end up in the isolation group alone, and it has no rules at all (IPv6 default egress revoked too).
    expect(groupsOf(fake, ENI_A)).toEqual([isolation?.id]);
    expect(groupsOf(fake, ENI_B)).toEqual([isolation?.id]);
    expect(isolation?.rules).toEqual([]);
    expect(untrack?.rules.map((r) => `${r.egress ? 'out' : 'in'} ${r.protocol} ${r.cidr4 ?? r.cidr6}`).sort()).toEqual([
      'in -1 0.0.0.0/0',
      'in -1 ::/0',
      'out -1 0.0.0.0/0',
      'out -1 ::/0',
    ]);
    // Per ENI: timeouts lowered, then untrack, then isolation.
    for (const eni of [ENI_A, ENI_B]) {
      expect(fake.enis.get(eni)?.conntrack).toEqual({ TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 });
      const lowered = fake.indexOf('ModifyNetworkInterfaceAttribute', (i) => i.NetworkInterfaceId === eni && 'ConnectionTrackingSpecification' in i);
      const untracked = fake.indexOf('ModifyNetworkInterfaceAttribute', (i) => i.NetworkInterfaceId === eni && JSON.stringify(i.Groups) === JSON.stringify([untrack?.id]));
      const isolated = fake.indexOf('ModifyNetworkInterfaceAttribute', (i) => i.NetworkInterfaceId === eni && JSON.stringify(i.Groups) === JSON.stringify([isolation?.id]));
      expect(lowered).toBeGreaterThanOrEqual(0);
      expect(untracked).toBeGreaterThan(lowered);
      expect(isolated).toBeGreaterThan(untracked);
    }
    expect(fake.callsOf('ModifyInstanceAttribute').filter((c) => 'Groups' in c.input)).toEqual([]);
    expect(groupsOf(fake, ENI_A)).not.toContain(appSg);

    // Stolen credentials: denied wherever used; the role was this instance's alone, so older sessions are revoked too.
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    expect([...fake.associations.values()].find((a) => a.instanceId === INSTANCE)?.state).toBe('disassociated');

    // Evidence and protection.
    expect(fake.instances.get(INSTANCE)?.disableApiTermination).toBe(true);
    expect(fake.flowLogs).toEqual([expect.objectContaining({ resourceId: VPC, trafficType: 'ALL', destination: `arn:aws:s3:::${BUCKET}/flow-logs/` })]);
    const snaps = [...fake.snapshots.values()].filter((s) => !s.sourceSnapshotId);
    expect(snaps.map((s) => [s.volumeId, s.state, s.tags['cordon:incident'], s.tags['cordon:device']]).sort()).toEqual([
      ['vol-0aaaaaaaaaaaaaaa1', 'completed', INCIDENT, '/dev/xvda'],
      ['vol-0aaaaaaaaaaaaaaa2', 'completed', INCIDENT, '/dev/xvdf'],
    ]);

    // Recorded: ledger, evidence objects with verifiable hashes, one notification.
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('contained');
    expect(response?.snapshotStatus).toBe('completed');
    expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('contained');
    const evidence = response?.evidence as Record<string, { key: string; sha256: string; size: number }>;
    for (const name of ['beforeState', 'afterState', 'outcome']) {
      const pointer = evidence[name];
      const stored = fake.objects.get(`${BUCKET}/${pointer?.key}`);
      expect(stored).toBeDefined();
      expect(createHash('sha256').update(stored?.body ?? '').digest('hex')).toBe(pointer?.sha256);
      expect(stored?.body.length).toBe(pointer?.size);
    }
    const before = JSON.parse(fake.objects.get(`${BUCKET}/${evidence.beforeState?.key}`)?.body.toString() ?? '{}');
    expect(before.networkInterfaces.map((n: { groupIds: string[] }) => n.groupIds)).toEqual([[appSg], [appSg]]);
    const note = latestMessage(fake, '[cordon] contained:');
    expect(note.body.outcome).toBe('contained');
    expect(note.body.failures).toEqual([]);
    expect(fake.messages).toHaveLength(1);
  });

  test('a throttled call is retried by the state machine and containment still completes', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    fake.failNext('ModifyNetworkInterfaceAttribute', 'RequestLimitExceeded', 1);
    fake.failNext('PutRolePolicy', 'Throttling', 1);

    const result = await run(fake);

    expect(result.status).toBe('SUCCEEDED');
    const retried = result.events.filter((e) => e.type === 'StateRetried').map((e) => (e as { state: { name: string } }).state.name);
    expect(retried).toEqual(expect.arrayContaining(['UntrackInterface', 'QuarantineRole']));
    const isolation = managedGroup(fake, 'isolation');
    expect(groupsOf(fake, ENI_A)).toEqual([isolation?.id]);
    expect(groupsOf(fake, ENI_B)).toEqual([isolation?.id]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    expect(fake.item(INCIDENT, `RESPONSE#${request().requestId}`)?.outcome).toBe('contained');
  });

  test('a quarantine failure is reported as partially-contained, never as success', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    fake.failNext('PutRolePolicy', 'AccessDenied', 1, 'User is not authorized to perform iam:PutRolePolicy');

    const result = await run(fake);

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('ContainmentIncomplete');
    // The network is still isolated: one failed branch does not undo or block the others.
    const isolation = managedGroup(fake, 'isolation');
    expect(groupsOf(fake, ENI_A)).toEqual([isolation?.id]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
    // The profile is not disassociated after a failed deny: the deny comes first.
    expect(fake.callsOf('DisassociateIamInstanceProfile')).toEqual([]);
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('partially-contained');
    expect(response?.failures).toEqual([{ action: 'quarantineRole', error: 'AccessDenied', cause: 'User is not authorized to perform iam:PutRolePolicy' }]);
    const note = latestMessage(fake, '[cordon] partially-contained:');
    expect(String(note.body.summary)).toContain('quarantineRole failed');
  });

  test('an ENI whose isolation swap keeps failing is put back in its original groups, never left in the allow-all group', async () => {
    scenario = webInstance();
    const { fake, appSg } = scenario;
    const intoIsolation = (i: Record<string, unknown>) =>
      i.NetworkInterfaceId === ENI_A && JSON.stringify(i.Groups) === JSON.stringify([managedGroup(fake, 'isolation')?.id]);
    fake.failWhen('ModifyNetworkInterfaceAttribute', intoIsolation, 'UnauthorizedOperation', 2);

    const result = await run(fake);

    expect(result.status).toBe('FAILED');
    const untrack = managedGroup(fake, 'untrack');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(groupsOf(fake, ENI_A)).not.toContain(untrack?.id);
    expect(groupsOf(fake, ENI_B)).toEqual([managedGroup(fake, 'isolation')?.id]);
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('partially-contained');
    expect(response?.failures).toEqual([
      { action: 'isolate', error: 'UnauthorizedOperation', cause: expect.stringContaining(`${ENI_A}: not isolated; its original security groups were put back`) },
    ]);
  });

  test('a swap that fails once is recovered into the isolation group by SecureInterface', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    const intoIsolation = (i: Record<string, unknown>) =>
      i.NetworkInterfaceId === ENI_A && JSON.stringify(i.Groups) === JSON.stringify([managedGroup(fake, 'isolation')?.id]);
    fake.failWhen('ModifyNetworkInterfaceAttribute', intoIsolation, 'UnauthorizedOperation', 1);

    const result = await run(fake);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered).toContain('SecureInterface');
    expect(groupsOf(fake, ENI_A)).toEqual([managedGroup(fake, 'isolation')?.id]);
  });

  test('a hub-exempt instance is recorded and notified with its evidence, not contained', async () => {
    // Prepare: exempt by hub configuration (the instance id); a cordon:exempt tag no longer exempts anything
    scenario = webInstance({ asg: 'web-asg' });
    const { fake, appSg } = scenario;

    const result = await runWorkflow(request(), {
      factory: testClientFactory(),
      now: () => NOW,
      exemptions: { accounts: [], instanceIds: [INSTANCE], autoScalingGroups: [] },
    });

    expect(result.status).toBe('SUCCEEDED');
    const EVIDENCE = ['CreateFlowLogs', 'CreateSnapshots', 'CreateTags'];
    expect(fake.calls.filter((c) => MUTATIONS.includes(c.command) && !EVIDENCE.includes(c.command))).toEqual([]);
    expect(fake.callsOf('CreateSnapshots')).toHaveLength(1);
    expect(fake.callsOf('CreateFlowLogs')).toHaveLength(1);
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
    expect(fake.autoScaling.has(INSTANCE)).toBe(true);
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('exempt');
    expect(response?.failures).toEqual([]);
    expect(response?.exemption).toEqual({ field: 'instanceIds', value: INSTANCE, overridden: false, overriddenBy: null, overriddenBySource: null });
    expect(latestMessage(fake, '[cordon] exempt:').body.outcome).toBe('exempt');
    expect(result.entered).not.toContain('ProtectInstance');
    expect(result.entered).toContain('PreservationExempt');
  });

  test('an Auto Scaling member is detached, keeping capacity, before its first security-group change', async () => {
    scenario = webInstance({ asg: 'web-asg' });
    const { fake } = scenario;

    const result = await run(fake);

    expect(result.status).toBe('SUCCEEDED');
    expect(fake.autoScaling.has(INSTANCE)).toBe(false);
    expect(fake.callsOf('DetachInstances')[0]?.input).toEqual({
      AutoScalingGroupName: 'web-asg',
      InstanceIds: [INSTANCE],
      ShouldDecrementDesiredCapacity: false,
    });
    const detached = fake.indexOf('DetachInstances');
    const protectedAt = fake.indexOf('ModifyInstanceAttribute');
    const firstSgChange = fake.calls.findIndex((c) =>
      ['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'ModifyNetworkInterfaceAttribute'].includes(c.command),
    );
    expect(detached).toBeGreaterThanOrEqual(0);
    expect(protectedAt).toBeGreaterThan(detached);
    expect(firstSgChange).toBeGreaterThan(protectedAt);
  });

  test('when Auto Scaling detachment fails, security groups are left alone (evidence first) and the result says so', async () => {
    scenario = webInstance({ asg: 'web-asg' });
    const { fake, appSg } = scenario;
    fake.failNext('DetachInstances', 'ValidationError', 1, 'The instance is in a lifecycle state that does not allow detaching');

    const result = await run(fake);

    expect(result.status).toBe('FAILED');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(fake.callsOf('ModifyNetworkInterfaceAttribute')).toEqual([]);
    // IAM quarantine does not affect health checks, so it still happens.
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('partially-contained');
    expect((response?.failures as Array<{ action: string; error: string }>).map((f) => `${f.action}:${f.error}`)).toEqual([
      'protect:ProtectInstanceError',
      'isolate:IsolationUnsafe',
    ]);
  });

  test('a role shared with a neighbour: this instance is denied, the neighbour keeps working, no session revocation', async () => {
    scenario = webInstance({ sharedRole: true });
    const { fake } = scenario;

    const result = await run(fake);

    expect(result.status).toBe('SUCCEEDED');
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    expect(fake.credentialsDenied(ROLE, NEIGHBOUR, STOLEN_AT)).toBe(false);
    const policy = JSON.parse(fake.roles.get(ROLE)?.inline.get('cordon-quarantine') ?? '{}');
    expect(JSON.stringify(policy)).not.toContain('aws:TokenIssueTime');
  });

  test('two instances sharing a role, contained at once: both sets of credentials end up denied', async () => {
    scenario = webInstance({ sharedRole: true });
    const { fake } = scenario;
    const neighbourRequest = request({
      requestId: 'neighbour-1',
      target: { accountId: ACCOUNT, region: REGION, instanceId: NEIGHBOUR },
    });

    const [a, b] = await Promise.all([run(fake), run(fake, neighbourRequest)]);

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    expect(fake.credentialsDenied(ROLE, NEIGHBOUR, STOLEN_AT)).toBe(true);
  });

  test('an instance with no profile: quarantine is a recorded no-op, and the response is contained', async () => {
    scenario = webInstance({ profile: false });
    const { fake } = scenario;

    const result = await run(fake);

    expect(result.status).toBe('SUCCEEDED');
    expect(fake.callsOf('PutRolePolicy')).toEqual([]);
    const actions = fake.item(INCIDENT, `RESPONSE#${request().requestId}`)?.actions;
    expect(actions).toContainEqual(expect.objectContaining({ action: 'quarantineRole', status: 'not-applicable' }));
  });

  test('a terminated instance: recorded failure, nothing touched', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    (fake.instances.get(INSTANCE) as { state: string }).state = 'terminated';

    const result = await run(fake);

    expect(result.status).toBe('FAILED');
    expect(fake.calls.filter((c) => MUTATIONS.includes(c.command))).toEqual([]);
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('failed');
    expect(response?.failures).toEqual([expect.objectContaining({ action: 'captureBeforeState', error: 'InstanceNotFoundError' })]);
    expect(latestMessage(fake, '[cordon] failed:').body.outcome).toBe('failed');
  });

  test('a hostile request is rejected before any AWS call in the target account', async () => {
    scenario = webInstance();
    const { fake } = scenario;

    const result = await run(fake, request({ target: { accountId: ACCOUNT, region: REGION, instanceId: 'i-0123;rm -rf /' } }));

    expect(result.status).toBe('FAILED');
    expect(fake.calls.filter((c) => ['ec2', 'iam', 'autoscaling'].includes(c.service))).toEqual([]);
    const rejected = [...fake.items.values()].filter((i) => i.pk === 'REJECTED');
    expect(rejected).toHaveLength(1);
    expect(JSON.stringify(rejected[0]?.failures)).toContain('target.instanceId');
  });

  test('a snapshot that ends in error is recorded and notified while containment completes', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    fake.snapshotBehaviour = { pendingChecks: 2, finalState: (v) => (v === 'vol-0aaaaaaaaaaaaaaa2' ? 'error' : 'completed') };

    const result = await run(fake);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered.filter((s) => s === 'CheckSnapshots').length).toBe(3);
    const response = fake.item(INCIDENT, `RESPONSE#${request().requestId}`);
    expect(response?.outcome).toBe('contained');
    expect(response?.snapshotStatus).toBe('incomplete');
    expect(String(response?.snapshotFailures)).toMatch(/snap-[0-9a-f]+: error/);
    expect(latestMessage(fake, '[cordon] evidence incomplete:').body.failed).toHaveLength(1);
  });
});
