import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  closeApproval,
  storePendingApproval,
  submitApprovalDecision,
  withoutTaskToken,
  type ApprovalClients,
  type ApprovalEntry,
} from '../../../lambdas/shared/approval';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotPendingError,
  ApprovalTaskClosedError,
  InvalidRequestError,
  ResponseNotFoundError,
  TransientAwsError,
} from '../../../lambdas/shared/errors';
import type { ApprovalDecision } from '../../../lambdas/shared/schemas';
import { awsError, FAKE_CREDENTIALS, HUB_REGION, rejectionOf } from '../../support/clients';

const ddbMock = mockClient(DynamoDBDocumentClient);
const sfnMock = mockClient(SFNClient);

const TABLE = 'cordon-ledger';
const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';
const RESPONSE = 'req-1';
const KEY = { pk: INCIDENT, sk: `RESPONSE#${RESPONSE}` };
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf-secret-task-token';
const EXECUTION = 'arn:aws:states:eu-west-1:111122223333:execution:cordon-response:req-1';
const ALICE = 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice';
const REQUESTED = '2025-06-01T12:00:00.000Z';
const EXPIRES = '2025-06-01T12:30:00.000Z';
const DECIDED = new Date('2025-06-01T12:05:00.000Z');

function pending(extra: Partial<ApprovalEntry> = {}): ApprovalEntry {
  return {
    status: 'pending',
    requestedAt: REQUESTED,
    expiresAt: EXPIRES,
    matchedTag: { key: 'env', value: 'production' },
    timeoutSeconds: 1800,
    onTimeout: 'approve',
    actions: ['protect', 'isolate', 'leaveTargetGroups', 'quarantineRole'],
    executionArn: EXECUTION,
    taskToken: TOKEN,
    ...extra,
  };
}

const decision = (extra: Partial<ApprovalDecision> = {}): ApprovalDecision => ({
  responseId: RESPONSE,
  decision: 'approve',
  reason: 'confirmed C2 beaconing',
  decidedBy: ALICE,
  ...extra,
});

let clients: ApprovalClients;

beforeEach(() => {
  ddbMock.reset();
  sfnMock.reset();
  clients = {
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS })),
    sfn: new SFNClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }),
    table: TABLE,
  };
});

/** The response is found through the index, and its approval read back consistently. */
function ledgerHas(approval: ApprovalEntry | undefined, afterConflict?: ApprovalEntry): void {
  ddbMock.on(QueryCommand).resolves({ Items: [{ ...KEY, responseId: RESPONSE, approval }] });
  const get = ddbMock.on(GetCommand);
  get.resolvesOnce({ Item: approval ? { approval } : {} });
  if (afterConflict) get.resolvesOnce({ Item: { approval: afterConflict } });
}

const CONDITIONAL = () => awsError('ConditionalCheckFailedException', { message: 'The conditional request failed' });

