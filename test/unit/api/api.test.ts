import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { decideApproval, handleApiEvent, MAX_BODY_BYTES, type ApiDeps, type ApiResult } from '../../../lambdas/api/api';
import { createHandler, loadApiConfig } from '../../../lambdas/api/handler';
import { DEFAULT_INTAKE_POLICY, IntakePolicy } from '../../../lambdas/intake/decide';
import type { ApprovalEntry } from '../../../lambdas/shared/approval';
import { executionName } from '../../../lambdas/shared/executions';
import type { Log } from '../../../lambdas/shared/handler';
import { CALLER as SIGNER, proxyEvent, type EventOptions } from '../../support/api-events';
import { awsError, FAKE_CREDENTIALS, HUB_REGION } from '../../support/clients';
import { ACTIONS } from '../../../lambdas/shared/actions';

const sfnMock = mockClient(SFNClient);
const ddbMock = mockClient(DynamoDBDocumentClient);

const RESPONSE_SM = 'arn:aws:states:us-east-1:111122223333:stateMachine:cordon-response';
const RELEASE_SM = 'arn:aws:states:us-east-1:111122223333:stateMachine:cordon-release';
const TABLE = 'cordon-ledger';
const CALLER = SIGNER;
const NEW_ID = '5f0c7a9e-2b1d-4c3e-8f6a-0d9e8c7b6a51';
const RESPONSE_ID = '9d2f4b1a-7c3e-4e5f-a6b7-c8d9e0f1a2b3';
/** When approval decisions are taken in these tests (before the approval's expiry). */
const NOW = new Date('2026-03-02T09:20:00.000Z');
const INCIDENT = 'inc-111122223333-us-east-1-i-0123456789abcdef0';
const TARGET = { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' };
const ALL_ACTIONS = [...ACTIONS];;
const responseExecution = (name: string) => `arn:aws:states:us-east-1:111122223333:execution:cordon-response:${name}`;
const releaseExecution = (name: string) => `arn:aws:states:us-east-1:111122223333:execution:cordon-release:${name}`;

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>[];
}

function recordingLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (message, ...attributes) => void lines.push({ level: 'info', message, attributes }),
    warn: (message, ...attributes) => void lines.push({ level: 'warn', message, attributes }),
    error: (message, ...attributes) => void lines.push({ level: 'error', message, attributes }),
  };
}

function deps(policy: IntakePolicy = DEFAULT_INTAKE_POLICY): ApiDeps & { log: ReturnType<typeof recordingLog> } {
  return {
    sfn: new SFNClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS })),
    config: { responseStateMachineArn: RESPONSE_SM, releaseStateMachineArn: RELEASE_SM, ledgerTable: TABLE, policy },
    log: recordingLog(),
    newId: () => NEW_ID,
    now: () => NOW,
  };
}

const START = '/v1/responses';
const GET = '/v1/responses/{id}';
const RELEASE = '/v1/responses/{id}/release';
const APPROVAL = '/v1/responses/{id}/approval';

const startBody = (patch: Record<string, unknown> = {}) => ({
  instanceId: TARGET.instanceId,
  accountId: TARGET.accountId,
  region: TARGET.region,
  reason: 'SOAR playbook 12: crypto-miner beaconing confirmed by the analyst',
  ...patch,
});

function startInputs(): { stateMachineArn?: string; name?: string; input: unknown }[] {
  return sfnMock.commandCalls(StartExecutionCommand).map((c) => {
    const { stateMachineArn, name, input } = c.args[0].input;
    return { stateMachineArn, name, input: JSON.parse(input ?? 'null') };
  });
}

function expectNothingStarted(): void {
  expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
}

function expectFailure(result: ApiResult, statusCode: number, error: string, messageStart?: string): string {
  expect({ statusCode: result.statusCode, error: result.body.error }).toEqual({ statusCode, error });
  expect(Object.keys(result.body).sort()).toEqual(['error', 'message']);
  const message = String(result.body.message);
  if (messageStart !== undefined) expect(message.startsWith(messageStart)).toBe(true);
  // eslint-disable-next-line no-control-regex
  expect(message).not.toMatch(/[\u0000-\u001f]/);
  return message;
}

const RECORDED_ITEM = {
  pk: INCIDENT,
  sk: `RESPONSE#${RESPONSE_ID}`,
  responseId: RESPONSE_ID,
  request: {
    requestId: RESPONSE_ID,
    source: 'api',
    target: TARGET,
    actions: ALL_ACTIONS,
    reason: 'SOAR playbook 12',
    requestedBy: CALLER,
  },
  startedAt: '2026-03-02T09:10:00.000Z',
  status: 'contained',
  outcome: 'contained',
  summary: 'contained: isolate, flowLogs, snapshot, quarantineRole',
  failures: [],
  actions: [
    { action: 'isolate', status: 'succeeded', detail: { interfaces: [{ networkInterfaceId: 'eni-0a1b2c3d4e5f60718' }] } },
    { action: 'snapshot', status: 'succeeded', detail: { snapshots: [{ snapshotId: 'snap-0123456789abcdef0' }] } },
  ],
  evidence: {
    beforeState: { key: `incidents/${INCIDENT}/responses/${RESPONSE_ID}/before-state.json`, sha256: 'ab'.repeat(32), size: 2048 },
    outcome: { key: `incidents/${INCIDENT}/responses/${RESPONSE_ID}/outcome.json`, sha256: 'cd'.repeat(32), size: 1024 },
  },
  snapshotIds: ['snap-0123456789abcdef0'],
  recordedAt: '2026-03-02T09:11:30.000Z',
  // Internals the API never returns.
  before: { networkInterfaces: [{ networkInterfaceId: 'eni-0a1b2c3d4e5f60718', groupIds: ['sg-0123456789abcdef0'] }] },
  awsCalls: [{ service: 'ec2', operation: 'ModifyNetworkInterfaceAttribute', requestId: 'r-1' }],
  executionArn: responseExecution(RESPONSE_ID),
};

