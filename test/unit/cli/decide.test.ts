/**
 * `cordon approve` / `cordon deny`: the decision goes to the waiting task with the caller's STS
 * identity (never typed text); a response not waiting, or already decided, is refused (exit 2).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../../bin/cli/commands';
import { INCIDENT_ID } from './histories';
import { CALLER_ARN, HUB, REGION, RESPONSE_ID, STACK_OUTPUTS, T0, TABLE, testDeps } from './support';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token';
const EXECUTION = `arn:aws:states:${REGION}:${HUB}:execution:cordon-response:${RESPONSE_ID}`;

function pending(overrides: Record<string, unknown> = {}) {
  return {
    status: 'pending',
    taskToken: TOKEN,
    executionArn: EXECUTION,
    requestedAt: new Date(T0 - 60_000).toISOString(),
    expiresAt: new Date(T0 + 30 * 60_000).toISOString(),
    onTimeout: 'deny',
    ...overrides,
  };
}

beforeEach(() => {
  for (const m of [sts, cfn, sfn, ddb]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: HUB, Arn: CALLER_ARN });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: `CordonHub-${REGION}`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: STACK_OUTPUTS }] });
  ddb.on(QueryCommand).resolves({ Items: [{ pk: INCIDENT_ID, sk: `RESPONSE#${RESPONSE_ID}`, responseId: RESPONSE_ID }] });
  sfn.on(SendTaskSuccessCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
});

it.each([
  ['approve', true],
  ['deny', false],
] as const)('%s: decides as the STS caller, with the reason, through the waiting task', async (verb, approved) => {
  ddb.on(GetCommand).resolves({ Item: { approval: pending() } });
  const deps = testDeps();

  expect(await main([verb, RESPONSE_ID, '--reason', 'change CHG-1182 approved by the service owner'], deps)).toBe(0);

  expect(ddb).toHaveReceivedCommandWith(QueryCommand, { TableName: TABLE, IndexName: 'byResponseId', ExpressionAttributeValues: { ':rid': RESPONSE_ID } });
  expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
    TableName: TABLE,
    Key: { pk: INCIDENT_ID, sk: `RESPONSE#${RESPONSE_ID}` },
    ExpressionAttributeValues: expect.objectContaining({ ':decision': verb, ':by': CALLER_ARN, ':token': TOKEN }),
  });
  const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
  expect(sent?.taskToken).toBe(TOKEN);
  expect(JSON.parse(sent?.output ?? '{}')).toEqual({
    approved,
    decidedBy: CALLER_ARN,
    reason: 'change CHG-1182 approved by the service owner',
    decidedAt: new Date(T0).toISOString(),
  });
  expect(deps.out()).toContain(approved ? 'Approved response' : 'Denied response');
  // The token is a credential for the workflow: never printed.
  expect(deps.out() + deps.err()).not.toContain(TOKEN);
});

it('--json prints the decision', async () => {
  ddb.on(GetCommand).resolves({ Item: { approval: pending() } });
  const deps = testDeps();
  expect(await main(['approve', RESPONSE_ID, '--reason', 'ok', '--json'], deps)).toBe(0);
  expect(JSON.parse(deps.out())).toEqual(expect.objectContaining({ responseId: RESPONSE_ID, decision: 'approve', approved: true, decidedBy: CALLER_ARN, executionArn: EXECUTION }));
});

it('refuses a response already decided: exit 2, nothing sent', async () => {
  ddb.on(GetCommand).resolves({ Item: { approval: pending({ status: 'approved', decidedBy: 'arn:aws:sts::999988887777:assumed-role/IR/bob' }) } });
  const deps = testDeps();
  expect(await main(['deny', RESPONSE_ID, '--reason', 'too late'], deps)).toBe(2);
  expect(deps.err()).toContain('already approved by arn:aws:sts::999988887777:assumed-role/IR/bob');
  expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
});

it('refuses a response that is not waiting for a decision, and an unknown one', async () => {
  ddb.on(GetCommand).resolves({ Item: {} });
  const deps = testDeps();
  expect(await main(['approve', RESPONSE_ID, '--reason', 'ok'], deps)).toBe(2);
  expect(deps.err()).toContain('is not waiting for a decision');

  ddb.on(QueryCommand).resolves({ Items: [] });
  const unknown = testDeps();
  expect(await main(['approve', RESPONSE_ID, '--reason', 'ok'], unknown)).toBe(2);
  expect(unknown.err()).toContain(`no response ${RESPONSE_ID}`);
  expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
});

it('needs a reason and a response id', async () => {
  const deps = testDeps();
  expect(await main(['approve', RESPONSE_ID], deps)).toBe(2);
  expect(await main(['deny', '--reason', 'x'], deps)).toBe(2);
  expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
});