describe('submitApprovalDecision', () => {
  it('finds the response, moves the approval from pending to approved conditionally, then sends the decision to the waiting task', async () => {
    // Prepare
    ledgerHas(pending());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});

    // Act
    const result = await submitApprovalDecision(clients, decision(), DECIDED);

    // Assess: exact requests, in order
    expect(ddbMock).toHaveReceivedNthCommandWith(1, QueryCommand, {
      TableName: TABLE,
      IndexName: 'byResponseId',
      KeyConditionExpression: 'responseId = :rid',
      ExpressionAttributeValues: { ':rid': RESPONSE },
      Limit: 2,
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, GetCommand, {
      TableName: TABLE,
      Key: KEY,
      ConsistentRead: true,
      ProjectionExpression: '#approval',
      ExpressionAttributeNames: { '#approval': 'approval' },
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(3, UpdateCommand, {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET approval.#status = :status, approval.decision = :decision, approval.decidedBy = :by, approval.reason = :reason, approval.decidedAt = :at',
      ConditionExpression: 'approval.#status = :pending AND approval.taskToken = :token AND :at < approval.expiresAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': 'approved',
        ':decision': 'approve',
        ':by': ALICE,
        ':reason': 'confirmed C2 beaconing',
        ':at': DECIDED.toISOString(),
        ':pending': 'pending',
        ':token': TOKEN,
      },
    });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ approved: true, decidedBy: ALICE, reason: 'confirmed C2 beaconing', decidedAt: DECIDED.toISOString() }),
    });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(result).toEqual({
      responseId: RESPONSE,
      incidentId: INCIDENT,
      decision: 'approve',
      approved: true,
      decidedBy: ALICE,
      reason: 'confirmed C2 beaconing',
      decidedAt: DECIDED.toISOString(),
      executionArn: EXECUTION,
    });
    // The token goes to Step Functions only: never back to the caller.
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('sends a denial as a successful task output with approved=false, so the workflow records it as declined', async () => {
    ledgerHas(pending());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});

    const result = await submitApprovalDecision(clients, decision({ decision: 'deny', reason: 'payments cut-over' }), DECIDED);

    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({ ':status': 'denied', ':decision': 'deny' });
    expect(JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '')).toEqual({
      approved: false,
      decidedBy: ALICE,
      reason: 'payments cut-over',
      decidedAt: DECIDED.toISOString(),
    });
    expect(result.approved).toBe(false);
  });

  it('refuses a malformed decision before any call', async () => {
    const err = await rejectionOf(submitApprovalDecision(clients, { ...decision(), decision: 'maybe' } as unknown as ApprovalDecision, DECIDED));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.message).toContain('decision');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('names an unknown response', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ResponseNotFoundError);
    expect(err.message).toContain(`no response ${RESPONSE}`);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a response that is not waiting for a decision', async () => {
    ledgerHas(undefined);

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalNotPendingError);
    expect(err.message).toContain('is not waiting for a decision');
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a response already decided, naming who decided', async () => {
    ledgerHas(pending({ status: 'denied', decidedBy: 'bob', taskToken: TOKEN }));

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect(err).toMatchObject({ status: 'denied', decidedBy: 'bob' });
    expect(err.message).toBe(`response ${RESPONSE} was already denied by bob: the first decision stands`);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a decision at or after the expiry: onTimeout applies instead', async () => {
    ledgerHas(pending());

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), new Date(EXPIRES)));

    expect(err).toBeInstanceOf(ApprovalExpiredError);
    expect(err).toMatchObject({ expiresAt: EXPIRES });
    expect(err.message).toContain('onTimeout=approve applies');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('loses a race to a decision written first: the second responder is told who won, and nothing is sent', async () => {
    // Prepare: pending when read, decided by bob when written
    ledgerHas(pending(), pending({ status: 'denied', decidedBy: 'bob' }));
    ddbMock.on(UpdateCommand).rejects(CONDITIONAL());

    // Act
    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    // Assess
    expect(err).toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect(err.message).toContain('already denied by bob');
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('asks to decide again when the approval task was renewed (a retried task) between the read and the write', async () => {
    ledgerHas(pending(), pending({ taskToken: 'renewed-token' }));
    ddbMock.on(UpdateCommand).rejects(CONDITIONAL());

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalNotPendingError);
    expect(err.message).toContain('was renewed while deciding: decide again');
    expect(err.message).not.toContain('renewed-token');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it.each(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'])(
    'undoes the ledger write when Step Functions answers %s, and says the wait is over',
    async (name) => {
      // Prepare
      ledgerHas(pending());
      ddbMock.on(UpdateCommand).resolves({});
      sfnMock.on(SendTaskSuccessCommand).rejects(awsError(name, { message: 'Task Timed Out' }));

      // Act
      const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

      // Assess
      expect(err).toBeInstanceOf(ApprovalTaskClosedError);
      expect(err.message).toContain(`(${name})`);
      expect(err.message).not.toContain(TOKEN);
      expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
      expect(ddbMock).toHaveReceivedNthCommandWith(4, UpdateCommand, {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression: 'SET approval.#status = :pending REMOVE approval.decision, approval.decidedBy, approval.reason, approval.decidedAt',
        ConditionExpression: 'approval.#status = :status AND approval.decidedBy = :by AND approval.decidedAt = :at',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending', ':status': 'approved', ':by': ALICE, ':at': DECIDED.toISOString() },
      });
    },
  );

  it('undoes the ledger write on a throttled SendTaskSuccess too, and surfaces it as transient so the caller retries', async () => {
    ledgerHas(pending());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('ThrottlingException', { message: 'Rate exceeded' }));

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });

  it('leaves the closing entry alone when the response was recorded (timed out) before the undo', async () => {
    // Prepare: the undo's condition fails because record closed the entry as timed-out meanwhile
    ledgerHas(pending());
    ddbMock.on(UpdateCommand).resolvesOnce({}).rejectsOnce(CONDITIONAL());
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'));

    // Act
    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    // Assess: still the named error, not the conditional failure
    expect(err).toBeInstanceOf(ApprovalTaskClosedError);
  });
});