const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf-secret-task-token-of-the-waiting-task';

/** A RESPONSE item's approval entry while it waits (lambdas/shared/approval.ts `ApprovalEntry`). */
function pendingApproval(extra: Partial<ApprovalEntry> = {}): ApprovalEntry {
  return {
    status: 'pending',
    requestedAt: '2026-03-02T09:11:00.000Z',
    expiresAt: '2026-03-02T09:41:00.000Z',
    matchedTag: { key: 'env', value: 'production' },
    timeoutSeconds: 1800,
    onTimeout: 'approve',
    actions: ['protect', 'isolate', 'leaveTargetGroups', 'quarantineRole'],
    executionArn: responseExecution(RESPONSE_ID),
    taskToken: TASK_TOKEN,
    ...extra,
  };
}

function ledgerHas(item: Record<string, unknown> | undefined, incident: Record<string, unknown> | undefined): void {
  ddbMock.on(QueryCommand).resolves({ Items: item ? [item] : [] });
  ddbMock.on(GetCommand).resolves({ Item: incident });
}

function executionIs(status: string | undefined, input?: unknown): void {
  if (status === undefined) {
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    return;
  }
  sfnMock.on(DescribeExecutionCommand).resolves({
    executionArn: responseExecution(RESPONSE_ID),
    stateMachineArn: RESPONSE_SM,
    status: status as never,
    startDate: new Date('2026-03-02T09:10:00.000Z'),
    ...(status === 'RUNNING' ? {} : { stopDate: new Date('2026-03-02T09:12:00.000Z') }),
    input: input === undefined ? undefined : JSON.stringify(input),
  });
}

beforeEach(() => {
  sfnMock.reset();
  ddbMock.reset();
});

// ---------------------------------------------------------------------------
// POST /v1/responses
// ---------------------------------------------------------------------------

