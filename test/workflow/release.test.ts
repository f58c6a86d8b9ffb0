/**
 * Release workflow tests (docs/design.md §3.5, issue 5): the real response ASL contains the
 * scenario's web instance, then the real release ASL with the real handlers runs over the same
 * FakeAws. The assertions are about outcomes: the instance's exact before-state is back, the evidence
 * is all still there, and the ledger, the evidence bucket and the notification say who released it and why.
 */
import { createHash } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { ClientFactory } from '../../lambdas/shared/clients';
import * as releaseLoad from '../../lambdas/release-load/handler';
import * as releaseRecord from '../../lambdas/release-record/handler';
import * as releaseRestore from '../../lambdas/release-restore/handler';
import { functionsOf } from '../../lib/functions';
import { FakeAws, type WebInstance, webInstance } from '../support/fake-aws';
import { releaseRequest, runRelease } from '../support/release-workflow';
import { ACCOUNT, ENI_A, ENI_B, INCIDENT, INSTANCE, NEIGHBOUR, NOW, REGION, request, ROLE, STOLEN_AT, VPC } from '../../lib/simulator/scenario';
import { BUCKET, runWorkflow, type WorkflowRun } from '../support/workflow';
import { testClientFactory } from '../support/clients';

const RELEASED_AT = new Date('2026-03-02T14:40:00.000Z');
/** Credentials the instance gets once its profile is associated again. */
const FRESH = new Date('2026-03-02T14:45:00.000Z');
const RESPONSE_ID = request().requestId;
const NEIGHBOUR_REQUEST = request({ requestId: 'neighbour-1', target: { accountId: ACCOUNT, region: REGION, instanceId: NEIGHBOUR } });

async function contain(fake: FakeAws, input: unknown = request(), revokeSessions: 'auto' | 'always' | 'never' = 'auto'): Promise<WorkflowRun> {
  const run = await runWorkflow(input, { factory: testClientFactory(), now: () => NOW, revokeSessions });
  return run;
}

async function release(input: unknown = releaseRequest()): Promise<WorkflowRun> {
  return runRelease(input, { factory: testClientFactory(), now: () => RELEASED_AT });
}

/** What release must put back, read from the fake account itself before cordon touches anything. */
function observe(fake: FakeAws, instanceId = INSTANCE) {
  const instance = fake.instances.get(instanceId);
  if (!instance) throw new Error(`no ${instanceId}`);
  return {
    groups: Object.fromEntries(instance.enis.map((id) => [id, [...(fake.enis.get(id)?.groups ?? [])].sort()])),
    conntrack: Object.fromEntries(instance.enis.map((id) => [id, effective(fake.enis.get(id)?.conntrack)])),
    profiles: [...fake.associations.values()].filter((a) => a.instanceId === instanceId && a.state === 'associated').map((a) => a.profileArn),
    disableApiTermination: instance.disableApiTermination,
    shutdownBehavior: instance.shutdownBehavior,
  };
}

/** EC2's documented defaults stand for an ENI with no explicit connection-tracking configuration. */
function effective(c: { TcpEstablishedTimeout?: number; UdpStreamTimeout?: number; UdpTimeout?: number } | undefined) {
  return { tcp: c?.TcpEstablishedTimeout ?? 432_000, udpStream: c?.UdpStreamTimeout ?? 180, udp: c?.UdpTimeout ?? 30 };
}

function managedGroup(fake: FakeAws, purpose: string) {
  return [...fake.groups.values()].find((g) => g.tags['cordon:purpose'] === purpose && g.tags['cordon:managed'] === 'true');
}

