import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler, productionDeps } from '../../../lambdas/await-approval/handler';
import { describeWaiting, gatedActions, requestApproval, type AwaitApprovalDeps, type AwaitApprovalInput } from '../../../lambdas/await-approval/await-approval';
import { actionSpec, GATED_ACTIONS } from '../../../lambdas/shared/actions';
import { ApprovalAlreadyDecidedError, InvalidRequestError } from '../../../lambdas/shared/errors';
import type { Log } from '../../../lambdas/shared/handler';
import { awsError, rejectionOf, testClientFactory } from '../../support/clients';
import { emptyPlan, fullPlan, planOf, planWithout, waitingSteps } from '../../support/plan';

/** What waits for a full plan, in the order it runs. */
const ALL_WAITING = waitingSteps();

/** The approver's words for the steps that are not actions. */
const COMPANION_TEXT: Partial<Record<string, string>> = {
  protect: 'leave its Auto Scaling group (capacity kept) and turn termination protection on',
  leaveTargetGroups: 'deregister it from the load-balancer target groups it is registered in directly',
};

const ddbMock = mockClient(DynamoDBDocumentClient);
const snsMock = mockClient(SNSClient);

const TABLE = 'cordon-ledger';
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:cordon';
const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf-secret-task-token';
const EXECUTION = 'arn:aws:states:eu-west-1:111122223333:execution:cordon-response:req-1';
const NOW = new Date('2025-06-01T12:00:00.000Z');
const EXPIRES = '2025-06-01T12:30:00.000Z';

function input(extra: Partial<AwaitApprovalInput> = {}): AwaitApprovalInput {
  return {
    taskToken: TOKEN,
    executionArn: EXECUTION,
    request: {
      requestId: 'req-1',
      source: 'guardduty',
      target: TARGET,
      actions: ['isolate', 'flowLogs', 'snapshot', 'quarantineRole'],
      reason: 'GuardDuty Backdoor:EC2/C&CActivity.B (severity 8)',
      requestedBy: 'cordon-intake',
    },
    incidentId: INCIDENT,
    plan: fullPlan(),
    approval: { required: true, matchedTag: { key: 'env', value: 'production' }, timeoutSeconds: 1800, onTimeout: 'deny' },
    ...extra,
  };
}

let log: Log & { info: jest.Mock; warn: jest.Mock; error: jest.Mock };
let deps: AwaitApprovalDeps;

beforeEach(() => {
  ddbMock.reset();
  snsMock.reset();
  log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  deps = { factory: testClientFactory(), config: { ledgerTable: TABLE, topicArn: TOPIC }, log, now: () => NOW };
});

