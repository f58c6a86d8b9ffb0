/**
 * `cordon contain`: the request it builds and starts, where it finds the hub, what it refuses
 * before calling AWS, how AWS errors read, and --wait from a recorded history to the exit code.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../../bin/cli/commands';
import { decideAll, IntakePolicy } from '../../../lambdas/intake/decide';
import { executionName } from '../../../lambdas/intake/intake';
import { planOutput } from '../../../bin/cli/plan';
import { INCIDENT_ID, responseRun } from './histories';
import { containedItem, incidentItem, partialItem } from './ledger-items';
import {
  awsError,
  CALLER_ARN,
  HUB,
  INSTANCE,
  MEMBER,
  REGION,
  RESPONSE_EXECUTION,
  RESPONSE_ID,
  RESPONSE_MACHINE,
  serveHistory,
  STACK_OUTPUTS,
  TABLE,
  testDeps,
} from './support';
import { ACTIONS } from '../../../lambdas/shared/actions';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);

const ALL = [...ACTIONS];;
const REASON = 'C2 beaconing seen by the SOC';

beforeEach(() => {
  for (const m of [sts, cfn, sfn, ddb]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: HUB, Arn: CALLER_ARN, UserId: 'AROAEXAMPLE:alice' });
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: `CordonHub-${REGION}`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: STACK_OUTPUTS }],
  });
  sfn.on(StartExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, startDate: new Date('2025-06-01T12:00:00.000Z') });
});

function startedInput(): Record<string, unknown> {
  const calls = sfn.commandCalls(StartExecutionCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0]?.args[0].input.input ?? 'null') as Record<string, unknown>;
}

describe('cordon contain: the request', () => {
  it('starts the response workflow with a manual ResponseRequest named after its id, and prints the ids', async () => {
    const deps = testDeps();

    const code = await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--region', REGION], deps);

    expect(code).toBe(0);
    expect(deps.awsRequests).toEqual([{ region: REGION }]);
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: `CordonHub-${REGION}` });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: RESPONSE_MACHINE, name: executionName(RESPONSE_ID) });
    expect(startedInput()).toEqual({
      requestId: RESPONSE_ID,
      source: 'manual',
      target: { accountId: HUB, region: REGION, instanceId: INSTANCE },
      actions: ALL,
      reason: REASON,
      requestedBy: CALLER_ARN,
    });
    expect(deps.out()).toContain(`Started response ${RESPONSE_ID}`);
    expect(deps.out()).toContain(`execution  ${RESPONSE_EXECUTION}`);
    expect(deps.out()).toContain(`cordon status ${RESPONSE_ID} --region ${REGION}`);
    expect(deps.err()).toBe('');
  });

  it('--json prints one document with the response id, the execution ARN and the request', async () => {
    const deps = testDeps();

    const code = await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--account', MEMBER, '--actions', 'isolate,quarantineRole', '--json'], deps);

    expect(code).toBe(0);
    const lines = deps.out().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      responseId: RESPONSE_ID,
      executionArn: RESPONSE_EXECUTION,
      startDate: '2025-06-01T12:00:00.000Z',
      request: {
        requestId: RESPONSE_ID,
        source: 'manual',
        target: { accountId: MEMBER, region: REGION, instanceId: INSTANCE },
        actions: ['isolate', 'quarantineRole'],
        reason: REASON,
        requestedBy: CALLER_ARN,
      },
    });
    expect(startedInput()).toEqual(JSON.parse(lines[0] ?? '').request);
  });

  it('the region is the SDK\'s (AWS_REGION or the profile) when --region is not given; --profile is passed on', async () => {
    const deps = testDeps({ sdkRegion: 'ap-southeast-2' });

    await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--profile', 'security'], deps);

    expect(deps.awsRequests).toEqual([{ profile: 'security' }]);
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'CordonHub-ap-southeast-2' });
    expect((startedInput().target as Record<string, unknown>).region).toBe('ap-southeast-2');
  });

  it('AWS_DEFAULT_REGION is honoured like the AWS CLI does, after AWS_REGION', async () => {
    const deps = testDeps({ env: { AWS_DEFAULT_REGION: 'ca-central-1' } });
    await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps);
    expect(deps.awsRequests).toEqual([{ region: 'ca-central-1' }]);

    const withAwsRegion = testDeps({ env: { AWS_REGION: REGION, AWS_DEFAULT_REGION: 'ca-central-1' } });
    await main(['contain', '--instance', INSTANCE, '--reason', REASON], withAwsRegion);
    expect(withAwsRegion.awsRequests).toEqual([{}]);
  });

  it('an explicit state machine (flag or env) needs no stack; --stack / CORDON_STACK names another stack', async () => {
    const other = `arn:aws:states:${REGION}:${HUB}:stateMachine:Other`;
    await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--state-machine-arn', other], testDeps());
    await main(['contain', '--instance', INSTANCE, '--reason', REASON], testDeps({ env: { CORDON_RESPONSE_STATE_MACHINE_ARN: other }, ids: ['id-2'] }));
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 0);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.stateMachineArn)).toEqual([other, other]);

    await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--stack', 'cordon-prod'], testDeps({ ids: ['id-3'] }));
    await main(['contain', '--instance', INSTANCE, '--reason', REASON], testDeps({ env: { CORDON_STACK: 'cordon-env' }, ids: ['id-4'] }));
    expect(cfn.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input.StackName)).toEqual(['cordon-prod', 'cordon-env']);
  });

  it('agrees with `cordon plan` on the same request and policy: a rejected target starts nothing', async () => {
    const policy = { allowedAccounts: [MEMBER] };
    const deps = { ...testDeps(), readFile: () => JSON.stringify(policy) };

    const code = await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--policy', 'policy.json'], deps);

    const request = { requestId: RESPONSE_ID, source: 'manual', target: { accountId: HUB, region: REGION, instanceId: INSTANCE }, reason: REASON, requestedBy: CALLER_ARN };
    const planned = planOutput(decideAll(request, IntakePolicy.parse(policy)));
    expect(planned.decision).toBe('reject');
    expect(code).toBe(2);
    expect(deps.err()).toBe(`cordon contain: intake would reject this request: ${planned.reason}\n`);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });
});

describe('cordon contain: bad input is refused before any AWS call', () => {
  it.each([
    [['--instance', 'i-123; rm -rf /', '--reason', REASON], '--instance "i-123; rm -rf /" is not an EC2 instance id'],
    [['--instance', INSTANCE, '--reason', REASON, '--account', '12345'], '--account "12345" is not a 12-digit AWS account id'],
    [['--instance', INSTANCE, '--reason', REASON, '--actions', 'isolate,nuke'], '--actions: unknown action "nuke"; choose from isolate, flowLogs, snapshot, quarantineRole'],
    [['--instance', INSTANCE, '--reason', REASON, '--actions', ','], '--actions: names no action'],
    [['--instance', INSTANCE, '--reason', REASON, '--actions', 'isolate,isolate'], '--actions: an action is named twice'],
    [['--instance', INSTANCE, '--reason', 'bad\u001b[2Jreason'], '--reason must not contain control characters'],
    [['--instance', INSTANCE, '--reason', 'x'.repeat(1025)], '--reason Too big'],
    [['--instance', INSTANCE, '--reason', REASON, '--region', 'mars-1'], '--region "mars-1" is not an AWS region'],
    [['--instance', INSTANCE, '--reason', REASON, '--policy', 'missing.json'], 'policy file missing.json: cannot read (ENOENT)'],
  ])('%j', async (args, message) => {
    const deps = testDeps();
    const code = await main(['contain', ...args], deps);
    expect(code).toBe(2);
    expect(deps.err()).toContain(`cordon contain: ${message}`);
    expect(deps.awsRequests).toEqual([]);
    expect(deps.out()).toBe('');
  });

  it.each([
    [['--reason', REASON], '--instance is required'],
    [['--instance', INSTANCE], '--reason is required'],
    [['--instance', INSTANCE, '--reason', REASON, '--force'], "Unknown option '--force'"],
    [['--instance', INSTANCE, '--reason', REASON, 'extra'], 'unexpected argument "extra"'],
    [['--instance', INSTANCE, '--reason', REASON, '--wait-timeout', '30'], '--wait-timeout only applies with --wait'],
    [['--instance', INSTANCE, '--reason', REASON, '--wait', '--wait-timeout', 'soon'], '--wait-timeout must be a whole number of seconds'],
  ])('usage error %j', async (args, message) => {
    const deps = testDeps();
    const code = await main(['contain', ...args], deps);
    expect(code).toBe(2);
    expect(deps.err()).toContain(message);
    expect(deps.err()).toContain('usage: cordon contain');
    expect(deps.awsRequests).toEqual([]);
  });

  it('with --json, an error is one JSON document on stdout as well', async () => {
    const deps = testDeps();
    await main(['contain', '--instance', 'i-nope', '--reason', REASON, '--json'], deps);
    expect(JSON.parse(deps.out())).toEqual({ error: { kind: 'invalid-request', message: '--instance "i-nope" is not an EC2 instance id (i- followed by 8 or 17 hex digits)' } });
  });
});

describe('cordon contain: AWS errors read as what to do', () => {
  it('missing credentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(1);
    expect(deps.err()).toBe(
      'cordon contain: no usable AWS credentials for sts:GetCallerIdentity (Could not load credentials from any providers): sign in (aws sso login, aws configure) or choose a profile with --profile or AWS_PROFILE\n',
    );
  });

  it('expired credentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('ExpiredToken', 'The security token included in the request is expired'));
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(1);
    expect(deps.err()).toContain('your AWS credentials have expired (ExpiredToken, during sts:GetCallerIdentity)');
  });

  it('no permission: names the action and the resource from the message, as text and as JSON', async () => {
    sfn.on(StartExecutionCommand).rejects(
      awsError(
        'AccessDeniedException',
        `User: ${CALLER_ARN} is not authorized to perform: states:StartExecution on resource: ${RESPONSE_MACHINE} because no identity-based policy allows the states:StartExecution action`,
      ),
    );
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--json'], deps)).toBe(1);
    const message = `access denied: you may not states:StartExecution on ${RESPONSE_MACHINE}. The responder policy in docs/cli.md lists what the CLI needs`;
    expect(deps.err()).toBe(`cordon contain: ${message}\n`);
    expect(JSON.parse(deps.out())).toEqual({ error: { kind: 'access-denied', message, action: 'states:StartExecution', resource: RESPONSE_MACHINE } });
  });

  it('no permission, without details in the message: says which call', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('AccessDenied', 'Access Denied'));
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(1);
    expect(deps.err()).toContain(`access denied: you may not cloudformation:DescribeStacks on stack CordonHub-${REGION} in ${REGION} (Access Denied)`);
  });

  it('stack not found, or without the output', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', `Stack with id CordonHub-${REGION} does not exist`));
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toContain(`stack CordonHub-${REGION} not found in ${REGION}: deploy the cordon hub there, or pass --region, --stack or the resource flags`);

    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'x', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0), Outputs: [] }] });
    const again = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], again)).toBe(2);
    expect(again.err()).toContain(`stack CordonHub-${REGION} has no output ResponseStateMachineArn: deploy a hub version that has it, or pass --state-machine-arn (or set CORDON_RESPONSE_STATE_MACHINE_ARN)`);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('throttled even after the SDK retries', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(1);
    expect(deps.err()).toContain(`AWS throttled or was unavailable for states:StartExecution on ${RESPONSE_MACHINE} (ThrottlingException) even after retries`);
  });

  it('no region anywhere', async () => {
    const deps = testDeps({ sdkRegion: null });
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toBe('cordon contain: no AWS region: pass --region, set AWS_REGION, or set a region in your profile\n');
  });

  it('a state machine that does not exist', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${RESPONSE_MACHINE}'`));
    const deps = testDeps();
    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON], deps)).toBe(2);
    expect(deps.err()).toContain('StateMachineDoesNotExist');
    expect(deps.err()).toContain('(wrong --region, --stack or resource flag?)');
  });

  it('never prints credentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('InvalidClientTokenId', 'The security token included in the request is invalid.'));
    const deps = testDeps();
    await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--json'], deps);
    const everything = deps.out() + deps.err();
    expect(everything).toContain('AWS did not accept your credentials');
    expect(everything).not.toMatch(/AKIA|fake-secret|secretAccessKey|sessionToken/i);
  });
});

describe('cordon contain --wait', () => {
  function ledger(item: Record<string, unknown>, incidentStatus: string): void {
    ddb.on(QueryCommand).resolves({ Items: [item] });
    ddb.on(GetCommand, { TableName: TABLE, Key: { pk: INCIDENT_ID, sk: 'INCIDENT' } }).resolves({ Item: incidentItem(incidentStatus) });
  }

  it('shows each branch live on stderr, then the recorded response on stdout; exit 0 when contained', async () => {
    const run = responseRun('succeeds');
    const { requests } = serveHistory(sfn, run.batches);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'SUCCEEDED', startDate: new Date(0), stopDate: new Date(22_000) });
    ledger(containedItem(), 'contained');
    const deps = testDeps();

    const code = await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait'], deps);

    expect(code).toBe(0);
    const err = deps.err();
    expect(err).toContain(`Started response ${RESPONSE_ID}`);
    for (const expected of [
      /response +✓ CaptureBeforeState {2}incident inc-/,
      /isolate eni-0a1b2c3d4e5f60718 +✓ MoveToIsolationGroup {2}isolated in sg-0isolation0000000/,
      /isolate eni-0b2c3d4e5f6071829 +✓ MoveToIsolationGroup/,
      /quarantine +✓ QuarantineRole {2}deny on role web-role/,
      /flow logs +✓ EnableFlowLogs/,
      /share snap-0c3d4e5f607182930 +✓ SnapshotKept/,
      /response +✓ RecordOutcome {2}CONTAINED: /,
      /response +■ execution succeeded/,
    ]) {
      expect(err).toMatch(expected);
    }
    expect(err).not.toContain('\x1b');
    expect(requests[0]).toEqual({ executionArn: RESPONSE_EXECUTION, reverseOrder: true, maxResults: 100, includeExecutionData: true });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE,
      IndexName: 'byResponseId',
      KeyConditionExpression: 'responseId = :rid',
      ExpressionAttributeValues: { ':rid': RESPONSE_ID },
    });
    expect(deps.out()).toMatch(new RegExp(`^Response ${RESPONSE_ID}  contained\n`));
    expect(deps.out()).toContain('✓ quarantineRole   succeeded  deny on role web-role; earlier sessions revoked; profile disassociated');
  });

  it('--json: progress on stderr only, one final document on stdout', async () => {
    serveHistory(sfn, responseRun('succeeds').batches);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'SUCCEEDED', startDate: new Date(0) });
    ledger(containedItem(), 'contained');
    const deps = testDeps();

    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait', '--json'], deps)).toBe(0);

    const lines = deps.out().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(doc).toMatchObject({ responseId: RESPONSE_ID, executionArn: RESPONSE_EXECUTION, ended: true, outcome: 'contained', executionStatus: 'SUCCEEDED' });
    expect((doc.response as Record<string, unknown>).status).toBe('contained');
    expect(deps.err()).toContain('execution succeeded');
  });

  it('partially contained: exit 3, the failure named on stderr and stdout', async () => {
    serveHistory(sfn, responseRun('fails').batches);
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: RESPONSE_EXECUTION,
      stateMachineArn: RESPONSE_MACHINE,
      status: 'FAILED',
      startDate: new Date(0),
      error: 'ContainmentIncomplete',
      cause: 'The response ended partially-contained or failed; the ledger and the SNS notification name what failed and why.',
    });
    ledger(partialItem(), 'partially-contained');
    const deps = testDeps();

    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait'], deps)).toBe(3);

    expect(deps.err()).toMatch(/quarantine +✗ QuarantineRole: AccessDenied: /);
    expect(deps.err()).toMatch(/quarantine +↻ QuarantineRole: retrying/);
    expect(deps.out()).toMatch(/^Response \S+ {2}partially-contained\n/);
    expect(deps.out()).toContain('✗ quarantineRole: AccessDenied: not authorized to perform: iam:PutRolePolicy');
    expect(deps.out()).toContain('execution  FAILED');
  });

  it('on a terminal: colour and a status line while nothing happens', async () => {
    serveHistory(sfn, [responseRun('succeeds').batches[0] ?? [], [], ...responseRun('succeeds').batches.slice(1)]);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'SUCCEEDED', startDate: new Date(0) });
    ledger(containedItem(), 'contained');
    const deps = testDeps({ tty: true });

    await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait'], deps);

    expect(deps.err()).toContain('\x1b[32m✓ CaptureBeforeState');
    expect(deps.err()).toContain('\r\x1b[K\x1b[2mrunning 0:0');
    expect(deps.out()).toContain('\x1b[32mcontained\x1b[0m');
  });

  it('NO_COLOR keeps a terminal plain', async () => {
    serveHistory(sfn, responseRun('succeeds').batches);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'SUCCEEDED', startDate: new Date(0) });
    ledger(containedItem(), 'contained');
    const deps = testDeps({ tty: true, env: { NO_COLOR: '1' } });
    await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait'], deps);
    expect(deps.err().split('\r\x1b[K').join('')).not.toContain('\x1b');
  });

  it('--wait-timeout before the outcome is recorded: exit 4, and how to look later', async () => {
    serveHistory(sfn, [responseRun('succeeds').batches[0] ?? []]);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'RUNNING', startDate: new Date(0) });
    ddb.on(QueryCommand).resolves({ Items: [containedItem({ status: 'in-progress', outcome: undefined, summary: undefined })] });
    ddb.on(GetCommand).resolves({ Item: incidentItem('open') });
    const deps = testDeps();

    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait', '--wait-timeout', '30'], deps)).toBe(4);
    expect(deps.err()).toContain(`Stopped waiting after 30 s; the execution goes on. Check it later: cordon status ${RESPONSE_ID} --region ${REGION}`);
    expect(deps.out()).toMatch(/^Response \S+ {2}in-progress/);
  });

  it('--wait-timeout after the outcome was recorded (snapshots still copying): the exit code is the outcome', async () => {
    const run = responseRun('succeeds');
    const upToOutcome = run.events.slice(0, run.events.findIndex((e) => e.stateEnteredEventDetails?.name === 'AwaitSnapshots') + 1);
    serveHistory(sfn, [upToOutcome]);
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: RESPONSE_EXECUTION, stateMachineArn: RESPONSE_MACHINE, status: 'RUNNING', startDate: new Date(0) });
    ledger(containedItem(), 'contained');
    const deps = testDeps();

    expect(await main(['contain', '--instance', INSTANCE, '--reason', REASON, '--wait', '--wait-timeout', '60', '--json'], deps)).toBe(0);
    expect(JSON.parse(deps.out())).toMatchObject({ ended: false, outcome: 'contained', executionStatus: 'RUNNING' });
    expect(deps.err()).toContain('(outcome already recorded: contained)');
    expect(sfn).toHaveReceivedCommand(GetExecutionHistoryCommand);
  });
});
