/**
 * `cordon release`: the ledger pre-check (refusals start nothing), the ReleaseRequest it starts on
 * the release workflow, and --wait over a workflow whose shape the CLI does not know.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../../bin/cli/commands';
import { executionName } from '../../../lambdas/intake/intake';
import { ReleaseRequest } from '../../../lambdas/shared/schemas';
import { ENI_A, INCIDENT_ID } from './histories';
import { BEFORE_KEY, containedItem, incidentItem } from './ledger-items';
import {
  CALLER_ARN,
  HUB,
  History,
  REGION,
  RELEASE_EXECUTION,
  RELEASE_ID,
  RELEASE_MACHINE,
  RESPONSE_EXECUTION,
  RESPONSE_ID,
  RESPONSE_MACHINE,
  serveHistory,
  STACK_OUTPUTS,
  TABLE,
  testDeps,
} from './support';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const REASON = 'forensics done; instance rebuilt from a clean image';

function ledger(incident: Record<string, unknown> | null, item: Record<string, unknown> | null = containedItem()): void {
  ddb.on(QueryCommand).resolves({ Items: item ? [item] : [] });
  ddb.on(GetCommand).resolves(incident ? { Item: incident } : {});
}

beforeEach(() => {
  for (const m of [sts, cfn, sfn, ddb]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: HUB, Arn: CALLER_ARN });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: `CordonHub-${REGION}`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: STACK_OUTPUTS }] });
  sfn.on(DescribeExecutionCommand, { executionArn: RESPONSE_EXECUTION }).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'SUCCEEDED', startDate: new Date(0) });
  sfn.on(StartExecutionCommand).resolves({ executionArn: RELEASE_EXECUTION, startDate: new Date('2025-06-02T09:00:00.000Z') });
});

describe('cordon release: starting', () => {
  it.each(['contained', 'partially-contained'])('an incident %s: starts the release workflow with a manual ReleaseRequest', async (status) => {
    ledger(incidentItem(status));
    const deps = testDeps({ ids: [RELEASE_ID] });

    expect(await main(['release', RESPONSE_ID, '--reason', REASON], deps)).toBe(0);

    // The pre-check reads the incident consistently: its status is what decides.
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: TABLE, Key: { pk: INCIDENT_ID, sk: 'INCIDENT' }, ConsistentRead: true });
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const { stateMachineArn, name, input } = calls[0]?.args[0].input ?? {};
    expect(stateMachineArn).toBe(RELEASE_MACHINE);
    expect(name).toBe(executionName(RELEASE_ID));
    const request = JSON.parse(input ?? '') as unknown;
    expect(request).toEqual({ releaseId: RELEASE_ID, responseId: RESPONSE_ID, source: 'manual', reason: REASON, requestedBy: CALLER_ARN });
    expect(ReleaseRequest.safeParse(request).success).toBe(true);
    expect(deps.out()).toContain(`Started release ${RELEASE_ID} of response ${RESPONSE_ID}`);
    expect(deps.out()).toContain(`  restores   ${BEFORE_KEY}`);
    expect(deps.out()).toContain(`  execution  ${RELEASE_EXECUTION}`);
  });

  it('--json prints one document', async () => {
    ledger(incidentItem('contained'));
    const deps = testDeps({ ids: [RELEASE_ID] });
    await main(['release', RESPONSE_ID, '--reason', REASON, '--json'], deps);
    expect(JSON.parse(deps.out())).toEqual({
      releaseId: RELEASE_ID,
      responseId: RESPONSE_ID,
      incidentId: INCIDENT_ID,
      executionArn: RELEASE_EXECUTION,
      startDate: '2025-06-02T09:00:00.000Z',
      restoreFrom: BEFORE_KEY,
      request: { releaseId: RELEASE_ID, responseId: RESPONSE_ID, source: 'manual', reason: REASON, requestedBy: CALLER_ARN },
    });
  });

  it("a re-run under cordon's own isolation releases to the incident's original before-state", async () => {
    ledger(incidentItem('contained'), containedItem({ underCordonControl: true, restoreFrom: null }));
    const deps = testDeps({ ids: [RELEASE_ID] });
    expect(await main(['release', RESPONSE_ID, '--reason', REASON], deps)).toBe(0);
    expect(deps.out()).toContain(`  restores   ${BEFORE_KEY}`);
  });

  it('a hub without the release workflow yet: a clear configuration error, nothing started', async () => {
    ledger(incidentItem('contained'));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'x', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: STACK_OUTPUTS.filter((o) => o.OutputKey !== 'ReleaseStateMachineArn') }] });
    const deps = testDeps({ ids: [RELEASE_ID] });
    expect(await main(['release', RESPONSE_ID, '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toContain(`stack CordonHub-${REGION} has no output ReleaseStateMachineArn: deploy a hub version that has it, or pass --release-state-machine-arn (or set CORDON_RELEASE_STATE_MACHINE_ARN)`);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });
});

describe('cordon release: refusals (exit 2, nothing started)', () => {
  it.each([
    ['open', 'a response is still running on it; wait for it to end (cordon status)'],
    ['released', 'it has already been released'],
    ['failed', 'containment failed, so there is nothing cordon holds to undo; check the instance by hand'],
    ['exempt', 'the instance is exempt and was never contained'],
  ])('incident %s', async (status, why) => {
    ledger(incidentItem(status));
    const deps = testDeps({ ids: [RELEASE_ID] });
    expect(await main(['release', RESPONSE_ID, '--reason', REASON, '--json'], deps)).toBe(2);
    const message = `refused: incident ${INCIDENT_ID} is ${status}; release only undoes a contained or partially-contained incident (${why})`;
    expect(deps.err()).toBe(`cordon release: ${message}\n`);
    expect(JSON.parse(deps.out())).toEqual({ error: { kind: 'refused', message } });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('no before-state anywhere', async () => {
    ledger(incidentItem('contained', { originalBeforeStateKey: undefined }), containedItem({ restoreFrom: null }));
    const deps = testDeps();
    expect(await main(['release', RESPONSE_ID, '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toContain(`refused: no before-state is recorded for response ${RESPONSE_ID} or incident ${INCIDENT_ID}, so release would not know what to restore`);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('an unknown response', async () => {
    ledger(null, null);
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist', $metadata: {} }));
    const deps = testDeps();
    expect(await main(['release', 'nope', '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toBe(`cordon release: unknown response nope: the ledger has no such response in ${REGION}\n`);
  });

  it('a response that has recorded nothing yet', async () => {
    ledger(null, null);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'RUNNING', startDate: new Date(0) });
    const deps = testDeps();
    expect(await main(['release', RESPONSE_ID, '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toContain(`refused: response ${RESPONSE_ID} has recorded nothing yet (its execution is RUNNING); nothing to release`);
  });

  it('bad input, before any AWS call', async () => {
    for (const [args, message] of [
      [['release', '--reason', REASON], 'missing <response-id>'],
      [['release', RESPONSE_ID], '--reason is required'],
      [['release', 'a/b', '--reason', REASON], '"a/b" is not a response id'],
      [['release', RESPONSE_ID, '--reason', 'x\u0007'], '--reason must not contain control characters'],
    ] as const) {
      const deps = testDeps();
      expect(await main([...args], deps)).toBe(2);
      expect(deps.err()).toContain(message);
      expect(deps.awsRequests).toEqual([]);
    }
  });
});

describe('cordon release --wait (the release workflow, shape unknown to the CLI)', () => {
  function releaseHistory(end: 'succeeds' | 'fails'): History {
    const h = new History();
    const s = h.started({ releaseId: RELEASE_ID });
    const check = h.task(s, 'CheckReleasable', { status: 'releasable' });
    const restore = h.enter(check, 'Task', 'RestoreInterfaces', { networkInterfaceId: ENI_A });
    if (end === 'succeeds') {
      const done = h.exit(h.invoke(restore, { output: { status: 'restored' } }), 'Task', 'RestoreInterfaces');
      h.add('ExecutionSucceeded', h.exit(h.enter(done, 'Succeed', 'Released'), 'Succeed', 'Released'), { executionSucceededEventDetails: { output: '{"status":"released"}' } });
    } else {
      const failed = h.invoke(restore, { error: 'RestoreFailedError', cause: 'sg-0aaaaaaaaaaaaaaaa no longer exists' });
      const caught = h.exit(failed, 'Task', 'RestoreInterfaces');
      h.add('ExecutionFailed', h.enter(caught, 'Fail', 'ReleaseFailed'), { executionFailedEventDetails: { error: 'ReleaseFailed', cause: 'RestoreInterfaces: sg-0aaaaaaaaaaaaaaaa no longer exists' } });
    }
    return h;
  }

  it('SUCCEEDED: progress on stderr, exit 0, the incident as it is now', async () => {
    ledger(incidentItem('contained'));
    serveHistory(sfn, [releaseHistory('succeeds').events]);
    sfn.on(DescribeExecutionCommand, { executionArn: RELEASE_EXECUTION }).resolves({ executionArn: RELEASE_EXECUTION, stateMachineArn: RELEASE_MACHINE, status: 'SUCCEEDED', startDate: new Date(0), output: '{"status":"released"}' });
    ddb.on(GetCommand).resolvesOnce({ Item: incidentItem('contained') }).resolves({ Item: incidentItem('released') });
    const deps = testDeps({ ids: [RELEASE_ID] });

    expect(await main(['release', RESPONSE_ID, '--reason', REASON, '--wait', '--json'], deps)).toBe(0);

    expect(deps.err()).toMatch(/release +✓ RestoreInterfaces {2}restored/);
    expect(deps.err()).toMatch(/release +■ execution succeeded/);
    expect(JSON.parse(deps.out())).toMatchObject({
      releaseId: RELEASE_ID,
      ended: true,
      status: 'SUCCEEDED',
      error: null,
      output: { status: 'released' },
      incident: { incidentId: INCIDENT_ID, status: 'released' },
    });
  });

  it("FAILED: exit 3 with the Fail state's error and cause", async () => {
    ledger(incidentItem('contained'));
    serveHistory(sfn, [releaseHistory('fails').events]);
    sfn.on(DescribeExecutionCommand, { executionArn: RELEASE_EXECUTION }).resolves({
      executionArn: RELEASE_EXECUTION,
      stateMachineArn: RELEASE_MACHINE,
      status: 'FAILED',
      startDate: new Date(0),
      error: 'ReleaseFailed',
      cause: 'RestoreInterfaces: sg-0aaaaaaaaaaaaaaaa no longer exists',
    });
    const deps = testDeps({ ids: [RELEASE_ID] });

    expect(await main(['release', RESPONSE_ID, '--reason', REASON, '--wait'], deps)).toBe(3);

    expect(deps.err()).toMatch(/release +✗ RestoreInterfaces: RestoreFailedError: sg-0aaaaaaaaaaaaaaaa no longer exists/);
    expect(deps.out()).toContain(`Release ${RELEASE_ID} of response ${RESPONSE_ID}: FAILED`);
    expect(deps.out()).toContain('  execution  FAILED  ' + RELEASE_EXECUTION);
    expect(deps.out()).toContain('ReleaseFailed: RestoreInterfaces: sg-0aaaaaaaaaaaaaaaa no longer exists');
    expect(deps.out()).toContain(`  incident   ${INCIDENT_ID} is now contained`);
  });

  it.each(['ABORTED', 'TIMED_OUT'] as const)('%s: exit 3', async (status) => {
    ledger(incidentItem('contained'));
    const h = new History();
    h.add(status === 'ABORTED' ? 'ExecutionAborted' : 'ExecutionTimedOut', h.started({}));
    serveHistory(sfn, [h.events]);
    sfn.on(DescribeExecutionCommand, { executionArn: RELEASE_EXECUTION }).resolves({ executionArn: RELEASE_EXECUTION, stateMachineArn: RELEASE_MACHINE, status, startDate: new Date(0) });
    const deps = testDeps({ ids: [RELEASE_ID] });
    expect(await main(['release', RESPONSE_ID, '--reason', REASON, '--wait'], deps)).toBe(3);
    expect(deps.out()).toContain(`: ${status}`);
  });

  it('still running at --wait-timeout: exit 4', async () => {
    ledger(incidentItem('contained'));
    const h = new History();
    h.started({});
    serveHistory(sfn, [h.events]);
    sfn.on(DescribeExecutionCommand, { executionArn: RELEASE_EXECUTION }).resolves({ executionArn: RELEASE_EXECUTION, stateMachineArn: RELEASE_MACHINE, status: 'RUNNING', startDate: new Date(0) });
    const deps = testDeps({ ids: [RELEASE_ID] });
    expect(await main(['release', RESPONSE_ID, '--reason', REASON, '--wait', '--wait-timeout', '5'], deps)).toBe(4);
    expect(deps.err()).toContain('Stopped waiting after 5 s; the release goes on.');
  });
});
