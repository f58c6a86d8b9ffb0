/**
 * A hostile tenant (a member-account user) dresses its own security groups as cordon's: tags
 * `cordon:managed=true` + `cordon:purpose=untrack|isolation`, and the old predictable names
 * `cordon-<purpose>-<vpc>`. cordon knows its groups from the hub ledger only (lambdas/shared/group-records.ts),
 * so the real workflow over FakeAws contains the instance in groups it created and recorded, and the bait
 * is never used and never changed.
 */
import { type FakeAws, type FakeRule, type WebInstance, webInstance } from '../support/fake-aws';
import { ACCOUNT, ENI_A, ENI_B, INCIDENT, NOW, REGION, request, VPC } from '../../lib/simulator/scenario';
import { testClientFactory } from '../support/clients';
import { runWorkflow } from '../support/workflow';

let scenario: WebInstance | undefined;
afterEach(() => scenario?.fake.restore());

function bait(fake: FakeAws) {
  const tagged = (purpose: string) => ({ 'cordon:managed': 'true', 'cordon:purpose': purpose, Name: `cordon-${purpose}-${VPC}` });
  const untrack = fake.addGroup(VPC, 'prod-web', tagged('untrack'));
  const isolation = fake.addGroup(VPC, 'prod-shared', tagged('isolation'));
  const squatted = fake.addGroup(VPC, `cordon-isolation-${VPC}`);
  const squattedUntrack = fake.addGroup(VPC, `cordon-untrack-${VPC}`, tagged('untrack'));
  return [untrack, isolation, squatted, squattedUntrack];
}

const rulesOf = (fake: FakeAws, id: string): FakeRule[] => structuredClone(fake.groups.get(id)?.rules ?? []);
const recorded = (fake: FakeAws, purpose: string) => fake.item(`groups-${ACCOUNT}-${REGION}`, `GROUP#${VPC}#${purpose}`)?.groupId as string | undefined;

test("bait groups tagged and named as cordon's are never used or changed; the instance is contained in cordon's recorded groups", async () => {
  scenario = webInstance();
  const { fake } = scenario;
  const baits = bait(fake);
  const before = baits.map((id) => rulesOf(fake, id));

  const result = await runWorkflow(request(), { factory: testClientFactory(), now: () => NOW });

  expect(result.error).toBeUndefined();
  expect(result.status).toBe('SUCCEEDED');
  const isolation = recorded(fake, 'isolation');
  const untrack = recorded(fake, 'untrack');
  expect(isolation).toMatch(/^sg-/);
  expect(baits).not.toContain(isolation);
  expect(baits).not.toContain(untrack);
  expect(fake.groups.get(isolation ?? '')?.name).toMatch(new RegExp(`^cordon-isolation-${VPC}-[0-9a-f]{12}$`));
  expect(fake.enis.get(ENI_A)?.groups).toEqual([isolation]);
  expect(fake.enis.get(ENI_B)?.groups).toEqual([isolation]);
  expect(fake.groups.get(isolation ?? '')?.rules).toEqual([]);
  expect(baits.map((id) => rulesOf(fake, id))).toEqual(before);
  // No request to EC2 named a bait group.
  const named = fake.calls.filter((c) => baits.some((id) => JSON.stringify(c.input).includes(id)));
  expect(named.map((c) => c.command)).toEqual([]);
  expect(fake.item(INCIDENT, `RESPONSE#${request().requestId}`)?.outcome).toBe('contained');
});

test("a second response reuses the recorded groups: nothing is created again", async () => {
  scenario = webInstance();
  const { fake } = scenario;
  bait(fake);

  await runWorkflow(request(), { factory: testClientFactory(), now: () => NOW });
  const isolation = recorded(fake, 'isolation');
  const creates = fake.callsOf('CreateSecurityGroup').length;
  const again = await runWorkflow(request({ requestId: '0c9e1b52-7a3d-4f6e-9b8a-2d4c6e8f0a1b', source: 'manual' }), {
    factory: testClientFactory(),
    now: () => NOW,
  });

  expect(again.status).toBe('SUCCEEDED');
  expect(creates).toBe(2);
  expect(fake.callsOf('CreateSecurityGroup')).toHaveLength(2);
  expect(recorded(fake, 'isolation')).toBe(isolation);
  expect(fake.enis.get(ENI_A)?.groups).toEqual([isolation]);
});