describe('requestApproval', () => {
  it('stores the token on the response, holds the claim until expiry, then notifies how to approve or deny', async () => {
    // Prepare
    ddbMock.on(UpdateCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });

    // Act
    const result = await requestApproval(input(), deps);

    // Assess: the pending entry, then the claim hold, then the notification
    expect(ddbMock).toHaveReceivedNthCommandWith(1, UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' },
      UpdateExpression: 'SET approval = :approval, updatedAt = :now',
      ConditionExpression: '(attribute_exists(pk) AND attribute_not_exists(approval)) OR approval.#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':approval': {
          status: 'pending',
          requestedAt: NOW.toISOString(),
          expiresAt: EXPIRES,
          matchedTag: { key: 'env', value: 'production' },
          timeoutSeconds: 1800,
          onTimeout: 'deny',
          actions: ALL_WAITING,
          executionArn: EXECUTION,
          taskToken: TOKEN,
        },
        ':now': NOW.toISOString(),
        ':pending': 'pending',
      },
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      UpdateExpression: 'SET claimHeldUntil = :until',
      ConditionExpression: 'activeRequestId = :req',
      ExpressionAttributeValues: { ':until': EXPIRES, ':req': 'req-1' },
    });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const publish = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish).toMatchObject({
      TopicArn: TOPIC,
      Subject: '[cordon] approval needed: i-0123456789abcdef0 in 111122223333/eu-west-1',
      MessageAttributes: { outcome: { DataType: 'String', StringValue: 'approval-needed' } },
    });
    const body = JSON.parse(publish?.Message ?? '') as Record<string, unknown>;
    expect(body).toMatchObject({
      responseId: 'req-1',
      incidentId: INCIDENT,
      why: 'the instance is tagged env=production: containment waits for a human decision (a tag-selected gate always goes ahead on timeout)',
      expiresAt: EXPIRES,
      onTimeout: `no decision by ${EXPIRES}: the instance is left in service, evidence still collected (onTimeout=deny)`,
      approve: { cli: 'cordon approve req-1 --reason "<why>"', api: 'POST /v1/responses/req-1/approval {"decision":"approve","reason":"<why>"}' },
      deny: { cli: 'cordon deny req-1 --reason "<why>"', api: 'POST /v1/responses/req-1/approval {"decision":"deny","reason":"<why>"}' },
    });
    expect(body.waiting).toEqual(ALL_WAITING.map((step) => `${step}: ${COMPANION_TEXT[step] ?? actionSpec(step).describe}`));
    expect(body.waiting).toContain('isolate: move every network interface to the isolation security group');
    expect(body.waiting).toContain("quarantineRole: deny its role's credentials when used from this instance, and disassociate the instance profile");
    expect(body.notWaiting).toBe(
      'flow logs, snapshots, preservation (shutdown behaviour, volumes kept on termination) and evidence collection are already running',
    );
    expect(result).toEqual({
      status: 'pending',
      expiresAt: EXPIRES,
      actions: ALL_WAITING,
      notificationId: 'msg-1',
    });
  });

  it('never puts the token in the notification, the result or a log line', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });

    const result = await requestApproval(input(), deps);

    expect(JSON.stringify(snsMock.commandCalls(PublishCommand)[0]?.args[0].input)).not.toContain(TOKEN);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(JSON.stringify([log.info.mock.calls, log.warn.mock.calls, log.error.mock.calls])).not.toContain(TOKEN);
  });

  it('still asks when the incident claim has moved on (a responder re-ran containment): the hold is only for its own claim', async () => {
    ddbMock.on(UpdateCommand, { Key: { pk: INCIDENT, sk: 'INCIDENT' } }).rejects(awsError('ConditionalCheckFailedException'));
    ddbMock.on(UpdateCommand, { Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' } }).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });

    await requestApproval(input(), deps);

    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('refuses to replace an approval already decided', async () => {
    ddbMock.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException'));

    const err = await rejectionOf(requestApproval(input(), deps));

    expect(err).toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect(snsMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a response that needs no approval, before any call', async () => {
    const err = await rejectionOf(
      requestApproval(input({ approval: { required: false, matchedTag: null, timeoutSeconds: 1800, onTimeout: 'approve' } }), deps),
    );

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
  });

  it('lists what waits: leaving Auto Scaling and target groups only with isolation', () => {
    expect(gatedActions(planWithout('isolate'))).toEqual(GATED_ACTIONS.filter((a) => a !== 'isolate'));
    expect(gatedActions(planWithout('isolate'))).toContain('quarantineRole');
    expect(gatedActions(planOf('isolate'))).toEqual(['protect', 'isolate', 'leaveTargetGroups']);
  });

  it('lists gated actions in the order they run, whatever order the plan was built in; evidence actions never wait', () => {
    expect(gatedActions(planOf('quarantineRole', 'isolate'))).toEqual(['protect', 'isolate', 'leaveTargetGroups', 'quarantineRole']);
    expect(gatedActions(planOf('flowLogs', 'snapshot'))).toEqual([]);
    expect(gatedActions(emptyPlan())).toEqual([]);
  });

  it("describes an action in the catalogue's words, a companion step in its own, and an unknown step by its name", () => {
    expect(describeWaiting('quarantineRole')).toBe(actionSpec('quarantineRole').describe);
    expect(describeWaiting('protect')).toBe('leave its Auto Scaling group (capacity kept) and turn termination protection on');
    expect(describeWaiting('toString')).toBe('toString');
  });
});

describe('handler', () => {
  it('validates the payload at the edge, naming the field but never echoing the token', async () => {
    const handler = createHandler(() => deps);

    const noToken = await rejectionOf(handler({ ...input(), taskToken: '' }));
    const badIncident = await rejectionOf(handler({ ...input(), incidentId: 'inc-../../etc' }));

    expect(noToken).toBeInstanceOf(InvalidRequestError);
    expect(noToken.message).toContain('taskToken');
    expect(badIncident.message).toContain('incidentId');
    expect(badIncident.message).not.toContain(TOKEN);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('reads its table and topic from the environment, and fails loudly without them', () => {
    const deps = productionDeps({ LEDGER_TABLE: TABLE, TOPIC_ARN: TOPIC });

    expect(deps.config).toEqual({ ledgerTable: TABLE, topicArn: TOPIC });
    expect(() => productionDeps({ LEDGER_TABLE: TABLE })).toThrow('Environment variable TOPIC_ARN is not set');
  });

  it('acts on the hub only: it may not assume the responder role', async () => {
    const err = await rejectionOf(productionDeps({ LEDGER_TABLE: TABLE, TOPIC_ARN: TOPIC }).factory.forTarget(TARGET, 'x'));

    expect(err.message).toContain('may not assume CordonResponder');
  });
});