describe('storePendingApproval', () => {
  it('writes the pending entry, replacing only a pending one (a retried approval task gets a new token)', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    const entry = { ...pending(), status: 'pending' as const, taskToken: TOKEN };

    const stored = await storePendingApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, entry, REQUESTED);

    expect(stored).toBe(true);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET approval = :approval, updatedAt = :now',
      ConditionExpression: '(attribute_exists(pk) AND attribute_not_exists(approval)) OR approval.#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':approval': entry, ':now': REQUESTED, ':pending': 'pending' },
    });
  });

  it('reports a decided entry instead of replacing it', async () => {
    ddbMock.on(UpdateCommand).rejects(CONDITIONAL());

    const stored = await storePendingApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { ...pending(), status: 'pending', taskToken: TOKEN }, REQUESTED);

    expect(stored).toBe(false);
  });
});

describe('closeApproval', () => {
  const NOW = '2025-06-01T12:06:00.000Z';

  it('keeps a human decision as written, records what was applied, and removes the token', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await closeApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { status: 'approved', applied: 'approve', decidedBy: ALICE, reason: 'ok' }, NOW);

    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET approval.#status = :status, approval.applied = :applied, approval.closedAt = :now, ' +
        'approval.decidedBy = if_not_exists(approval.decidedBy, :by), approval.reason = if_not_exists(approval.reason, :reason), ' +
        'approval.decidedAt = if_not_exists(approval.decidedAt, :now) REMOVE approval.taskToken',
      ConditionExpression: 'attribute_exists(approval)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': 'approved', ':applied': 'approve', ':now': NOW, ':by': ALICE, ':reason': 'ok' },
    });
  });

  it('writes a timeout over whatever a late decision left, and removes the token', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await closeApproval(
      clients.ddb,
      TABLE,
      INCIDENT,
      RESPONSE,
      { status: 'timed-out', applied: 'deny', decidedBy: 'cordon (approval timed out)', reason: 'no decision before the approval timed out; onTimeout=deny' },
      NOW,
    );

    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      UpdateExpression:
        'SET approval.#status = :status, approval.applied = :applied, approval.closedAt = :now, ' +
        'approval.decidedBy = :by, approval.reason = :reason, approval.decidedAt = :now REMOVE approval.taskToken, approval.decision',
      ExpressionAttributeValues: {
        ':status': 'timed-out',
        ':applied': 'deny',
        ':now': NOW,
        ':by': 'cordon (approval timed out)',
        ':reason': 'no decision before the approval timed out; onTimeout=deny',
      },
    });
  });

  it('does nothing when no approval was ever stored (the request failed before storing it)', async () => {
    ddbMock.on(UpdateCommand).rejects(CONDITIONAL());

    await expect(
      closeApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { status: 'failed', applied: null, decidedBy: 'cordon', reason: 'x' }, NOW),
    ).resolves.toBeUndefined();
  });
});

describe('withoutTaskToken', () => {
  it('shows a response with its approval but never its token', () => {
    const item = { ...KEY, responseId: RESPONSE, outcome: 'contained', approval: pending() };

    const shown = withoutTaskToken(item);

    expect(JSON.stringify(shown)).not.toContain(TOKEN);
    expect(shown.approval).toEqual({ ...pending(), taskToken: undefined });
    expect(shown.outcome).toBe('contained');
    expect(item.approval.taskToken).toBe(TOKEN);
    expect(withoutTaskToken({ ...KEY, outcome: 'contained' })).toEqual({ ...KEY, outcome: 'contained' });
  });
});

