/**
 * The approval gate (issue 5, docs/approval.md) over the real ASL, the real handlers (capture-state,
 * await-approval, protect, isolate, quarantine-role, preserve, record, …) and the real
 * submitApprovalDecision, on FakeAws. The callback task itself is emulated by the runner
 * (test/support/workflow.ts explains exactly how); its timeout is the engine's own timer.
 */
import type { ApprovalDecision } from '../../lambdas/shared/schemas';
import { GATED_ACTIONS } from '../../lambdas/shared/actions';
import { submitApprovalDecision } from '../../lambdas/shared/approval';
import type { ApprovalPolicy } from '../../lambdas/capture-state/capture-state';
import type { Call } from '../../lib/simulator/core';
import { FakeAws, type WebInstance, webInstance } from '../support/fake-aws';
import { ENI_A, ENI_B, INCIDENT, INSTANCE, NOW, request, ROLE, STOLEN_AT } from '../../lib/simulator/scenario';
import { testClientFactory, rejectionOf } from '../support/clients';
import { waitingSteps } from '../support/plan';
import { LEDGER, runWorkflow, type CallbackContext, type WorkflowRun } from '../support/workflow';

const RESPONSE_ID = request().requestId;
const RESPONSE_SK = `RESPONSE#${RESPONSE_ID}`;
const ALICE = 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice';
const BOB = 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/bob';
/** A minute into the wait (the handlers' clock is NOW). */
const DURING_WAIT = new Date(NOW.getTime() + 60_000);
const DIRECT_TG = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/admin/0123456789abcdef';
const PRODUCTION: ApprovalPolicy = {
  requiredForTags: [{ key: 'env', value: 'production' }],
  requiredFor: { accounts: [], instanceIds: [] },
  timeoutSeconds: 1800,
  onTimeout: 'approve',
};
/** The evidence branches' states: none of them waits for the decision. */
const EVIDENCE_STATES = ['EnableFlowLogs', 'CreateSnapshots', 'PreserveBeforeApproval', 'CollectEvidence'];
/**
 * The mutating EC2/IAM/Auto Scaling/ELB calls the evidence side makes while the gate waits (flow logs,
 * snapshots shared into the security account, preservation's attributes): they leave the instance serving.
 */
const EVIDENCE_CALLS = ['CreateFlowLogs', 'CreateSnapshots', 'CopySnapshot', 'ModifySnapshotAttribute', 'CreateTags'];
/**
 * Calls that change how the instance serves: every other mutating call on those services (termination
 * protection included; preservation's own ModifyInstanceAttribute is evidence). None may happen before approval.
 */
function isServiceChange(c: Call): boolean {
  if (!['ec2', 'iam', 'autoscaling', 'elasticloadbalancing'].includes(c.service) || /^(Describe|Get|List)/.test(c.command)) return false;
  if (c.command === 'ModifyInstanceAttribute') return c.input.DisableApiTermination !== undefined;
  return !EVIDENCE_CALLS.includes(c.command);
}

let scenario: WebInstance | undefined;
afterEach(() => scenario?.fake.restore());

/** The web instance tagged env=production, in an Auto Scaling group and registered directly in a target group. */
function productionInstance(tags: Record<string, string> = { env: 'production' }): WebInstance {
  scenario = webInstance({ tags, asg: 'web-asg' });
  scenario.fake.targetGroups.set(DIRECT_TG, { type: 'instance', targets: [{ id: INSTANCE, port: 8443, state: 'healthy' }] });
  return scenario;
}

async function run(
  fake: FakeAws,
  options: { approval?: ApprovalPolicy; input?: unknown; onCallback?: (c: CallbackContext) => Promise<void> } = {},
): Promise<WorkflowRun> {
  return runWorkflow(options.input ?? request(), {
    factory: testClientFactory(),
    now: () => NOW,
    approval: options.approval ?? PRODUCTION,
    callbacks: fake,
    onCallback: options.onCallback,
  });
}

/** What the API and the CLI do: the real submitApprovalDecision, with the hub's clients. */
function decide(decision: ApprovalDecision['decision'], decidedBy: string, reason: string, at = DURING_WAIT) {
  const { ddb, sfn } = testClientFactory().hub();
  return submitApprovalDecision({ ddb, sfn, table: LEDGER }, { responseId: RESPONSE_ID, decision, decidedBy, reason }, at);
}

