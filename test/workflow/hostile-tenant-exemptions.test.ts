/**
 * The hostile tenant's tags (docs/design.md §3.2): anything the member account can write is attacker input, so a
 * tag can neither exempt an instance nor veto its containment. Exemptions are hub configuration, and even then
 * an exempt instance gets its evidence (flow logs, snapshots) while its network and role are left alone. The
 * real ASL and handlers over FakeAws.
 */
import type { ApprovalPolicy, Exemptions } from '../../lambdas/capture-state/capture-state';
import { ACCOUNT, ENI_A, ENI_B, INCIDENT, INSTANCE, NOW, request, ROLE, STOLEN_AT } from '../../lib/simulator/scenario';
import { type FakeAws, type WebInstance, webInstance } from '../support/fake-aws';
import { testClientFactory } from '../support/clients';
import { runWorkflow, type WorkflowRun } from '../support/workflow';

const RESPONSE_SK = `RESPONSE#${request().requestId}`;
const NONE: Exemptions = { accounts: [], instanceIds: [], autoScalingGroups: [] };

let scenario: WebInstance | undefined;
afterEach(() => scenario?.fake.restore());

function run(options: { exemptions?: Exemptions; approval?: ApprovalPolicy; fake?: FakeAws; input?: unknown } = {}): Promise<WorkflowRun> {
  return runWorkflow(options.input ?? request(), {
    factory: testClientFactory(),
    now: () => NOW,
    ...(options.exemptions ? { exemptions: options.exemptions } : {}),
    ...(options.approval ? { approval: options.approval, callbacks: options.fake, onCallback: async () => undefined } : {}),
  });
}

function isolated(fake: FakeAws): boolean {
  const groups = [ENI_A, ENI_B].map((eni) => fake.enis.get(eni)?.groups ?? []);
  const isolation = [...fake.groups.values()].find((g) => g.tags['cordon:purpose'] === 'isolation' && g.tags['cordon:managed'] === 'true')?.id;
  return isolation !== undefined && groups.every((g) => g.length === 1 && g[0] === isolation);
}

test('an instance the attacker tagged cordon:exempt=true is contained: isolated and its credentials denied', async () => {
  scenario = webInstance({ tags: { 'cordon:exempt': 'true', Name: 'web-1' } });
  const { fake } = scenario;

  const result = await run();

  expect(result.status).toBe('SUCCEEDED');
  expect(isolated(fake)).toBe(true);
  expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
  const response = fake.item(INCIDENT, RESPONSE_SK);
  expect(response?.outcome).toBe('contained');
  expect(response?.exemption).toBeNull();
});

test('an instance in a hub-exempt Auto Scaling group (by AWS membership) gets snapshots and flow logs; its ENIs, role and group are untouched', async () => {
  scenario = webInstance({ asg: 'web-asg' });
  const { fake, appSg } = scenario;

  const result = await run({ exemptions: { ...NONE, autoScalingGroups: [`${ACCOUNT}/web-asg`] } });

  expect(result.status).toBe('SUCCEEDED');
  expect(fake.callsOf('CreateSnapshots')).toHaveLength(1);
  expect(fake.callsOf('CreateFlowLogs')).toHaveLength(1);
  expect(fake.enis.get(ENI_A)?.groups).toEqual([appSg]);
  expect(fake.callsOf('ModifyNetworkInterfaceAttribute')).toEqual([]);
  expect(fake.callsOf('CreateSecurityGroup')).toEqual([]);
  expect(fake.callsOf('PutRolePolicy')).toEqual([]);
  expect(fake.callsOf('DisassociateIamInstanceProfile')).toEqual([]);
  expect(fake.callsOf('DetachInstances')).toEqual([]);
  expect(fake.callsOf('ModifyInstanceAttribute')).toEqual([]);
  expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
  expect(fake.autoScaling.has(INSTANCE)).toBe(true);
  const response = fake.item(INCIDENT, RESPONSE_SK);
  expect(response?.outcome).toBe('exempt');
  expect(String(response?.summary)).toBe(
    `exempt by exemptions.autoScalingGroups ${ACCOUNT}/web-asg: not isolated or quarantined; evidence collected: flowLogs, snapshot, collectEvidence`,
  );
  expect(response?.snapshotStatus).toBe('completed');
  expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('exempt');
});

test('an exempt response whose evidence failed stays exempt, lists the failure, and the execution fails', async () => {
  scenario = webInstance();
  const { fake, appSg } = scenario;
  fake.failNext('CreateSnapshots', 'UnauthorizedOperation', 1, 'not authorized to create snapshots');

  const result = await run({ exemptions: { ...NONE, accounts: [ACCOUNT] } });

  expect(result.status).toBe('FAILED');
  expect(result.error?.name).toBe('ContainmentIncomplete');
  expect(fake.enis.get(ENI_A)?.groups).toEqual([appSg]);
  const response = fake.item(INCIDENT, RESPONSE_SK);
  expect(response?.outcome).toBe('exempt');
  expect(response?.failures).toEqual([{ action: 'snapshot', error: 'UnauthorizedOperation', cause: 'not authorized to create snapshots' }]);
  expect(String(response?.summary)).toContain('evidence FAILED: snapshot');
});

test("a responder's manual request overrides a hub exemption: contained, and the record names who overrode it", async () => {
  scenario = webInstance();
  const { fake } = scenario;
  const responder = 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice';

  const result = await run({ exemptions: { ...NONE, instanceIds: [INSTANCE] }, input: request({ source: 'manual', requestedBy: responder }) });

  expect(result.status).toBe('SUCCEEDED');
  expect(isolated(fake)).toBe(true);
  expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
  const response = fake.item(INCIDENT, RESPONSE_SK);
  expect(response?.outcome).toBe('contained');
  expect(response?.exemption).toEqual({ field: 'instanceIds', value: INSTANCE, overridden: true, overriddenBy: responder, overriddenBySource: 'manual' });
  expect(String(response?.summary)).toContain(`exemption (exemptions.instanceIds ${INSTANCE}) overridden by ${responder} (manual request)`);
});

test('a gate selected by a member-writable tag, configured onTimeout=deny, times out and the instance is contained', async () => {
  scenario = webInstance({ tags: { env: 'production' } });
  const { fake } = scenario;
  const approval: ApprovalPolicy = {
    requiredForTags: [{ key: 'env', value: 'production' }],
    requiredFor: { accounts: [], instanceIds: [] },
    timeoutSeconds: 1,
    onTimeout: 'deny',
  };

  const result = await run({ approval, fake });

  expect(result.status).toBe('SUCCEEDED');
  expect(result.entered).toContain('TimeoutApproves');
  expect(result.entered).not.toContain('TimeoutDenies');
  expect(isolated(fake)).toBe(true);
  expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
  const response = fake.item(INCIDENT, RESPONSE_SK);
  expect(response?.outcome).toBe('contained');
  expect(response?.approval).toMatchObject({ status: 'timed-out', applied: 'approve', onTimeout: 'approve' });
});