describe('submitApprovalDecision: refusals and failures, exactly', () => {
  it('says why a response without an approval entry cannot be decided', async () => {
    ledgerHas(undefined);

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalNotPendingError);
    expect(err.message).toBe(
      `response ${RESPONSE} is not waiting for a decision: no approval was requested for it ` +
        '(its instance carries none of the approval tags, or the response has not reached the approval gate yet)',
    );
  });

  it('refuses a response already decided by no one named, without a "by"', async () => {
    ledgerHas(pending({ status: 'approved' }));

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect(err.message).toBe(`response ${RESPONSE} was already approved: the first decision stands`);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('refuses a pending entry that holds no task token, before any write', async () => {
    ledgerHas(pending({ taskToken: undefined }));

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalNotPendingError);
    expect(err.message).toBe(`response ${RESPONSE} is not waiting for a decision: it holds no pending approval task`);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('says the task is gone when the entry lost its token between the read and the write', async () => {
    ledgerHas(pending(), pending({ taskToken: undefined }));
    ddbMock.on(UpdateCommand).rejects(CONDITIONAL());

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalNotPendingError);
    expect(err.message).toBe(`response ${RESPONSE} is not waiting for a decision: it holds no pending approval task`);
  });

  it('surfaces a throttled decision write as transient without reading again or sending anything', async () => {
    // Prepare
    const throttled = awsError('ThrottlingException', { message: 'Rate exceeded' });
    ledgerHas(pending(), pending({ status: 'denied', decidedBy: 'bob' }));
    ddbMock.on(UpdateCommand).rejects(throttled);

    // Act
    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    // Assess
    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toBe('ThrottlingException: Rate exceeded');
    expect(err.cause).toBe(throttled);
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('names the closed task exactly, keeping the Step Functions error as its cause', async () => {
    const closed = awsError('TaskTimedOut', { message: 'Task Timed Out' });
    ledgerHas(pending());
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).rejects(closed);

    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    expect(err).toBeInstanceOf(ApprovalTaskClosedError);
    expect(err.message).toBe(
      `Step Functions no longer waits for a decision on response ${RESPONSE} (TaskTimedOut): ` +
        'the approval timed out or the execution ended; nothing was changed',
    );
    expect(err.cause).toBe(closed);
  });

  it('rethrows an undo that fails for any other reason than its condition', async () => {
    // Prepare: the decision is written, Step Functions refuses it, and the undo is denied
    const denied = awsError('AccessDeniedException', { message: 'not allowed' });
    ledgerHas(pending());
    ddbMock.on(UpdateCommand).resolvesOnce({}).rejectsOnce(denied);
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'));

    // Act
    const err = await rejectionOf(submitApprovalDecision(clients, decision(), DECIDED));

    // Assess: the ledger could not be put back; that is what the caller must hear
    expect(err).toBe(denied);
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });
});

describe('storePendingApproval: errors', () => {
  it('rethrows any error other than the condition', async () => {
    const denied = awsError('AccessDeniedException');
    ddbMock.on(UpdateCommand).rejects(denied);

    const err = await rejectionOf(
      storePendingApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { ...pending(), status: 'pending', taskToken: TOKEN }, REQUESTED),
    );

    expect(err).toBe(denied);
  });
});

describe('closeApproval: denial, defaults and errors', () => {
  const NOW = '2025-06-01T12:06:00.000Z';

  it('keeps a human denial as written too', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await closeApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { status: 'denied', applied: 'deny', decidedBy: ALICE, reason: 'no' }, NOW);

    expect(ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression:
          'SET approval.#status = :status, approval.applied = :applied, approval.closedAt = :now, ' +
          'approval.decidedBy = if_not_exists(approval.decidedBy, :by), approval.reason = if_not_exists(approval.reason, :reason), ' +
          'approval.decidedAt = if_not_exists(approval.decidedAt, :now) REMOVE approval.taskToken',
        ConditionExpression: 'attribute_exists(approval)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': 'denied', ':applied': 'deny', ':now': NOW, ':by': ALICE, ':reason': 'no' },
      },
    ]);
  });

  it('records a failed approval request as denied, by cordon, with an empty reason', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await closeApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { status: 'failed', applied: null, decidedBy: null, reason: null }, NOW);

    expect(ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression:
          'SET approval.#status = :status, approval.applied = :applied, approval.closedAt = :now, ' +
          'approval.decidedBy = :by, approval.reason = :reason, approval.decidedAt = :now REMOVE approval.taskToken, approval.decision',
        ConditionExpression: 'attribute_exists(approval)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': 'failed', ':applied': 'deny', ':now': NOW, ':by': 'cordon', ':reason': '' },
      },
    ]);
  });

  it('rethrows any error other than the condition', async () => {
    const denied = awsError('AccessDeniedException');
    ddbMock.on(UpdateCommand).rejects(denied);

    const err = await rejectionOf(
      closeApproval(clients.ddb, TABLE, INCIDENT, RESPONSE, { status: 'timed-out', applied: 'approve', decidedBy: 'cordon', reason: 'x' }, NOW),
    );

    expect(err).toBe(denied);
  });
});

describe('withoutTaskToken: odd approvals', () => {
  it.each([
    ['a string', 'pending'],
    ['null', null],
  ])('returns an item whose approval is %s as it is', (_label, approval) => {
    const item = { ...KEY, outcome: 'contained', approval };

    expect(withoutTaskToken(item)).toBe(item);
  });
});
