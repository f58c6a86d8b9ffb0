/**
 * `cordon status`: a response by id (ledger index byResponseId + DescribeExecution), an instance's
 * latest response (the incident item), what is shown, and what is unknown.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../../bin/cli/commands';
import { ENI_A, ENI_B, INCIDENT_ID, SNAP, VOL } from './histories';
import { BEFORE_KEY, containedItem, incidentItem, partialItem } from './ledger-items';
import { awsError, BUCKET, CALLER_ARN, HUB, INSTANCE, MEMBER, REGION, RESPONSE_EXECUTION, RESPONSE_ID, RESPONSE_MACHINE, STACK_OUTPUTS, TABLE, testDeps } from './support';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);

const SUCCEEDED = { executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'SUCCEEDED' as const, startDate: new Date('2025-06-01T12:00:00.000Z'), stopDate: new Date('2025-06-01T12:00:22.000Z') };

beforeEach(() => {
  for (const m of [sts, cfn, sfn, ddb]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: HUB, Arn: CALLER_ARN });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: `CordonHub-${REGION}`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: STACK_OUTPUTS }] });
  sfn.on(DescribeExecutionCommand).resolves(SUCCEEDED);
});

describe('cordon status <response-id>', () => {
  beforeEach(() => {
    ddb.on(QueryCommand).resolves({ Items: [containedItem()] });
    ddb.on(GetCommand).resolves({ Item: incidentItem('contained') });
  });

  it('reads the response through the byResponseId index, its incident by key, and its execution', async () => {
    const deps = testDeps();

    expect(await main(['status', RESPONSE_ID], deps)).toBe(0);

    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: TABLE, IndexName: 'byResponseId', KeyConditionExpression: 'responseId = :rid', ExpressionAttributeValues: { ':rid': RESPONSE_ID }, Limit: 2 },
    ]);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([{ TableName: TABLE, Key: { pk: INCIDENT_ID, sk: 'INCIDENT' } }]);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: RESPONSE_EXECUTION }]);
    // Who the caller is doesn't matter for a response id.
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 0);
  });

  it('shows status, each action (per interface), snapshots and their copies, flow logs and evidence pointers', async () => {
    const deps = testDeps();
    await main(['status', RESPONSE_ID], deps);
    const out = deps.out();

    expect(out).toContain(`Response ${RESPONSE_ID}  contained\n`);
    expect(out).toContain(`  instance   ${INSTANCE} in ${HUB} / ${REGION}  (incident ${INCIDENT_ID}: contained)`);
    expect(out).toContain(`  requested  by ${CALLER_ARN} (manual) at 2025-06-01T12:00:00.500Z`);
    expect(out).toContain('  reason     C2 beaconing seen by the SOC');
    expect(out).toContain(`  execution  SUCCEEDED  ${RESPONSE_EXECUTION}`);
    expect(out).toContain('  ✓ isolate          succeeded  2 of 2 network interface(s) isolated');
    expect(out).toContain(`      ✓ ${ENI_A}  isolated; untracked flows cut, tracked flows expire after 60 s idle  [sg-0isolation0000000]`);
    expect(out).toContain(`      ✓ ${ENI_B}  isolated;`);
    expect(out).toContain('  ✓ quarantineRole   succeeded  deny on role web-role; earlier sessions revoked; profile disassociated');
    expect(out).toContain('  ✓ flowLogs         succeeded  1 flow log(s): fl-0123456789abcdef0 created on vpc-0123456789abcdef0');
    expect(out).toContain('  ✓ collectEvidence  succeeded  2 of 3 stored: instanceDescription, consoleOutput');
    expect(out).toContain(`Snapshots  completed\n  ${SNAP}  ${VOL}  completed  copy: kept  evidence copy snap-0e5f60718293a4b5c under the evidence key (single account)`);
    expect(out).toContain(`  fl-0123456789abcdef0  created on vpc-0123456789abcdef0  → arn:aws:s3:::${BUCKET}/flow-logs`);
    expect(out).toContain(`  beforeState          s3://${BUCKET}/${BEFORE_KEY}  sha256 ${'a'.repeat(64)}`);
    expect(out).toContain(`  instanceDescription  s3://${BUCKET}/incidents/${INCIDENT_ID}/responses/${RESPONSE_ID}/instance-description.json`);
    expect(out).toContain(`  manifest             s3://${BUCKET}/incidents/${INCIDENT_ID}/manifest.json`);
    expect(out).toContain(`Release restores the before-state ${BEFORE_KEY}`);
    expect(out).not.toContain('Failures');
  });

  it('names what failed for a partially contained response', async () => {
    ddb.on(QueryCommand).resolves({ Items: [partialItem()] });
    const deps = testDeps();
    await main(['status', RESPONSE_ID], deps);
    expect(deps.out()).toContain('  ✗ quarantineRole   failed  AccessDenied: not authorized to perform: iam:PutRolePolicy');
    expect(deps.out()).toContain('Failures\n  ✗ quarantineRole: AccessDenied: not authorized to perform: iam:PutRolePolicy');
  });

  it('--json prints the view as one document', async () => {
    const deps = testDeps();
    await main(['status', RESPONSE_ID, '--json'], deps);
    const lines = deps.out().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const view = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(view).toMatchObject({
      responseId: RESPONSE_ID,
      incidentId: INCIDENT_ID,
      status: 'contained',
      target: { accountId: HUB, region: REGION, instanceId: INSTANCE },
      incident: { incidentId: INCIDENT_ID, status: 'contained', originalBeforeStateKey: BEFORE_KEY },
      snapshots: [{ snapshotId: SNAP, volumeId: VOL, state: 'completed', copy: 'kept', hubCopyId: null }],
      restoreFrom: BEFORE_KEY,
      execution: { executionArn: RESPONSE_EXECUTION, status: 'SUCCEEDED', startDate: '2025-06-01T12:00:00.000Z', stopDate: '2025-06-01T12:00:22.000Z', error: null, cause: null },
    });
    expect((view.actions as Array<Record<string, unknown>>).map((a) => [a.action, a.status])).toEqual([
      ['isolate', 'succeeded'],
      ['quarantineRole', 'succeeded'],
      ['flowLogs', 'succeeded'],
      ['snapshot', 'succeeded'],
      ['preserve', 'succeeded'],
      ['collectEvidence', 'succeeded'],
    ]);
  });

  it('a response just started (not in the index yet) is shown from its execution', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).resolves({ ...SUCCEEDED, status: 'RUNNING', stopDate: undefined });
    const deps = testDeps();

    expect(await main(['status', RESPONSE_ID], deps)).toBe(0);

    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: RESPONSE_EXECUTION });
    expect(deps.out()).toContain(`Response ${RESPONSE_ID}  not-recorded`);
    expect(deps.out()).toContain('execution  RUNNING');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
  });

  it('an unknown response: exit 2, saying where it looked', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    const deps = testDeps();

    expect(await main(['status', 'no-such-response', '--json'], deps)).toBe(2);

    const message = `unknown response no-such-response: neither the ledger (${TABLE}) nor the response workflow in ${REGION} knows it`;
    expect(deps.err()).toBe(`cordon status: ${message}\n`);
    expect(JSON.parse(deps.out())).toEqual({ error: { kind: 'not-found', message } });
  });

  it('no permission on the ledger index names the index', async () => {
    ddb.on(QueryCommand).rejects(
      awsError('AccessDeniedException', `User: ${CALLER_ARN} is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:${REGION}:${HUB}:table/${TABLE}/index/byResponseId because no identity-based policy allows the dynamodb:Query action`),
    );
    const deps = testDeps();
    expect(await main(['status', RESPONSE_ID], deps)).toBe(1);
    expect(deps.err()).toContain(`access denied: you may not dynamodb:Query on arn:aws:dynamodb:${REGION}:${HUB}:table/${TABLE}/index/byResponseId.`);
  });

  it('the ledger table flag or env needs no stack for a recorded response', async () => {
    const deps = testDeps({ env: { CORDON_LEDGER_TABLE: 'my-ledger' } });
    expect(await main(['status', RESPONSE_ID], deps)).toBe(0);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { TableName: 'my-ledger' });
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 0);
  });
});

describe('cordon status <instance-id>', () => {
  const incidentKey = (account: string) => ({ pk: `inc-${account}-${REGION}-${INSTANCE}`, sk: 'INCIDENT' });

  it("reads the incident inc-<caller's account>-<region>-<instance> and its latest response", async () => {
    ddb.on(GetCommand, { Key: incidentKey(HUB) }).resolves({ Item: incidentItem('contained', { activeRequestId: RESPONSE_ID, lastRequestId: 'older' }) });
    ddb.on(GetCommand, { Key: { pk: INCIDENT_ID, sk: `RESPONSE#${RESPONSE_ID}` } }).resolves({ Item: containedItem() });
    const deps = testDeps();

    expect(await main(['status', INSTANCE], deps)).toBe(0);

    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: TABLE, Key: incidentKey(HUB) },
      { TableName: TABLE, Key: { pk: INCIDENT_ID, sk: `RESPONSE#${RESPONSE_ID}` } },
    ]);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 0);
    expect(deps.out()).toContain(`Response ${RESPONSE_ID}  contained`);
  });

  it('--account names another account; the incident id form needs neither', async () => {
    ddb.on(GetCommand).resolves({});
    await main(['status', INSTANCE, '--account', MEMBER], testDeps());
    await main(['status', `inc-${MEMBER}-${REGION}-${INSTANCE}`], testDeps());
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toEqual([incidentKey(MEMBER), incidentKey(MEMBER)]);
  });

  it('an instance cordon never acted on: exit 2 with what to check', async () => {
    ddb.on(GetCommand).resolves({});
    const deps = testDeps();
    expect(await main(['status', INSTANCE], deps)).toBe(2);
    expect(deps.err()).toBe(`cordon status: no incident for ${INSTANCE} in ${HUB} / ${REGION}: cordon has not acted on it (check --account and --region)\n`);
  });

  it('bad input', async () => {
    for (const [args, message] of [
      [['status'], 'missing <response-id | instance-id | incident-id>'],
      [['status', 'a b'], '"a b" is neither a response id, an instance id (i-…) nor an incident id (inc-…)'],
      [['status', RESPONSE_ID, '--account', MEMBER], '--account only applies to an instance id'],
      [['status', INSTANCE, '--account', 'me'], '--account "me" is not a 12-digit AWS account id'],
    ] as const) {
      const deps = testDeps();
      expect(await main([...args], deps)).toBe(2);
      expect(deps.err()).toContain(message);
      expect(deps.awsRequests).toEqual([]);
    }
  });
});