function groupsOf(fake: FakeAws, eni: string): string[] {
  return fake.enis.get(eni)?.groups ?? [];
}

function isolationGroup(fake: FakeAws): string | undefined {
  return [...fake.groups.values()].find((g) => g.tags['cordon:purpose'] === 'isolation')?.id;
}

function message(fake: FakeAws, prefix: string) {
  const m = fake.messages.find((x) => x.subject?.startsWith(prefix));
  if (!m) throw new Error(`no SNS message starting with ${prefix}; got ${fake.messages.map((x) => x.subject).join(' | ')}`);
  return { subject: m.subject, body: JSON.parse(m.message) as Record<string, unknown> };
}

/** Everything the evidence side did, and everything the service side did not do, while the gate waited. */
function snapshotWhileWaiting(fake: FakeAws, token: string) {
  const instance = fake.instances.get(INSTANCE);
  return {
    serviceChanges: fake.calls.filter(isServiceChange).map((c) => c.command),
    eniGroups: [groupsOf(fake, ENI_A), groupsOf(fake, ENI_B)],
    credentialsDenied: fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT),
    inAutoScaling: fake.autoScaling.has(INSTANCE),
    inTargetGroup: fake.targetGroups.get(DIRECT_TG)?.targets.some((t) => t.id === INSTANCE),
    terminationProtection: instance?.disableApiTermination,
    snapshotsStarted: fake.callsOf('CreateSnapshots').length,
    flowLogsCreated: fake.callsOf('CreateFlowLogs').length,
    consoleOutput: [...fake.objects.keys()].some((k) => k.endsWith('/console-output.txt')),
    volumesKept: instance?.volumes.every((v) => !v.deleteOnTermination),
    shutdownBehavior: instance?.shutdownBehavior,
    approval: fake.item(INCIDENT, RESPONSE_SK)?.approval as Record<string, unknown> | undefined,
    tokenStored: (fake.item(INCIDENT, RESPONSE_SK)?.approval as { taskToken?: string } | undefined)?.taskToken === token,
  };
}

/** The token must appear nowhere but the ledger entry while it waits: not in SNS, not in an evidence object. */
function tokenLeaks(fake: FakeAws, token: string): string[] {
  return [
    ...fake.messages.filter((m) => m.message.includes(token) || (m.subject ?? '').includes(token)).map((m) => `sns: ${m.subject ?? ''}`),
    ...[...fake.objects.entries()].filter(([, o]) => o.body.toString('utf8').includes(token)).map(([k]) => `s3: ${k}`),
  ];
}