describe('POST /v1/responses', () => {
  it('starts the response workflow with an api ResponseRequest named after a fresh id, and answers 202', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: responseExecution(NEW_ID), startDate: new Date(0) });

    const result = await handleApiEvent(proxyEvent('POST', START, { body: startBody() }), deps());

    expect(result).toEqual({ statusCode: 202, body: { responseId: NEW_ID, executionArn: responseExecution(NEW_ID) } });
    expect(startInputs()).toEqual([
      {
        stateMachineArn: RESPONSE_SM,
        name: NEW_ID,
        input: {
          requestId: NEW_ID,
          source: 'api',
          target: TARGET,
          actions: ALL_ACTIONS,
          reason: 'SOAR playbook 12: crypto-miner beaconing confirmed by the analyst',
          requestedBy: CALLER,
        },
      },
    ]);
    expect(sfnMock.calls()).toHaveLength(1);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('keeps the actions asked for, and uses a new id per request', async () => {
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: responseExecution(input.name) }));
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const d = { ...deps(), newId: () => ids.shift() ?? 'exhausted' };

    const first = await handleApiEvent(proxyEvent('POST', START, { body: startBody({ actions: ['snapshot', 'isolate'] }) }), d);
    const second = await handleApiEvent(proxyEvent('POST', START, { body: startBody() }), d);

    expect([first.body.responseId, second.body.responseId]).toEqual([
      '11111111-1111-4111-8111-111111111111',
      '22222222-2222-4222-8222-222222222222',
    ]);
    expect(startInputs().map((s) => [s.name, (s.input as { actions: string[] }).actions])).toEqual([
      ['11111111-1111-4111-8111-111111111111', ['snapshot', 'isolate']],
      ['22222222-2222-4222-8222-222222222222', ALL_ACTIONS],
    ]);
  });

  it('takes requestedBy from the SigV4 caller in the request context; the body cannot name one', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: responseExecution(NEW_ID) });
    const iamUser = 'arn:aws:iam::444455556666:user/soar-integration';

    await handleApiEvent(proxyEvent('POST', START, { body: startBody(), userArn: iamUser }), deps());
    const forged = await handleApiEvent(proxyEvent('POST', START, { body: startBody({ requestedBy: 'someone-else' }) }), deps());

    expect((startInputs()[0]?.input as { requestedBy: string }).requestedBy).toBe(iamUser);
    expect(expectFailure(forged, 400, 'INVALID_REQUEST')).toContain('requestedBy');
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it.each<[string, string | null]>([
    ['no caller identity (IAM auth off)', null],
    ['a caller that is not an IAM principal ARN', 'alice'],
    ['a caller with a forged line break', `${CALLER}\n{"level":"INFO"}`],
  ])('refuses %s with 403, starting nothing', async (_name, userArn) => {
    const result = await handleApiEvent(proxyEvent('POST', START, { body: startBody(), userArn }), deps());

    expectFailure(result, 403, 'FORBIDDEN', 'requestContext.identity.userArn: ');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it.each<[string, unknown, string]>([
    ['a missing instanceId', (() => { const b: Record<string, unknown> = startBody(); delete b.instanceId; return b; })(), 'instanceId: '],
    ['shell metacharacters in the instance id', startBody({ instanceId: 'i-0123456789abcdef0;reboot' }), 'instanceId: '],
    ['a malformed account id', startBody({ accountId: '1111-2222-3333' }), 'accountId: '],
    ['an unknown region', startBody({ region: 'mars-north-1a' }), 'region: '],
    ['an empty reason', startBody({ reason: '' }), 'reason: '],
    ['control characters in the reason (log injection)', startBody({ reason: 'ok\u001b[2J' }), 'reason: '],
    ['an oversize reason', startBody({ reason: 'x'.repeat(1025) }), 'reason: '],
    ['an unknown action', startBody({ actions: ['isolate', 'terminate'] }), 'actions.1: '],
    ['a repeated action', startBody({ actions: ['isolate', 'isolate'] }), 'actions: '],
    ['no actions', startBody({ actions: [] }), 'actions: '],
    ['an extra field', startBody({ source: 'guardduty' }), '(root): '],
    ['a request id of its own', startBody({ requestId: '../../etc' }), '(root): '],
    ['a JSON array', [startBody()], '(root): '],
    ['JSON null', null, '(root): '],
  ])('rejects %s with 400 and a reason naming the field, starting nothing', async (_name, body, field) => {
    const result = await handleApiEvent(proxyEvent('POST', START, { body: body === null ? 'null' : body }), deps());

    expectFailure(result, 400, 'INVALID_REQUEST', field);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it.each<[string, EventOptions, number, string, string]>([
    ['a body that is not JSON', { body: '{"instanceId": ' }, 400, 'INVALID_REQUEST', 'body: is not valid JSON'],
    ['no body', {}, 400, 'INVALID_REQUEST', 'body: required'],
    ['a form-encoded body', { body: 'instanceId=i-0123', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type: '],
    ['a body over the limit', { body: `{"reason":"${'x'.repeat(MAX_BODY_BYTES)}"}` }, 413, 'PAYLOAD_TOO_LARGE', 'body: '],
  ])('rejects %s, starting nothing', async (_name, options, status, error, messageStart) => {
    const result = await handleApiEvent(proxyEvent('POST', START, options), deps());

    expectFailure(result, status, error, messageStart);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('reads a base64-encoded body and a JSON content type with a charset', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: responseExecution(NEW_ID) });

    const result = await handleApiEvent(
      proxyEvent('POST', START, { body: startBody(), base64: true, headers: { 'content-type': 'application/json; charset=utf-8' } }),
      deps(),
    );

    expect(result.statusCode).toBe(202);
    expect((startInputs()[0]?.input as { target: unknown }).target).toEqual(TARGET);
  });

  it('answers 422 for a target intake policy does not manage, with intake’s reason, starting nothing', async () => {
    const policy = IntakePolicy.parse({ allowedAccounts: ['444455556666'], allowedRegions: ['us-east-1'] });

    const account = await handleApiEvent(proxyEvent('POST', START, { body: startBody() }), deps(policy));
    const region = await handleApiEvent(
      proxyEvent('POST', START, { body: startBody({ accountId: '444455556666', region: 'eu-west-1' }) }),
      deps(policy),
    );

    expect(expectFailure(account, 422, 'REQUEST_REFUSED')).toBe(
      'target.accountId: account 111122223333 not managed by cordon (not in allowedAccounts)',
    );
    expect(expectFailure(region, 422, 'REQUEST_REFUSED')).toBe(
      'target.region: region eu-west-1 not managed by cordon (not in allowedRegions)',
    );
    expectNothingStarted();
  });

  it('answers 503 with Retry-After when Step Functions throttles, and 500 naming only the error otherwise', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejectsOnce(awsError('ThrottlingException', { message: 'Rate exceeded' }))
      .rejects(awsError('AccessDeniedException', { message: 'User arn:aws:sts::… is not authorized' }));

    const throttled = await handleApiEvent(proxyEvent('POST', START, { body: startBody() }), deps());
    const denied = await handleApiEvent(proxyEvent('POST', START, { body: startBody() }), deps());

    expectFailure(throttled, 503, 'SERVICE_UNAVAILABLE', 'ThrottlingException: ');
    expect(throttled.headers).toEqual({ 'Retry-After': '2' });
    expect(expectFailure(denied, 500, 'INTERNAL_ERROR')).toBe(
      'the request failed (AccessDeniedException); API request id c0ffee00-1111-2222-3333-444455556666',
    );
  });

  it('logs the caller, ids and outcome, never the request body', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: responseExecution(NEW_ID) });
    const d = deps();
    const marker = 'SECRET-PLAYBOOK-NOTE-7f3a';

    await handleApiEvent(proxyEvent('POST', START, { body: startBody({ reason: `analyst note ${marker}` }) }), d);
    await handleApiEvent(proxyEvent('POST', START, { body: startBody({ reason: `${marker}\u0000` }) }), d);

    const logged = JSON.stringify(d.log.lines);
    expect(logged).not.toContain(marker);
    expect(d.log.lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'api: response started'],
      ['info', 'api: answered'],
      ['warn', 'api: answered'],
    ]);
    expect(d.log.lines[1]?.attributes[0]).toEqual({
      route: 'POST /v1/responses',
      caller: CALLER,
      apiRequestId: 'c0ffee00-1111-2222-3333-444455556666',
      statusCode: 202,
      responseId: NEW_ID,
      executionArn: responseExecution(NEW_ID),
    });
  });
});

// ---------------------------------------------------------------------------
// GET /v1/responses/{id}
// ---------------------------------------------------------------------------