function message(fake: FakeAws, prefix: string) {
  const found = fake.messages.filter((m) => m.subject?.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one SNS message starting with ${prefix}; got ${fake.messages.map((m) => m.subject).join(' | ')}`);
  return JSON.parse(found[0]?.message ?? '{}') as Record<string, unknown>;
}

/** Calls made in the target account (EC2, IAM, Auto Scaling, ELB) from index `from` on, that change something. */
function mutationsSince(fake: FakeAws, from: number): string[] {
  return fake.calls
    .slice(from)
    .filter((c) => ['ec2', 'iam', 'autoscaling', 'elasticloadbalancing'].includes(c.service) && !/^(Describe|Get|List)/.test(c.command))
    .map((c) => c.command);
}

function policyOf(fake: FakeAws): { Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, unknown>> }> } | undefined {
  const text = fake.roles.get(ROLE)?.inline.get('cordon-quarantine');
  return text === undefined ? undefined : JSON.parse(text);
}

let scenario: WebInstance | undefined;
afterEach(() => scenario?.fake.restore());

/** The web instance with some character: different groups per ENI, custom timeouts on one, shutdown → terminate. */
function characterfulInstance(options: Parameters<typeof webInstance>[0] = {}): WebInstance & { dbSg: string } {
  const s = webInstance(options);
  const dbSg = s.fake.addGroup(VPC, 'web-db');
  (s.fake.enis.get(ENI_B) as { groups: string[] }).groups = [s.appSg, dbSg];
  (s.fake.enis.get(ENI_A) as { conntrack?: unknown }).conntrack = { TcpEstablishedTimeout: 3600, UdpStreamTimeout: 120, UdpTimeout: 45 };
  (s.fake.instances.get(INSTANCE) as { shutdownBehavior: string }).shutdownBehavior = 'terminate';
  return { ...s, dbSg };
}

describe('release workflow', () => {
  test('contain, then release: the exact before-state is back, a neighbour stays denied, every piece of evidence is kept', async () => {
    // Prepare: the neighbour sharing the role is contained too, so its deny must survive this release.
    // No session revocation here (the tests below cover it): only the ec2:SourceInstanceARN denies are in play.
    scenario = characterfulInstance({ sharedRole: true });
    const { fake } = scenario;
    const before = observe(fake);
    expect((await contain(fake, NEIGHBOUR_REQUEST, 'never')).status).toBe('SUCCEEDED');
    expect((await contain(fake, request(), 'never')).status).toBe('SUCCEEDED');
    expect(observe(fake)).not.toEqual(before);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    const snapshots = [...fake.snapshots.keys()].sort();
    const flowLogs = structuredClone(fake.flowLogs);
    const objects = new Map([...fake.objects].map(([k, v]) => [k, createHash('sha256').update(v.body).digest('hex')]));
    const from = fake.calls.length;

    // Act
    const result = await release();

    // Assess: the instance is as it was before cordon first touched it.
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered).toEqual(expect.arrayContaining(['LoadContainment', 'RestoreNetwork', 'RestoreRole', 'RestoreInstance', 'RecordRelease', 'ReleaseComplete']));
    expect(observe(fake)).toEqual(before);
    expect(fake.enis.get(ENI_A)?.conntrack).toEqual({ TcpEstablishedTimeout: 3600, UdpStreamTimeout: 120, UdpTimeout: 45 });
    expect(fake.callsOf('ModifyInstanceAttribute').filter((c) => 'Groups' in c.input)).toEqual([]);
    // Credentials: this instance's are no longer denied (fresh and old alike); the neighbour's still are.
    expect(fake.credentialsDenied(ROLE, INSTANCE, FRESH)).toBe(false);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
    expect(fake.credentialsDenied(ROLE, NEIGHBOUR, STOLEN_AT)).toBe(true);
    expect(policyOf(fake)?.Statement.flatMap((s) => [s.Condition?.StringEquals?.['ec2:SourceInstanceARN']].flat())).toEqual([fake.instanceArn(NEIGHBOUR)]);
    // Volumes stay DeleteOnTermination=false (the root volume was true before): evidence is never exposed to a termination.
    expect(fake.instances.get(INSTANCE)?.volumes.map((v) => [v.volumeId, v.deleteOnTermination])).toEqual([
      ['vol-0aaaaaaaaaaaaaaa1', false],
      ['vol-0aaaaaaaaaaaaaaa2', false],
    ]);
    // Only restoring calls; nothing deleted, detached or re-attached.
    expect([...new Set(mutationsSince(fake, from))].sort()).toEqual(['AssociateIamInstanceProfile', 'ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute', 'PutRolePolicy']);

    // Evidence: every snapshot, flow log and object is still there, unchanged (the manifest gains a version).
    expect([...fake.snapshots.keys()].sort()).toEqual(snapshots);
    expect(fake.flowLogs).toEqual(flowLogs);
    for (const [key, digest] of objects) {
      expect(fake.objects.has(key)).toBe(true);
      if (!key.endsWith('/manifest.json')) expect(createHash('sha256').update(fake.objects.get(key)?.body ?? '').digest('hex')).toBe(digest);
    }

    // Recorded: who released it and why, in the ledger, the release evidence object, the manifest and the notification.
    const incident = fake.item(INCIDENT, 'INCIDENT');
    expect(incident).toMatchObject({
      status: 'released',
      lastReleaseId: releaseRequest().releaseId,
      releasedBy: releaseRequest().requestedBy,
      releaseReason: releaseRequest().reason,
      releasedAt: RELEASED_AT.toISOString(),
    });
    expect(incident).not.toHaveProperty('activeReleaseId');
    expect(incident).not.toHaveProperty('originalBeforeStateKey');
    const item = fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`);
    expect(item).toMatchObject({ status: 'released', outcome: 'released', releasedResponseId: RESPONSE_ID, request: releaseRequest(), failures: [] });
    expect(item).not.toHaveProperty('responseId');
    const pointer = (item?.evidence as { release: { key: string; sha256: string } }).release;
    expect(pointer.key).toBe(`incidents/${INCIDENT}/releases/${releaseRequest().releaseId}/release.json`);
    const stored = fake.objects.get(`${BUCKET}/${pointer.key}`);
    expect(createHash('sha256').update(stored?.body ?? '').digest('hex')).toBe(pointer.sha256);
    const document = JSON.parse(stored?.body.toString() ?? '{}');
    expect(document).toMatchObject({ outcome: 'released', requestedBy: releaseRequest().requestedBy, reason: releaseRequest().reason });
    expect(document.before.interfaces.map((i: { groupIds: string[] }) => i.groupIds)).toEqual([
      [managedGroup(fake, 'isolation')?.id],
      [managedGroup(fake, 'isolation')?.id],
    ]);
    expect(document.after.interfaces.map((i: { groupIds: string[] }) => [...i.groupIds].sort())).toEqual([before.groups[ENI_A], before.groups[ENI_B]]);
    const manifest = JSON.parse(fake.objects.get(`${BUCKET}/incidents/${INCIDENT}/manifest.json`)?.body.toString() ?? '{}');
    expect(manifest.status).toBe('released');
    expect(manifest.releases).toEqual([
      expect.objectContaining({ releaseId: releaseRequest().releaseId, responseId: RESPONSE_ID, outcome: 'released', requestedBy: releaseRequest().requestedBy, reason: releaseRequest().reason }),
    ]);
    expect(manifest.actions).toEqual(expect.arrayContaining([expect.objectContaining({ release: releaseRequest().releaseId, operation: 'AssociateIamInstanceProfile', result: 'ok' })]));
    expect(manifest.evidence.map((e: { key: string }) => e.key)).toContain(pointer.key);
    expect(message(fake, '[cordon] released:')).toMatchObject({ outcome: 'released', requestedBy: releaseRequest().requestedBy, reason: releaseRequest().reason });
  });

  test("the role's own session revocation goes with its deny, and the emptied policy is deleted", async () => {
    // Prepare: a role this instance alone uses, so quarantine revoked older sessions (aws:TokenIssueTime).
    scenario = webInstance();
    const { fake } = scenario;
    await contain(fake);
    expect(JSON.stringify(policyOf(fake))).toContain('aws:TokenIssueTime');

    // Act
    const result = await release();

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(fake.roles.get(ROLE)?.inline.has('cordon-quarantine')).toBe(false);
    expect(fake.callsOf('DeleteRolePolicy').map((c) => c.input)).toEqual([{ RoleName: ROLE, PolicyName: 'cordon-quarantine' }]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
    const role = (fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.results as { role: { policies: unknown[] } }).role;
    expect(role.policies).toEqual([expect.objectContaining({ roleName: ROLE, deny: 'removed', sessionRevocation: 'removed', policy: 'deleted' })]);
  });

  test('a revocation another incident relies on is kept, and the release says why', async () => {
    // Prepare: both instances revoke sessions (revokeSessions "always"); the cut-off is the later quarantine's.
    scenario = webInstance({ sharedRole: true });
    const { fake } = scenario;
    await contain(fake, request(), 'always');
    await contain(fake, NEIGHBOUR_REQUEST, 'always');

    // Act
    const result = await release();

    // Assess: this instance's deny is gone, the revocation stays for the neighbour's incident.
    expect(result.status).toBe('SUCCEEDED');
    expect(fake.credentialsDenied(ROLE, NEIGHBOUR, FRESH)).toBe(true);
    expect(policyOf(fake)?.Statement.map((s) => s.Sid)).toEqual(['CordonDenyCompromisedInstances', 'CordonRevokeOlderSessions']);
    const role = (fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.results as { role: { policies: Array<Record<string, unknown>> } }).role;
    expect(role.policies[0]).toMatchObject({ deny: 'removed', sessionRevocation: 'kept', otherInstancesDenied: 1 });
    expect(String(role.policies[0]?.keptBecause)).toMatch(/other instance|another incident/);
  });

  test('an ENI found in the allow-all untrack group (a response stopped mid-settle) is restored and reported', async () => {
    scenario = characterfulInstance();
    const { fake } = scenario;
    const before = observe(fake);
    await contain(fake);
    const untrack = managedGroup(fake, 'untrack')?.id as string;
    (fake.enis.get(ENI_B) as { groups: string[] }).groups = [untrack];

    const result = await release();

    expect(result.status).toBe('SUCCEEDED');
    expect(observe(fake).groups).toEqual(before.groups);
    const network = (fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.results as { network: Array<Record<string, unknown>> }).network;
    expect(network.find((n) => n.networkInterfaceId === ENI_B)).toMatchObject({ status: 'restored', foundIn: 'untrack', note: expect.stringContaining('untrack') });
    expect(network.find((n) => n.networkInterfaceId === ENI_A)).toMatchObject({ status: 'restored', foundIn: 'isolation' });
  });

  test('an untrack-group ENI whose restore fails is moved to isolation, never left open, and the release is partial', async () => {
    const built = characterfulInstance();
    scenario = built;
    const { fake, appSg, dbSg } = built;
    await contain(fake);
    const untrack = managedGroup(fake, 'untrack')?.id as string;
    const isolation = managedGroup(fake, 'isolation')?.id as string;
    (fake.enis.get(ENI_B) as { groups: string[] }).groups = [untrack];
    fake.failWhen(
      'ModifyNetworkInterfaceAttribute',
      (i) => i.NetworkInterfaceId === ENI_B && JSON.stringify(i.Groups) === JSON.stringify([appSg, dbSg].sort()),
      'InvalidGroup.NotFound',
    );

    const result = await release();

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('ReleaseIncomplete');
    expect(fake.enis.get(ENI_B)?.groups).toEqual([isolation]);
    expect(fake.enis.get(ENI_A)?.groups).toEqual([appSg]);
    const item = fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`);
    expect(item?.outcome).toBe('partially-released');
    expect(item?.failures).toEqual([
      { part: 'network', error: 'InvalidGroup.NotFound', cause: expect.stringContaining(`${ENI_B}: not restored; moved to the isolation group`) },
    ]);
    expect(fake.item(INCIDENT, 'INCIDENT')).toMatchObject({ status: 'partially-contained', lastReleaseId: releaseRequest().releaseId });
    expect(message(fake, '[cordon] release partially-released:')).toMatchObject({ outcome: 'partially-released' });
  });

  test('a partial release is reported as partial, keeps the before-state, and a second release finishes the job', async () => {
    scenario = characterfulInstance();
    const { fake } = scenario;
    const before = observe(fake);
    await contain(fake);
    fake.failNext('AssociateIamInstanceProfile', 'UnauthorizedOperation', 1, 'You are not authorized to perform this operation.');

    const first = await release();

    expect(first.status).toBe('FAILED');
    expect(first.error?.name).toBe('ReleaseIncomplete');
    expect(observe(fake).groups).toEqual(before.groups);
    expect(observe(fake).profiles).toEqual([]);
    expect(fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)).toMatchObject({
      outcome: 'partially-released',
      failures: [{ part: 'role', error: 'UnauthorizedOperation', cause: expect.stringContaining('instance profile') }],
    });
    const incident = fake.item(INCIDENT, 'INCIDENT');
    expect(incident).toMatchObject({ status: 'partially-contained' });
    expect(incident).toHaveProperty('originalBeforeStateKey');
    expect(incident).not.toHaveProperty('activeReleaseId');

    const second = await release(releaseRequest({ releaseId: 'rel-retry-1' }));

    expect(second.status).toBe('SUCCEEDED');
    expect(observe(fake)).toEqual(before);
    expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('released');
  });

  test('a throttled restore call is retried by the state machine', async () => {
    scenario = characterfulInstance();
    const { fake } = scenario;
    const before = observe(fake);
    await contain(fake);
    fake.failNext('ModifyNetworkInterfaceAttribute', 'RequestLimitExceeded', 1);
    fake.failNext('AssociateIamInstanceProfile', 'RequestLimitExceeded', 1);

    const result = await release();

    expect(result.status).toBe('SUCCEEDED');
    const retried = result.events.filter((e) => e.type === 'StateRetried').map((e) => (e as { state: { name: string } }).state.name);
    expect(retried).toEqual(expect.arrayContaining(['RestoreInterface', 'RestoreRole']));
    expect(observe(fake)).toEqual(before);
  });

  test('the Auto Scaling group is not rejoined: the release reports it', async () => {
    scenario = webInstance({ asg: 'web-asg' });
    const { fake } = scenario;
    await contain(fake);

    const result = await release();

    expect(result.status).toBe('SUCCEEDED');
    expect(fake.autoScaling.has(INSTANCE)).toBe(false);
    const results = fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.results as { instance: Record<string, unknown> };
    expect(results.instance.autoScaling).toEqual({ status: 'not-reattached', groupName: 'web-asg', reason: expect.stringContaining('replacement') });
    expect(message(fake, '[cordon] released:').notRestored).toMatchObject({ autoScaling: { status: 'not-reattached', groupName: 'web-asg' } });
  });
});

describe('release refusals: a clear named error, nothing touched', () => {
  async function refused(input: unknown, expected: string): Promise<{ result: WorkflowRun; from: number }> {
    const fake = scenario?.fake as FakeAws;
    const from = fake.calls.length;
    const result = await release(input);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe(expected);
    expect(result.entered).not.toContain('RestoreNetwork');
    expect(mutationsSince(fake, from)).toEqual([]);
    return { result, from };
  }

  test('an instance that was never contained (exempt by hub configuration)', async () => {
    scenario = webInstance();
    const { fake, appSg } = scenario;
    await runWorkflow(request(), {
      factory: testClientFactory(),
      now: () => NOW,
      exemptions: { accounts: [ACCOUNT], instanceIds: [], autoScalingGroups: [] },
    });

    const { result } = await refused(releaseRequest(), 'IncidentNotContainedError');

    expect(result.error?.message).toMatch(/is exempt/);
    expect(fake.enis.get(ENI_A)?.groups).toEqual([appSg]);
    expect(fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)).toMatchObject({ outcome: 'refused', error: 'IncidentNotContainedError' });
    expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('exempt');
    expect(message(fake, '[cordon] release refused:')).toMatchObject({ error: 'IncidentNotContainedError', requestedBy: releaseRequest().requestedBy });
  });

  test('a response id the ledger does not know', async () => {
    scenario = webInstance();
    await contain(scenario.fake);

    const { result } = await refused(releaseRequest({ responseId: 'no-such-response' }), 'ResponseNotFoundError');

    // Retried (the index is eventually consistent), then refused.
    expect(result.events.filter((e) => e.type === 'StateRetried')).toHaveLength(2);
    expect(scenario.fake.item(INCIDENT, 'INCIDENT')?.status).toBe('contained');
  });

  test('an incident already released', async () => {
    scenario = characterfulInstance();
    const { fake } = scenario;
    await contain(fake);
    expect((await release()).status).toBe('SUCCEEDED');
    const after = observe(fake);

    const { result } = await refused(releaseRequest({ releaseId: 'rel-again' }), 'IncidentNotContainedError');

    expect(result.error?.message).toMatch(/already released \(release rel-2b7d9c41 by arn:aws:sts::111122223333:assumed-role\/IncidentResponder\/alice/);
    expect(observe(fake)).toEqual(after);
    // The first release's record is intact; the refusal has its own.
    expect(fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.outcome).toBe('released');
    expect(fake.item(INCIDENT, 'RELEASE#rel-again')?.outcome).toBe('refused');
  });

  test('a release id that already ended is not reused', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    await contain(fake);
    fake.failNext('AssociateIamInstanceProfile', 'UnauthorizedOperation', 1);
    expect((await release()).error?.name).toBe('ReleaseIncomplete');

    await refused(releaseRequest(), 'ReleaseAlreadyRecordedError');

    expect(fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.outcome).toBe('partially-released');
  });

  test('a missing before-state: the ledger no longer holds it', async () => {
    scenario = webInstance();
    const { fake, appSg } = scenario;
    await contain(fake);
    delete (fake.item(INCIDENT, `RESPONSE#${RESPONSE_ID}`) as Record<string, unknown>).before;

    const { result } = await refused(releaseRequest(), 'BeforeStateMissingError');

    expect(result.error?.message).toMatch(/will not guess/);
    expect(fake.enis.get(ENI_A)?.groups).not.toEqual([appSg]);
    expect(fake.item(INCIDENT, 'INCIDENT')).toMatchObject({ status: 'contained' });
    expect(fake.item(INCIDENT, 'INCIDENT')).not.toHaveProperty('activeReleaseId');
  });

  test('a missing before-state: neither the incident nor the response names one', async () => {
    scenario = webInstance();
    const { fake } = scenario;
    await contain(fake);
    delete (fake.item(INCIDENT, 'INCIDENT') as Record<string, unknown>).originalBeforeStateKey;
    (fake.item(INCIDENT, `RESPONSE#${RESPONSE_ID}`) as Record<string, unknown>).restoreFrom = null;

    await refused(releaseRequest(), 'BeforeStateMissingError');
  });

  test('a hostile release request is refused at the edge', async () => {
    scenario = webInstance();
    await contain(scenario.fake);

    const { result } = await refused(releaseRequest({ responseId: 'x; rm -rf /' }), 'InvalidRequestError');

    expect(result.error?.message).toMatch(/responseId/);
  });
});