describe('approval gate', () => {
  test('a production instance: evidence is taken at once, nothing that changes service happens until approval, then it is contained', async () => {
    // Prepare
    const { fake, appSg } = productionInstance();
    let waiting: ReturnType<typeof snapshotWhileWaiting> | undefined;
    let waitingToken = '';
    let decided: Awaited<ReturnType<typeof decide>> | undefined;

    // Act
    const result = await run(fake, {
      onCallback: async ({ token, exited }) => {
        await exited(EVIDENCE_STATES);
        waitingToken = token;
        waiting = snapshotWhileWaiting(fake, token);
        decided = await decide('approve', ALICE, 'confirmed C2 beaconing from web-7');
      },
    });

    // Assess: while waiting, the evidence ran and the instance kept serving.
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(waiting).toMatchObject({
      serviceChanges: [],
      eniGroups: [[appSg], [appSg]],
      credentialsDenied: false,
      inAutoScaling: true,
      inTargetGroup: true,
      terminationProtection: false,
      flowLogsCreated: 1,
      consoleOutput: true,
      volumesKept: true,
      shutdownBehavior: 'stop',
      tokenStored: true,
      approval: {
        status: 'pending',
        requestedAt: NOW.toISOString(),
        expiresAt: new Date(NOW.getTime() + 1800_000).toISOString(),
        matchedTag: { key: 'env', value: 'production' },
        onTimeout: 'approve',
        actions: waitingSteps(),
      },
    });
    expect(waiting?.snapshotsStarted).toBeGreaterThan(0);
    const asked = message(fake, '[cordon] approval needed: ');
    expect(asked.body).toMatchObject({
      responseId: RESPONSE_ID,
      approve: { cli: `cordon approve ${RESPONSE_ID} --reason "<why>"`, api: expect.stringContaining(`POST /v1/responses/${RESPONSE_ID}/approval`) },
      deny: { cli: `cordon deny ${RESPONSE_ID} --reason "<why>"` },
    });
    expect(decided).toMatchObject({ responseId: RESPONSE_ID, incidentId: INCIDENT, decision: 'approve', approved: true, decidedBy: ALICE });

    // Assess: after approval, contained as without the gate, Auto Scaling first.
    const isolation = isolationGroup(fake);
    expect(groupsOf(fake, ENI_A)).toEqual([isolation]);
    expect(groupsOf(fake, ENI_B)).toEqual([isolation]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    expect(fake.autoScaling.has(INSTANCE)).toBe(false);
    expect(fake.instances.get(INSTANCE)?.disableApiTermination).toBe(true);
    expect(fake.targetGroups.get(DIRECT_TG)?.targets.map((t) => t.id)).toEqual([]);
    expect(fake.indexOf('DetachInstances')).toBeLessThan(fake.indexOf('ModifyNetworkInterfaceAttribute'));
    // The test that found no service change while waiting finds the containment calls once approved.
    expect(fake.calls.filter(isServiceChange).map((c) => c.command)).toEqual(
      expect.arrayContaining(['DetachInstances', 'ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute', 'PutRolePolicy', 'DisassociateIamInstanceProfile', 'DeregisterTargets']),
    );
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.outcome).toBe('contained');
    expect(String(response?.summary)).toMatch(/^approved by arn:aws:sts::111122223333:assumed-role\/IncidentResponder\/alice; all requested actions succeeded/);
    expect(response?.approval).toEqual({
      status: 'approved',
      decision: 'approve',
      decidedBy: ALICE,
      reason: 'confirmed C2 beaconing from web-7',
      decidedAt: DURING_WAIT.toISOString(),
      applied: 'approve',
      closedAt: NOW.toISOString(),
      requestedAt: NOW.toISOString(),
      expiresAt: new Date(NOW.getTime() + 1800_000).toISOString(),
      matchedTag: { key: 'env', value: 'production' },
      timeoutSeconds: 1800,
      onTimeout: 'approve',
      actions: waitingSteps(),
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:cordon-response:test',
    });
    // One preserve action, with the target groups LeaveTargetGroups left (release reads them there).
    const preserve = (response?.actions as Array<{ action: string; status: string; detail: { targetGroups: unknown } }>).filter((a) => a.action === 'preserve');
    expect(preserve).toHaveLength(1);
    expect(preserve[0]?.detail.targetGroups).toEqual({
      status: 'done',
      deregistered: [{ targetGroupArn: DIRECT_TG, port: 8443, availabilityZone: null }],
    });
    expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('contained');
    expect(tokenLeaks(fake, waitingToken)).toEqual([]);
  });

  test('approved, but the instance cannot leave its Auto Scaling group: security groups are left alone, as without the gate', async () => {
    // Prepare
    const { fake, appSg } = productionInstance();
    fake.failNext('DetachInstances', 'ValidationError', 1, 'The instance is in a lifecycle state that does not allow detaching');

    // Act
    const result = await run(fake, { onCallback: async () => void (await decide('approve', ALICE, 'contain')) });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.entered).toContain('KeepProtectFailure');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(fake.callsOf('ModifyNetworkInterfaceAttribute')).toEqual([]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.outcome).toBe('partially-contained');
    expect((response?.failures as Array<{ action: string; error: string }>).map((f) => `${f.action}:${f.error}`)).toEqual([
      'protect:ProtectInstanceError',
      'isolate:IsolationUnsafe',
    ]);
  });

  test('a denial leaves the instance serving as it was, still collects the evidence, and says who declined and why', async () => {
    // Prepare
    const { fake, appSg } = productionInstance();

    // Act
    const result = await run(fake, {
      onCallback: async ({ exited }) => {
        await exited(EVIDENCE_STATES);
        await decide('deny', BOB, 'payments cut-over in progress: isolate after 18:00');
      },
    });

    // Assess: a clean decline is not a failure.
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(groupsOf(fake, ENI_B)).toEqual([appSg]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
    expect(fake.autoScaling.has(INSTANCE)).toBe(true);
    expect(fake.targetGroups.get(DIRECT_TG)?.targets.map((t) => t.id)).toEqual([INSTANCE]);
    expect(fake.calls.filter(isServiceChange)).toEqual([]);
    // The evidence is still complete: snapshots shared into the hub, flow logs, console output.
    expect(fake.callsOf('CreateFlowLogs')).toHaveLength(1);
    expect([...fake.objects.keys()].some((k) => k.endsWith('/console-output.txt'))).toBe(true);
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.snapshotStatus).toBe('completed');
    expect(response?.outcome).toBe('declined');
    expect(response?.failures).toEqual([]);
    expect((response?.actions as Array<{ action: string; status: string }>).map((a) => `${a.action}:${a.status}`)).toEqual([
      ...GATED_ACTIONS.map((a) => `${a}:declined`),
      'flowLogs:succeeded',
      'snapshot:succeeded',
      'preserve:succeeded',
      'collectEvidence:succeeded',
    ]);
    expect(response?.approval).toMatchObject({ status: 'denied', decision: 'deny', decidedBy: BOB, applied: 'deny' });
    expect((response?.approval as Record<string, unknown>).taskToken).toBeUndefined();
    expect(fake.item(INCIDENT, 'INCIDENT')?.status).toBe('declined');
    const note = message(fake, '[cordon] declined: ');
    expect(note.subject).toBe(`[cordon] declined: ${INSTANCE} in 111122223333/us-east-1`);
    expect(String(note.body.summary)).toBe(
      `declined: ${GATED_ACTIONS.join(', ')} not done, declined by ${BOB}: payments cut-over in progress: isolate after 18:00; ` +
        'the instance stays in service; flowLogs, snapshot, preserve, collectEvidence succeeded',
    );
    expect(note.body.approval).toMatchObject({ status: 'denied', applied: 'deny', decidedBy: BOB });

    // A second decision afterwards changes nothing.
    const late = await rejectionOf(decide('approve', ALICE, 'overrule'));
    expect(late.name).toBe('ApprovalAlreadyDecidedError');
    expect(late.message).toContain(`was already denied by ${BOB}`);
  });

  test('two responders deciding at once: exactly one decision wins, and the workflow follows it', async () => {
    // Prepare
    const { fake } = productionInstance();
    let outcomes: PromiseSettledResult<unknown>[] = [];

    // Act
    await run(fake, {
      onCallback: async () => {
        outcomes = await Promise.allSettled([decide('approve', ALICE, 'contain it'), decide('deny', BOB, 'leave it')]);
      },
    });

    // Assess
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((o) => (o.reason as Error).name)).toEqual(['ApprovalAlreadyDecidedError']);
    expect(fake.callsOf('SendTaskSuccess')).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ decidedBy: string; approved: boolean }>).value;
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.approval).toMatchObject({ decidedBy: winner.decidedBy });
    expect(response?.outcome).toBe(winner.approved ? 'contained' : 'declined');
  });

  test('a repeat finding two hours into a long wait is appended as a duplicate, not taken for an abandoned claim', async () => {
    // Prepare: a 24-hour wait; the incident's claim is older than the stale-claim hour when the repeat arrives
    const { fake } = productionInstance();
    const later = new Date(NOW.getTime() + 2 * 3600_000);
    let repeat: WorkflowRun | undefined;

    // Act
    await run(fake, {
      approval: { ...PRODUCTION, timeoutSeconds: 86400 },
      onCallback: async () => {
        repeat = await runWorkflow(request({ requestId: 'repeat-finding-1' }), {
          factory: testClientFactory(),
          now: () => later,
          approval: PRODUCTION,
          executionId: 'arn:aws:states:us-east-1:111122223333:execution:cordon-response:repeat',
        });
        await decide('approve', ALICE, 'contain', later);
      },
    });

    // Assess
    expect(repeat?.entered).not.toContain('AwaitApproval');
    expect(fake.item(INCIDENT, 'RESPONSE#repeat-finding-1')?.outcome).toBe('duplicate');
    expect(fake.item(INCIDENT, RESPONSE_SK)?.outcome).toBe('contained');
    expect(fake.callsOf('CreateSnapshots')).toHaveLength(1);
  });

  test('no decision in time on a hub-selected gate with onTimeout=deny: the instance is left serving, the evidence is collected, a late decision is refused', async () => {
    // Prepare: a one-second timeout, so the engine's own timer fires; the gate is selected by hub configuration
    // (approval.requiredFor), the only selector whose onTimeout=deny applies (a tag-selected gate approves).
    const { fake, appSg } = productionInstance();

    // Act
    const result = await run(fake, {
      approval: { ...PRODUCTION, requiredFor: { accounts: [], instanceIds: [INSTANCE] }, timeoutSeconds: 1, onTimeout: 'deny' },
      onCallback: async ({ exited }) => exited(EVIDENCE_STATES),
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(false);
    expect(fake.callsOf('SendTaskSuccess')).toEqual([]);
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.outcome).toBe('declined');
    expect(String(response?.summary)).toContain('nobody decided before the approval timed out (onTimeout=deny)');
    expect(response?.approval).toMatchObject({ status: 'timed-out', applied: 'deny', decidedBy: 'cordon (approval timed out)' });
    expect(response?.snapshotStatus).toBe('completed');

    const late = await rejectionOf(decide('approve', ALICE, 'sorry, was asleep', new Date(NOW.getTime() + 2_000)));
    expect(late.name).toBe('ApprovalAlreadyDecidedError');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
  });

  test('no decision in time with onTimeout=approve: containment goes ahead, and the ledger says nobody decided', async () => {
    // Prepare
    const { fake } = productionInstance();

    // Act
    const result = await run(fake, { approval: { ...PRODUCTION, timeoutSeconds: 1, onTimeout: 'approve' }, onCallback: async () => undefined });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(groupsOf(fake, ENI_A)).toEqual([isolationGroup(fake)]);
    expect(fake.credentialsDenied(ROLE, INSTANCE, STOLEN_AT)).toBe(true);
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.outcome).toBe('contained');
    expect(String(response?.summary)).toMatch(/^no decision in time \(onTimeout=approve\); all requested actions succeeded/);
    expect(response?.approval).toMatchObject({ status: 'timed-out', applied: 'approve', decidedBy: 'cordon (approval timed out)' });
    expect((response?.approval as Record<string, unknown>).taskToken).toBeUndefined();
  });

  test('an approval request that cannot be sent: isolation and quarantine are recorded as failed, not attempted, and the execution fails', async () => {
    // Prepare: the "approval needed" notification is refused.
    const { fake, appSg } = productionInstance();
    fake.failNext('Publish', 'AuthorizationError', 1, 'not authorized to publish to the topic');

    // Act
    const result = await run(fake);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('ContainmentIncomplete');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(fake.calls.filter(isServiceChange)).toEqual([]);
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.outcome).toBe('failed');
    expect((response?.failures as Array<{ action: string; error: string; cause: string }>).map((f) => `${f.action}:${f.error}`)).toEqual(
      GATED_ACTIONS.map((a) => `${a}:AuthorizationError`),
    );
    expect(response?.approval).toMatchObject({ status: 'failed', decidedBy: 'cordon (the approval could not be requested)' });
    expect((response?.approval as Record<string, unknown>).taskToken).toBeUndefined();
  });

  test('an instance without an approval tag is contained at once, as without the gate', async () => {
    // Prepare
    const { fake } = productionInstance({ env: 'staging' });

    // Act
    const result = await run(fake);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered).not.toContain('AwaitApproval');
    expect(result.entered).toContain('ProtectInstance');
    expect(result.entered).not.toContain('ProtectAfterApproval');
    expect(result.entered).toContain('PreserveInstance');
    expect(groupsOf(fake, ENI_A)).toEqual([isolationGroup(fake)]);
    expect(fake.targetGroups.get(DIRECT_TG)?.targets.map((t) => t.id)).toEqual([]);
    const response = fake.item(INCIDENT, RESPONSE_SK);
    expect(response?.outcome).toBe('contained');
    expect(response?.approval).toBeUndefined();
    expect(fake.messages.some((m) => m.subject?.startsWith('[cordon] approval needed'))).toBe(false);
    const refused = await rejectionOf(decide('approve', ALICE, 'nothing to approve'));
    expect(refused.name).toBe('ApprovalNotPendingError');
  });

  test('a production instance asked for evidence only needs no approval: nothing it does changes service', async () => {
    // Prepare
    const { fake, appSg } = productionInstance();

    // Act
    const result = await run(fake, { input: request({ source: 'manual', actions: ['snapshot', 'flowLogs'], requestedBy: ALICE }) });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered).not.toContain('AwaitApproval');
    expect(groupsOf(fake, ENI_A)).toEqual([appSg]);
    expect(fake.item(INCIDENT, RESPONSE_SK)?.outcome).toBe('contained');
  });
});