describe('GET /v1/responses/{id}', () => {
  it('reports a recorded response: execution status, outcome, incident status, actions and evidence', async () => {
    ledgerHas(RECORDED_ITEM, { pk: INCIDENT, sk: 'INCIDENT', status: 'contained' });
    executionIs('SUCCEEDED');

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expect(result.statusCode).toBe(200);
    expect(result.body).toEqual({
      responseId: RESPONSE_ID,
      status: 'succeeded',
      recorded: true,
      outcome: 'contained',
      summary: RECORDED_ITEM.summary,
      incident: { incidentId: INCIDENT, status: 'contained' },
      request: {
        source: 'api',
        target: TARGET,
        actions: ALL_ACTIONS,
        reason: 'SOAR playbook 12',
        requestedBy: CALLER,
      },
      approval: null,
      actions: RECORDED_ITEM.actions,
      failures: [],
      evidence: RECORDED_ITEM.evidence,
      snapshotIds: ['snap-0123456789abcdef0'],
      startedAt: '2026-03-02T09:10:00.000Z',
      recordedAt: '2026-03-02T09:11:30.000Z',
      execution: {
        executionArn: responseExecution(RESPONSE_ID),
        status: 'SUCCEEDED',
        startDate: '2026-03-02T09:10:00.000Z',
        stopDate: '2026-03-02T09:12:00.000Z',
      },
    });
    expect(ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input)).toEqual([
      {
        TableName: TABLE,
        IndexName: 'byResponseId',
        KeyConditionExpression: 'responseId = :rid',
        ExpressionAttributeValues: { ':rid': RESPONSE_ID },
        Limit: 2,
      },
    ]);
    expect(ddbMock.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: TABLE, Key: { pk: INCIDENT, sk: 'INCIDENT' } },
    ]);
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: responseExecution(RESPONSE_ID) },
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('reports a response started a moment ago (not in the index yet) as running, from its execution', async () => {
    const request = { ...RECORDED_ITEM.request };
    ledgerHas(undefined, undefined);
    executionIs('RUNNING', request);

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expect(result.statusCode).toBe(200);
    expect(result.body).toMatchObject({
      responseId: RESPONSE_ID,
      status: 'running',
      recorded: false,
      outcome: null,
      incident: null,
      request: { source: 'api', target: TARGET, actions: ALL_ACTIONS, reason: 'SOAR playbook 12', requestedBy: CALLER },
      approval: null,
      actions: [],
      evidence: {},
      execution: { executionArn: responseExecution(RESPONSE_ID), status: 'RUNNING', stopDate: null },
    });
    expect(ddbMock).not.toHaveReceivedCommand(GetCommand);
  });

  it('answers 404 for an id neither the ledger nor Step Functions knows', async () => {
    ledgerHas(undefined, undefined);
    executionIs(undefined);

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expect(expectFailure(result, 404, 'NOT_FOUND')).toBe(`id: no response ${RESPONSE_ID}`);
  });

  it('still reports a recorded response whose execution history has expired', async () => {
    ledgerHas(RECORDED_ITEM, { pk: INCIDENT, sk: 'INCIDENT', status: 'released' });
    executionIs(undefined);

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expect(result.body).toMatchObject({ status: 'unknown', recorded: true, outcome: 'contained', incident: { status: 'released' }, execution: null });
  });

  it('shows a response waiting at the approval gate, with its approval but never its task token', async () => {
    const waiting = { ...RECORDED_ITEM, outcome: undefined, summary: undefined, recordedAt: undefined, approval: pendingApproval() };
    ledgerHas(waiting, { pk: INCIDENT, sk: 'INCIDENT', status: 'open' });
    executionIs('RUNNING');

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expect(result.statusCode).toBe(200);
    expect(result.body.approval).toEqual({
      status: 'pending',
      requestedAt: '2026-03-02T09:11:00.000Z',
      expiresAt: '2026-03-02T09:41:00.000Z',
      matchedTag: { key: 'env', value: 'production' },
      timeoutSeconds: 1800,
      onTimeout: 'approve',
      actions: ['protect', 'isolate', 'leaveTargetGroups', 'quarantineRole'],
    });
    expect(result.body).toMatchObject({ status: 'running', recorded: true, outcome: null, incident: { status: 'open' } });
    expect(JSON.stringify(result)).not.toContain(TASK_TOKEN);
  });

  it('shows a decided approval with who decided and why, still without a token', async () => {
    const decided = pendingApproval({
      status: 'denied',
      decision: 'deny',
      decidedBy: CALLER,
      reason: 'payments cut-over in progress',
      decidedAt: '2026-03-02T09:15:00.000Z',
    });
    ledgerHas({ ...RECORDED_ITEM, approval: decided }, { pk: INCIDENT, sk: 'INCIDENT', status: 'open' });
    executionIs('RUNNING');

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expect(result.body.approval).toMatchObject({ status: 'denied', decision: 'deny', decidedBy: CALLER, reason: 'payments cut-over in progress' });
    expect(Object.keys(result.body.approval as object)).not.toContain('taskToken');
    expect(Object.keys(result.body.approval as object)).not.toContain('executionArn');
    expect(JSON.stringify(result)).not.toContain(TASK_TOKEN);
  });

  it('looks a non-UUID id (a Security Hub request) up under its execution name', async () => {
    const id = '8a5b9c0d-1e2f-4031-a425-b6c7d8e9f001-1';
    const manual = 'ir-2026.0042';
    ledgerHas(undefined, undefined);
    executionIs(undefined);

    await handleApiEvent(proxyEvent('GET', GET, { id }), deps());
    await handleApiEvent(proxyEvent('GET', GET, { id: manual }), deps());

    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
      responseExecution(id),
      responseExecution(executionName(manual)),
    ]);
    expect(executionName(manual)).not.toBe(manual);
  });

  it.each([['a space', 'a b'], ['a path', '../INCIDENT'], ['too long', 'x'.repeat(129)], ['a control character', 'abc\u0007']])(
    'rejects an id with %s with 400, asking AWS nothing',
    async (_name, id) => {
      const result = await handleApiEvent(proxyEvent('GET', GET, { id }), deps());

      expectFailure(result, 400, 'INVALID_REQUEST', 'id: ');
      expect(sfnMock.calls()).toHaveLength(0);
      expect(ddbMock.calls()).toHaveLength(0);
    },
  );

  it('answers 503 when DynamoDB throttles', async () => {
    ddbMock.on(QueryCommand).rejects(awsError('ProvisionedThroughputExceededException'));
    executionIs('RUNNING');

    const result = await handleApiEvent(proxyEvent('GET', GET, { id: RESPONSE_ID }), deps());

    expectFailure(result, 503, 'SERVICE_UNAVAILABLE');
  });
});