describe('a re-run captured under cordon’s own isolation', () => {
  test('release restores the incident’s original before-state, not the re-run’s', async () => {
    scenario = characterfulInstance();
    const { fake } = scenario;
    const before = observe(fake);
    await contain(fake);
    await contain(fake, request({ requestId: 'manual-rerun-1', source: 'manual', finding: undefined }));

    const result = await release(releaseRequest({ responseId: 'manual-rerun-1' }));

    expect(result.status).toBe('SUCCEEDED');
    expect(observe(fake)).toEqual(before);
    expect(fake.item(INCIDENT, `RELEASE#${releaseRequest().releaseId}`)?.restoreFrom).toBe(`incidents/${INCIDENT}/responses/${RESPONSE_ID}/before-state.json`);
  });
});

test('every release Lambda runs with its own production client factory', async () => {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: 'ASIATEST', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) },
  });
  const fake = new FakeAws(ACCOUNT, 'us-east-1').install();
  try {
    webInstance({ fake });
    const env = {
      PARTITION: 'aws',
      RESPONDER_ROLE_NAME: 'CordonResponder',
      LEDGER_TABLE: 'cordon-ledger',
      EVIDENCE_BUCKET: 'cordon-evidence',
      TOPIC_ARN: `arn:aws:sns:us-east-1:${ACCOUNT}:cordon`,
    };
    const production: Record<string, { productionDeps: (env: NodeJS.ProcessEnv) => { factory: ClientFactory } }> = {
      'release-load': releaseLoad,
      'release-restore': releaseRestore,
      'release-record': releaseRecord,
    };
    expect(Object.keys(production).sort()).toEqual(functionsOf('release').map((r) => r.name).sort());
    const factories = new Map(Object.entries(production).map(([name, m]) => [name, m.productionDeps(env).factory]));
    await runWorkflow(request(), { factory: testClientFactory(), now: () => NOW });

    const result = await runRelease(releaseRequest(), { factory: testClientFactory(), factoryFor: (name) => factories.get(name) as ClientFactory, now: () => RELEASED_AT });

    expect(result.error).toBeUndefined();
    expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('released');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName)).toContain(`cordon-release-${releaseRequest().releaseId}`);
  } finally {
    fake.restore();
    sts.restore();
  }
});