// ---------------------------------------------------------------------------
// POST /v1/responses/{id}/release
// ---------------------------------------------------------------------------

describe('POST /v1/responses/{id}/release', () => {
  const releaseBody = { reason: 'Forensics done; ticket SEC-4711 closed, instance reimaged' };
  const contained = (status = 'contained', extra: Record<string, unknown> = {}) => ({
    pk: INCIDENT,
    sk: 'INCIDENT',
    status,
    originalBeforeStateKey: `incidents/${INCIDENT}/responses/${RESPONSE_ID}/before-state.json`,
    ...extra,
  });

  it.each(['contained', 'partially-contained'])(
    'starts the release workflow with a ReleaseRequest from a %s incident, and answers 202',
    async (status) => {
      ledgerHas(RECORDED_ITEM, contained(status));
      sfnMock.on(StartExecutionCommand).resolves({ executionArn: releaseExecution(NEW_ID) });

      const result = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body: releaseBody }), deps());

      expect(result).toEqual({
        statusCode: 202,
        body: { releaseId: NEW_ID, responseId: RESPONSE_ID, executionArn: releaseExecution(NEW_ID) },
      });
      expect(startInputs()).toEqual([
        {
          stateMachineArn: RELEASE_SM,
          name: NEW_ID,
          input: { releaseId: NEW_ID, responseId: RESPONSE_ID, source: 'api', reason: releaseBody.reason, requestedBy: CALLER },
        },
      ]);
      // The pre-check reads the incident consistently: a status written a moment ago counts.
      expect(ddbMock.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
        { TableName: TABLE, Key: { pk: INCIDENT, sk: 'INCIDENT' }, ConsistentRead: true },
      ]);
    },
  );

  it.each(['open', 'failed', 'exempt', 'released'])('refuses with 409 when the incident is %s, starting nothing', async (status) => {
    ledgerHas(RECORDED_ITEM, contained(status));

    const result = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body: releaseBody }), deps());

    expect(expectFailure(result, 409, 'NOT_RELEASABLE')).toBe(
      `incident ${INCIDENT} is ${status}; only a contained or partially-contained instance can be released`,
    );
    expectNothingStarted();
  });

  it('refuses with 409 when the incident has no before-state to restore, starting nothing', async () => {
    ledgerHas(RECORDED_ITEM, { pk: INCIDENT, sk: 'INCIDENT', status: 'contained' });

    const result = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body: releaseBody }), deps());

    expect(expectFailure(result, 409, 'NOT_RELEASABLE')).toContain('names a before-state');
    expectNothingStarted();
  });

  it("releases from the response's own before-state (restoreFrom) when the incident names none, as the release workflow does", async () => {
    ledgerHas({ ...RECORDED_ITEM, restoreFrom: `incidents/${INCIDENT}/responses/${RESPONSE_ID}/before-state.json` }, { pk: INCIDENT, sk: 'INCIDENT', status: 'contained' });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: releaseExecution(NEW_ID) });

    const result = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body: releaseBody }), deps());

    expect(result.statusCode).toBe(202);
    expect(startInputs().map((s) => s.stateMachineArn)).toEqual([RELEASE_SM]);
  });

  it('refuses with 409 a response still running (not recorded yet), and 404 an unknown one', async () => {
    ledgerHas(undefined, undefined);
    executionIs('RUNNING');
    const running = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body: releaseBody }), deps());
    executionIs(undefined);
    const unknown = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body: releaseBody }), deps());

    expect(expectFailure(running, 409, 'NOT_RELEASABLE')).toContain('is running and not recorded in the ledger yet');
    expectFailure(unknown, 404, 'NOT_FOUND', 'id: ');
    expectNothingStarted();
  });

  it.each<[string, unknown, string]>([
    ['no reason', {}, 'reason: '],
    ['an empty reason', { reason: '' }, 'reason: '],
    ['an extra field (a forged requester)', { ...{ reason: 'done' }, requestedBy: 'root' }, '(root): '],
  ])('rejects a body with %s with 400, reading and starting nothing', async (_name, body, field) => {
    const result = await handleApiEvent(proxyEvent('POST', RELEASE, { id: RESPONSE_ID, body }), deps());

    expectFailure(result, 400, 'INVALID_REQUEST', field);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(ddbMock.calls()).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------
// POST /v1/responses/{id}/approval
// ---------------------------------------------------------------------------

describe('POST /v1/responses/{id}/approval', () => {
  const KEY = { pk: INCIDENT, sk: `RESPONSE#${RESPONSE_ID}` };
  const approveBody = { decision: 'approve', reason: 'confirmed C2 beaconing; isolate now' };
  const denyBody = { decision: 'deny', reason: 'payments cut-over in progress' };
  const OTHER = 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/bob';

  /** The response is found through byResponseId, and its approval read back consistently (then again after a lost race). */
  function gateHas(approval: ApprovalEntry | undefined, afterConflict?: ApprovalEntry): void {
    ddbMock.on(QueryCommand).resolves({ Items: [{ ...KEY, responseId: RESPONSE_ID, approval }] });
    const get = ddbMock.on(GetCommand);
    get.resolvesOnce({ Item: approval ? { approval } : {} });
    if (afterConflict) get.resolvesOnce({ Item: { approval: afterConflict } });
  }

  function decisionUpdate(status: 'approved' | 'denied', decision: 'approve' | 'deny', by: string, reason: string) {
    return {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET approval.#status = :status, approval.decision = :decision, approval.decidedBy = :by, approval.reason = :reason, approval.decidedAt = :at',
      ConditionExpression: 'approval.#status = :pending AND approval.taskToken = :token AND :at < approval.expiresAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': status,
        ':decision': decision,
        ':by': by,
        ':reason': reason,
        ':at': NOW.toISOString(),
        ':pending': 'pending',
        ':token': TASK_TOKEN,
      },
    };
  }

  /** The task token reaches DynamoDB's condition and Step Functions only: never an answer or a log line. */
  function expectNoToken(result: ApiResult, d: ReturnType<typeof deps>): void {
    expect(JSON.stringify(result)).not.toContain(TASK_TOKEN);
    expect(JSON.stringify(d.log.lines)).not.toContain(TASK_TOKEN);
  }

  function expectNothingDecided(): void {
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  }

  it('approves as the SigV4 caller: finds the response, moves its approval conditionally, sends the decision to the waiting task, answers 200', async () => {
    gateHas(pendingApproval());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

    expect(result).toEqual({
      statusCode: 200,
      body: {
        responseId: RESPONSE_ID,
        incidentId: INCIDENT,
        decision: 'approve',
        approved: true,
        decidedBy: CALLER,
        reason: approveBody.reason,
        decidedAt: NOW.toISOString(),
        executionArn: responseExecution(RESPONSE_ID),
      },
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(1, QueryCommand, {
      TableName: TABLE,
      IndexName: 'byResponseId',
      KeyConditionExpression: 'responseId = :rid',
      ExpressionAttributeValues: { ':rid': RESPONSE_ID },
      Limit: 2,
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, GetCommand, {
      TableName: TABLE,
      Key: KEY,
      ConsistentRead: true,
      ProjectionExpression: '#approval',
      ExpressionAttributeNames: { '#approval': 'approval' },
    });
    expect(ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
      decisionUpdate('approved', 'approve', CALLER, approveBody.reason),
    ]);
    expect(ddbMock.calls()).toHaveLength(3);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      {
        taskToken: TASK_TOKEN,
        output: JSON.stringify({ approved: true, decidedBy: CALLER, reason: approveBody.reason, decidedAt: NOW.toISOString() }),
      },
    ]);
    expect(sfnMock.calls()).toHaveLength(1);
    expectNoToken(result, d);
  });

  it('denies: a successful task output with approved false, the entry moved to denied', async () => {
    gateHas(pendingApproval());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: denyBody }), d);

    expect(result.statusCode).toBe(200);
    expect(result.body).toMatchObject({ decision: 'deny', approved: false, decidedBy: CALLER, reason: denyBody.reason });
    expect(ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
      decisionUpdate('denied', 'deny', CALLER, denyBody.reason),
    ]);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      {
        taskToken: TASK_TOKEN,
        output: JSON.stringify({ approved: false, decidedBy: CALLER, reason: denyBody.reason, decidedAt: NOW.toISOString() }),
      },
    ]);
    expectNoToken(result, d);
  });

  it('records as decidedBy whoever signed the request (here an IAM user), never a name in the body', async () => {
    const iamUser = 'arn:aws:iam::444455556666:user/soar-integration';
    gateHas(pendingApproval());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});

    const signed = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody, userArn: iamUser }), deps());
    const forged = await handleApiEvent(
      proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: { ...approveBody, decidedBy: 'arn:aws:iam::111122223333:root' } }),
      deps(),
    );

    expect(signed.body.decidedBy).toBe(iamUser);
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':by']).toBe(iamUser);
    expect(JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '{}')).toMatchObject({ decidedBy: iamUser });
    expect(expectFailure(forged, 400, 'INVALID_REQUEST')).toContain('decidedBy');
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it.each<[string, string | null]>([
    ['no caller identity (IAM auth off)', null],
    ['a caller that is not an IAM principal ARN', 'alice'],
    ['a caller with a forged line break', `${CALLER}\n{"level":"INFO"}`],
  ])('refuses %s with 403, reading and deciding nothing', async (_name, userArn) => {
    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody, userArn }), deps());

    expectFailure(result, 403, 'FORBIDDEN', 'requestContext.identity.userArn: ');
    expect(ddbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it.each<[string, unknown, string]>([
    ['no decision', { reason: 'ok' }, 'decision: '],
    ['an unknown decision', { decision: 'maybe', reason: 'ok' }, 'decision: '],
    ['an upper-case decision', { decision: 'APPROVE', reason: 'ok' }, 'decision: '],
    ['a boolean decision', { decision: true, reason: 'ok' }, 'decision: '],
    ['no reason', { decision: 'approve' }, 'reason: '],
    ['an empty reason', { decision: 'approve', reason: '' }, 'reason: '],
    ['control characters in the reason (log injection)', { decision: 'approve', reason: 'ok\n\u001b[2J{"level":"INFO"}' }, 'reason: '],
    ['an oversize reason', { decision: 'deny', reason: 'x'.repeat(1025) }, 'reason: '],
    ['a response id in the body', { ...approveBody, responseId: 'another-response' }, '(root): '],
    ['a task token in the body', { ...approveBody, taskToken: 'AQCE-forged' }, '(root): '],
    ['a JSON array', [approveBody], '(root): '],
    ['JSON null', 'null', '(root): '],
    ['a JSON string', '"approve"', '(root): '],
  ])('rejects a body with %s with 400 naming the field, reading and deciding nothing', async (_name, body, field) => {
    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body }), deps());

    expectFailure(result, 400, 'INVALID_REQUEST', field);
    expect(ddbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it.each<[string, EventOptions, number, string, string]>([
    ['a body that is not JSON', { id: RESPONSE_ID, body: '{"decision": ' }, 400, 'INVALID_REQUEST', 'body: is not valid JSON'],
    ['no body', { id: RESPONSE_ID }, 400, 'INVALID_REQUEST', 'body: required'],
    ['a form-encoded body', { id: RESPONSE_ID, body: 'decision=approve', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type: '],
    ['a body over the limit', { id: RESPONSE_ID, body: `{"decision":"approve","reason":"${'x'.repeat(MAX_BODY_BYTES)}"}` }, 413, 'PAYLOAD_TOO_LARGE', 'body: '],
    ['an id with a space', { id: 'a b', body: approveBody }, 400, 'INVALID_REQUEST', 'id: '],
    ['an id that is a path', { id: '../INCIDENT', body: approveBody }, 400, 'INVALID_REQUEST', 'id: '],
    ['an over-long id', { id: 'x'.repeat(129), body: approveBody }, 400, 'INVALID_REQUEST', 'id: '],
  ])('rejects %s, reading and deciding nothing', async (_name, options, status, error, messageStart) => {
    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, options), deps());

    expectFailure(result, status, error, messageStart);
    expect(ddbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('answers 404 NOT_FOUND for a response the ledger does not have, deciding nothing', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

    expect(expectFailure(result, 404, 'NOT_FOUND')).toBe(
      `no response ${RESPONSE_ID} in the ledger (a response started a moment ago may take a few seconds to appear)`,
    );
    expectNothingDecided();
    expect(ddbMock).not.toHaveReceivedCommand(GetCommand);
  });

  it.each<[string, () => void, string, RegExp]>([
    [
      'no approval was asked for',
      () => gateHas(undefined),
      'NOT_PENDING',
      new RegExp(`^response ${RESPONSE_ID} is not waiting for a decision: no approval was requested`),
    ],
    [
      'someone decided first',
      () => gateHas(pendingApproval({ status: 'approved', decision: 'approve', decidedBy: OTHER, taskToken: undefined })),
      'ALREADY_DECIDED',
      new RegExp(`^response ${RESPONSE_ID} was already approved by ${OTHER.replace(/[/.]/g, '\\$&')}: the first decision stands$`),
    ],
    [
      'the gate timed out and was recorded',
      () => gateHas(pendingApproval({ status: 'timed-out', decidedBy: 'cordon (approval timed out)', taskToken: undefined })),
      'ALREADY_DECIDED',
      /was already timed-out by cordon \(approval timed out\)/,
    ],
    [
      'the approval expired',
      () => gateHas(pendingApproval({ expiresAt: '2026-03-02T09:19:59.999Z' })),
      'EXPIRED',
      /expired at 2026-03-02T09:19:59\.999Z: onTimeout=approve applies$/,
    ],
  ])('answers 409 when %s, deciding nothing', async (_name, prepare, code, message) => {
    prepare();
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

    expect(expectFailure(result, 409, code)).toMatch(message);
    expectNothingDecided();
    expectNoToken(result, d);
  });

  it('answers 409 ALREADY_DECIDED to the responder who lost a race, naming who won; nothing sent to Step Functions', async () => {
    gateHas(pendingApproval(), pendingApproval({ status: 'denied', decision: 'deny', decidedBy: OTHER }));
    ddbMock.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException', { message: 'The conditional request failed' }));
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

    expect(expectFailure(result, 409, 'ALREADY_DECIDED')).toContain(`was already denied by ${OTHER}`);
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expectNoToken(result, d);
  });

  it.each(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'])(
    'answers 409 TASK_CLOSED when Step Functions says %s, after undoing the ledger write',
    async (name) => {
      gateHas(pendingApproval());
      ddbMock.on(UpdateCommand).resolves({});
      // What Step Functions answers may quote the token: it must not reach the answer or the log.
      sfnMock.on(SendTaskSuccessCommand).rejects(awsError(name, { message: `Provided task token ${TASK_TOKEN} is not valid` }));
      const d = deps();

      const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

      expect(expectFailure(result, 409, 'TASK_CLOSED')).toBe(
        `Step Functions no longer waits for a decision on response ${RESPONSE_ID} (${name}): ` +
          'the approval timed out or the execution ended; nothing was changed',
      );
      expect(ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input.UpdateExpression)).toEqual([
        decisionUpdate('approved', 'approve', CALLER, approveBody.reason).UpdateExpression,
        'SET approval.#status = :pending REMOVE approval.decision, approval.decidedBy, approval.reason, approval.decidedAt',
      ]);
      expectNoToken(result, d);
    },
  );

  it('answers 503 with Retry-After when Step Functions throttles the decision (undone: the caller may retry)', async () => {
    gateHas(pendingApproval());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('ThrottlingException', { message: `Rate exceeded for ${TASK_TOKEN}` }));
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

    expectFailure(result, 503, 'SERVICE_UNAVAILABLE', 'TransientAwsError: ');
    expect(result.headers).toEqual({ 'Retry-After': '2' });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expectNoToken(result, d);
    expect(d.log.lines.find((l) => l.message === 'api: request failed')?.attributes[0]).toMatchObject({
      error: 'TransientAwsError',
      cause: "ThrottlingException (AWS request id test-request-id; message withheld: the call carried the approval's task token)",
    });
  });

  it('answers 503 when the ledger throttles, before anything is decided', async () => {
    ddbMock.on(QueryCommand).rejects(awsError('ProvisionedThroughputExceededException'));

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), deps());

    expectFailure(result, 503, 'SERVICE_UNAVAILABLE');
    expectNothingDecided();
  });

  it('answers 500 naming only the error when Step Functions refuses the call (after undoing the ledger write)', async () => {
    gateHas(pendingApproval());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('AccessDeniedException', { message: `not authorized for ${TASK_TOKEN}` }));
    const d = deps();

    const result = await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: approveBody }), d);

    expect(expectFailure(result, 500, 'INTERNAL_ERROR')).toBe(
      'the request failed (AccessDeniedException); API request id c0ffee00-1111-2222-3333-444455556666',
    );
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    // The AWS message quoted the token: the log keeps the error's name and AWS request id only.
    expectNoToken(result, d);
    expect(d.log.lines.find((l) => l.message === 'api: request failed')?.attributes[0]).toEqual({
      route: 'POST /v1/responses/{id}/approval',
      caller: CALLER,
      apiRequestId: 'c0ffee00-1111-2222-3333-444455556666',
      error: 'AccessDeniedException',
      cause: "AccessDeniedException (AWS request id test-request-id; message withheld: the call carried the approval's task token)",
    });
  });

  it('answers 400 when the decision itself fails ApprovalDecision (a decider the shared schema refuses), deciding nothing', async () => {
    const result = await decideApproval(RESPONSE_ID, approveBody, `${CALLER}\u0000`, deps());

    expectFailure(result, 400, 'INVALID_REQUEST', 'decidedBy: ');
    expect(ddbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('logs the decision with the caller and ids, never the reason or the token', async () => {
    gateHas(pendingApproval());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const d = deps();
    const marker = 'SECRET-CHANGE-WINDOW-NOTE-91c2';

    await handleApiEvent(proxyEvent('POST', APPROVAL, { id: RESPONSE_ID, body: { decision: 'approve', reason: `ok ${marker}` } }), d);

    expect(JSON.stringify(d.log.lines)).not.toContain(marker);
    expect(JSON.stringify(d.log.lines)).not.toContain(TASK_TOKEN);
    expect(d.log.lines.map((l) => [l.level, l.message, l.attributes[0]])).toEqual([
      [
        'info',
        'api: approval decided',
        {
          responseId: RESPONSE_ID,
          incidentId: INCIDENT,
          decision: 'approve',
          decidedBy: CALLER,
          decidedAt: NOW.toISOString(),
          executionArn: responseExecution(RESPONSE_ID),
        },
      ],
      [
        'info',
        'api: answered',
        {
          route: 'POST /v1/responses/{id}/approval',
          caller: CALLER,
          apiRequestId: 'c0ffee00-1111-2222-3333-444455556666',
          statusCode: 200,
          responseId: RESPONSE_ID,
          decision: 'approve',
          executionArn: responseExecution(RESPONSE_ID),
        },
      ],
    ]);
  });
});

// ---------------------------------------------------------------------------
// Routing and the handler
// ---------------------------------------------------------------------------

describe('routing', () => {
  it('answers 404 for a route the API does not have, and 500 for something that is not a proxy event', async () => {
    const route = await handleApiEvent(proxyEvent('GET', '/v1/incidents'), deps());
    const notAnEvent = await handleApiEvent({ detail: 'not api gateway' }, deps());

    expectFailure(route, 404, 'NOT_FOUND', 'GET /v1/incidents: ');
    expectFailure(notAnEvent, 500, 'INTERNAL_ERROR');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('handler', () => {
  it('answers API Gateway with a JSON body, never cached', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: responseExecution(NEW_ID) });
    const handler = createHandler(() => deps());

    const accepted = await handler(proxyEvent('POST', START, { body: startBody() }));
    const refused = await handler(proxyEvent('POST', START, { body: startBody({ instanceId: 'nope' }) }));

    expect(accepted).toEqual({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: JSON.stringify({ responseId: NEW_ID, executionArn: responseExecution(NEW_ID) }),
    });
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      error: 'INVALID_REQUEST',
      message: 'instanceId: must be an EC2 instance id (i- followed by 8 or 17 hex digits)',
    });
  });

  it('reads its configuration from the environment, failing loudly on a missing or bad value', () => {
    const env = {
      RESPONSE_STATE_MACHINE_ARN: RESPONSE_SM,
      RELEASE_STATE_MACHINE_ARN: RELEASE_SM,
      LEDGER_TABLE: TABLE,
      INTAKE_POLICY: JSON.stringify({ severityThreshold: 4, allowedAccounts: ['111122223333'], allowedRegions: ['us-east-1'] }),
    };

    expect(loadApiConfig(env)).toEqual({
      responseStateMachineArn: RESPONSE_SM,
      releaseStateMachineArn: RELEASE_SM,
      ledgerTable: TABLE,
      policy: { severityThreshold: 4, allowTypes: [], denyTypes: [], allowedAccounts: ['111122223333'], allowedRegions: ['us-east-1'] },
    });
    expect(() => loadApiConfig({ ...env, RELEASE_STATE_MACHINE_ARN: '' })).toThrow('RELEASE_STATE_MACHINE_ARN is not set');
    expect(() => loadApiConfig({ ...env, INTAKE_POLICY: '{' })).toThrow('INTAKE_POLICY is not valid JSON');
    expect(() => loadApiConfig({ ...env, INTAKE_POLICY: '{"allowedAccounts":["x"]}' })).toThrow(
      'INTAKE_POLICY is invalid: allowedAccounts.0: must be a 12-digit AWS account id',
    );
  });
});
