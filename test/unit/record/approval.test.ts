/**
 * The outcome of a response that went through the gated-containment branch (docs/approval.md):
 * the `Contain` Parallel's first result is `{gate: 'approval', approval?, protect?, protectFailure?,
 * approvalFailure?, branches?}` (state-machines/response.asl.json, GateClosed).
 */
import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/record/handler';
import { decideOutcome, type WorkflowState } from '../../../lambdas/record/outcome';
import type { RecordDeps } from '../../../lambdas/record/record';
import { GATED_ACTIONS } from '../../../lambdas/shared/actions';
import type { BeforeSummary } from '../../../lambdas/shared/workflow';
import { testClientFactory } from '../../support/clients';
import { fullPlan, planWithout } from '../../support/plan';

const ec2Mock = mockClient(EC2Client);
const ddbMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const TABLE = 'cordon-ledger';
const NOW = new Date('2025-06-01T12:40:00.000Z');
const ALICE = 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice';
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/admin/0123456789abcdef';

function before(extra: Partial<BeforeSummary> = {}): BeforeSummary {
  return {
    incidentId: INCIDENT,
    exempt: false,
    duplicate: false,
    ownerRequestId: 'req-1',
    incidentStatus: 'open',
    deliveries: 1,
    instanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
    findingId: null,
    autoScalingGroupName: 'web-asg',
    profile: null,
    interfaces: [],
    volumes: [],
    settleSeconds: 10,
    plan: fullPlan(),
    beforeStateKey: `incidents/${INCIDENT}/responses/req-1/before-state.json`,
    approval: { required: true, matchedTag: { key: 'env', value: 'production' }, timeoutSeconds: 1800, onTimeout: 'approve' },
    ...extra,
  };
}

const ISOLATED = { action: 'isolate', status: 'attempted', interfaces: [{ networkInterfaceId: 'eni-0000000000000000a', status: 'isolated' }] };
const QUARANTINED = { action: 'quarantineRole', status: 'succeeded' };
const FLOW_LOGS = { action: 'flowLogs', status: 'succeeded' };
const SNAPSHOTS = { action: 'snapshot', status: 'started', pollSeconds: 60, snapshots: [{ snapshotId: 'snap-0aaaaaaaaaaaaaaa1' }] };
const COLLECTED = { action: 'collectEvidence', status: 'succeeded' };
const PROTECTED = { autoScaling: { status: 'detached', groupName: 'web-asg', activityIds: ['a-1'] }, terminationProtection: { status: 'enabled' } };
/** PreserveBeforeApproval: attributes done, target groups left for after the approval. */
const PRESERVED_HELD = {
  action: 'preserve',
  status: 'succeeded',
  shutdownBehavior: { status: 'done' },
  deleteOnTermination: [],
  targetGroups: { status: 'skipped', reason: 'isolation not requested: the instance stays in service' },
};
/** LeaveTargetGroups, after approval. */
const LEFT_TARGET_GROUPS = {
  action: 'preserve',
  status: 'succeeded',
  shutdownBehavior: { status: 'done' },
  deleteOnTermination: [],
  targetGroups: { status: 'done', deregistered: [{ targetGroupArn: TG, port: 8443, availabilityZone: null }] },
};
const APPROVED = { approved: true, decidedBy: ALICE, reason: 'confirmed C2', decidedAt: '2025-06-01T12:05:00.000Z' };
const DENIED = { approved: false, decidedBy: ALICE, reason: 'payments cut-over', decidedAt: '2025-06-01T12:05:00.000Z' };

function gated(gate: Record<string, unknown>, evidence: unknown[] = [FLOW_LOGS, SNAPSHOTS, PRESERVED_HELD, COLLECTED], extra: Partial<WorkflowState> = {}): WorkflowState {
  return { request: {}, before: before(), branches: [{ gate: 'approval', ...gate }, ...evidence] as WorkflowState['branches'], ...extra };
}

const statuses = (d: ReturnType<typeof decideOutcome>) => d.actions.map((a) => `${a.action}:${a.status}`);
/** The one preserve action's detail. */
const preserveDetail = (d: ReturnType<typeof decideOutcome>) => d.actions.find((a) => a.action === 'preserve')?.detail as { targetGroups: unknown };
/** Every gated action of a full plan, declined at the gate (catalogue order). */
const DECLINED = GATED_ACTIONS.map((a) => `${a}:declined`);

describe('decideOutcome behind the approval gate', () => {
  it('approved: contained, with one preserve action carrying the target groups left after approval, and who approved', () => {
    // Act
    const decision = decideOutcome(gated({ approval: APPROVED, protect: PROTECTED, branches: [ISOLATED, QUARANTINED, LEFT_TARGET_GROUPS] }));

    // Assess
    expect(decision.outcome).toBe('contained');
    expect(statuses(decision)).toEqual([
      'isolate:succeeded',
      'quarantineRole:succeeded',
      'flowLogs:succeeded',
      'snapshot:succeeded',
      'preserve:succeeded',
      'collectEvidence:succeeded',
    ]);
    expect(preserveDetail(decision).targetGroups).toEqual(LEFT_TARGET_GROUPS.targetGroups);
    expect(decision.summary).toBe(
      `approved by ${ALICE}; all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot, preserve, collectEvidence`,
    );
    expect(decision.approval).toEqual({
      status: 'approved',
      applied: 'approve',
      decidedBy: ALICE,
      reason: 'confirmed C2',
      decidedAt: '2025-06-01T12:05:00.000Z',
      matchedTag: { key: 'env', value: 'production' },
    });
  });

  it('no gate needed: the branch ran at once and the outcome is as without the gate', () => {
    const decision = decideOutcome(
      gated({ branches: [ISOLATED, QUARANTINED, { action: 'preserve', status: 'skipped', reason: 'x' }] }, [FLOW_LOGS, SNAPSHOTS, LEFT_TARGET_GROUPS, COLLECTED], {
        protect: PROTECTED,
        before: before({ approval: undefined }),
      }),
    );

    expect(decision.outcome).toBe('contained');
    expect(decision.approval).toBeUndefined();
    expect(decision.summary).toMatch(/^all requested actions succeeded/);
    expect(preserveDetail(decision).targetGroups).toEqual(LEFT_TARGET_GROUPS.targetGroups);
  });

  it('approved, but leaving Auto Scaling failed after approval: protect is named first, isolation was unsafe', () => {
    const unsafe = { action: 'isolate', status: 'failed', error: 'IsolationUnsafe', cause: 'security groups left unchanged' };

    const decision = decideOutcome(
      gated({ approval: APPROVED, protectFailure: { Error: 'ProtectInstanceError', Cause: 'cannot detach' }, branches: [unsafe, QUARANTINED, LEFT_TARGET_GROUPS] }),
    );

    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures.map((f) => `${f.action}:${f.error}`)).toEqual(['protect:ProtectInstanceError', 'isolate:IsolationUnsafe']);
  });

  it('denied: isolation and quarantine declined (not failed, not done), the instance left in service, evidence succeeded', () => {
    // Act
    const decision = decideOutcome(gated({ approval: DENIED }));

    // Assess
    expect(decision.outcome).toBe('declined');
    expect(decision.failures).toEqual([]);
    expect(statuses(decision)).toEqual([
      ...DECLINED,
      'flowLogs:succeeded',
      'snapshot:succeeded',
      'preserve:succeeded',
      'collectEvidence:succeeded',
    ]);
    expect(decision.actions[0]?.detail).toEqual({ action: 'isolate', status: 'declined', decidedBy: ALICE, reason: 'payments cut-over' });
    expect(preserveDetail(decision).targetGroups).toEqual({
      status: 'skipped',
      reason: `containment declined at the approval gate by ${ALICE}: the instance stays in service`,
    });
    expect(DECLINED.slice(0, 2)).toEqual(['isolate:declined', 'quarantineRole:declined']);
    expect(decision.summary).toBe(
      `declined: ${GATED_ACTIONS.join(', ')} not done, declined by ${ALICE}: payments cut-over; the instance stays in service; ` +
        'flowLogs, snapshot, preserve, collectEvidence succeeded',
    );
    expect(decision.approval).toMatchObject({ status: 'denied', applied: 'deny', decidedBy: ALICE });
  });

  it('denied while an evidence action failed: still declined, and the failure is named (the execution then fails)', () => {
    const failedSnapshot = { action: 'snapshot', status: 'failed', error: 'SnapshotLimitExceeded', cause: 'too many' };

    const decision = decideOutcome(gated({ approval: DENIED }, [FLOW_LOGS, failedSnapshot, PRESERVED_HELD, COLLECTED]));

    expect(decision.outcome).toBe('declined');
    expect(decision.failures).toEqual([{ action: 'snapshot', error: 'SnapshotLimitExceeded', cause: 'too many' }]);
    expect(decision.summary).toContain('; snapshot failed');
  });

  it('denied with only isolation requested: quarantineRole stays "skipped", not "declined"', () => {
    const decision = decideOutcome(
      gated({ approval: DENIED }, [FLOW_LOGS, SNAPSHOTS, PRESERVED_HELD, COLLECTED], {
        before: before({ plan: planWithout('quarantineRole') }),
      }),
    );

    expect(statuses(decision).slice(0, 2)).toEqual(['isolate:declined', 'quarantineRole:skipped']);
  });

  it('timed out with onTimeout=deny: declined, saying nobody decided', () => {
    const decision = decideOutcome(
      gated({
        timeout: { Error: 'States.Timeout', Cause: '' },
        approval: { approved: false, decidedBy: 'cordon (approval timed out)', reason: 'no decision', timedOut: true },
      }),
    );

    expect(decision.outcome).toBe('declined');
    expect(decision.summary).toContain('nobody decided before the approval timed out (onTimeout=deny)');
    expect(decision.approval).toMatchObject({ status: 'timed-out', applied: 'deny' });
  });

  it('the approval could not be requested: isolation and quarantine failed (not attempted), never success', () => {
    const decision = decideOutcome(gated({ approvalFailure: { Error: 'AuthorizationError', Cause: 'not authorized to publish' } }));

    expect(decision.outcome).toBe('failed');
    expect(decision.failures).toEqual(
      GATED_ACTIONS.map((action) => ({ action, error: 'AuthorizationError', cause: 'not attempted: the approval could not be requested: not authorized to publish' })),
    );
    expect(decision.failures.map((f) => f.action).slice(0, 2)).toEqual(['isolate', 'quarantineRole']);
    expect(decision.approval).toMatchObject({ status: 'failed', applied: null });
  });

  it('the containment branches never completed: the approval is reported failed, so its entry is closed', () => {
    const decision = decideOutcome({ request: {}, before: before(), failure: { Error: 'States.Runtime', Cause: 'path not found' } });

    expect(decision.outcome).toBe('failed');
    expect(decision.approval).toMatchObject({ status: 'failed', applied: null, reason: 'States.Runtime: path not found' });
  });

  it('leaving target groups failed after approval: preserve is failed, naming the target groups', () => {
    const leaveFailed = { action: 'preserve', status: 'failed', step: 'leaveTargetGroups', error: 'AccessDenied', cause: 'elasticloadbalancing:DeregisterTargets' };

    const decision = decideOutcome(gated({ approval: APPROVED, protect: PROTECTED, branches: [ISOLATED, QUARANTINED, leaveFailed] }));

    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures).toEqual([{ action: 'preserve', error: 'PreservationIncomplete', cause: 'target groups: AccessDenied' }]);
  });
});

describe('record step "outcome" behind the approval gate', () => {
  let deps: RecordDeps;

  beforeEach(() => {
    ec2Mock.reset();
    ddbMock.reset();
    s3Mock.reset();
    snsMock.reset();
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, NetworkInterfaces: [] }] }] });
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
    ddbMock.on(GetCommand).resolves({ Item: {} });
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock.on(UpdateCommand).resolves({});
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3Mock.on(HeadObjectCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    deps = {
      factory: testClientFactory(),
      config: { ledgerTable: TABLE, evidenceBucket: 'cordon-evidence', topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:cordon` },
      log: { info: jest.fn(), warn: jest.fn(), error: jest.fn() },
      now: () => NOW,
    };
  });

  const request = { requestId: 'req-1', source: 'guardduty', target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE }, reason: 'r', requestedBy: 'cordon-intake' };

  it('a denial: incident status "declined", the approval closed and its token removed, the notification says who declined', async () => {
    // Act
    await createHandler(() => deps)({
      step: 'outcome',
      executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:cordon-response:req-1',
      state: { ...gated({ approval: DENIED }), request },
    });

    // Assess
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: INCIDENT, sk: 'INCIDENT' },
      ExpressionAttributeValues: { ':status': 'declined', ':now': NOW.toISOString(), ':req': 'req-1' },
    });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: INCIDENT, sk: 'RESPONSE#req-1' },
      ConditionExpression: 'attribute_exists(approval)',
      ExpressionAttributeValues: { ':status': 'denied', ':applied': 'deny', ':now': NOW.toISOString(), ':by': ALICE, ':reason': 'payments cut-over' },
    });
    const closing = ddbMock.commandCalls(UpdateCommand).find((c) => c.args[0].input.ConditionExpression === 'attribute_exists(approval)');
    expect(closing?.args[0].input.UpdateExpression).toContain('REMOVE approval.taskToken');
    const publish = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish?.Subject).toBe(`[cordon] declined: ${INSTANCE} in ${ACCOUNT}/${REGION}`);
    expect(publish?.MessageAttributes).toEqual({ outcome: { DataType: 'String', StringValue: 'declined' } });
    const message = JSON.parse(publish?.Message ?? '{}') as Record<string, unknown>;
    expect(message.approval).toMatchObject({ status: 'denied', decidedBy: ALICE, reason: 'payments cut-over' });
    expect(message.actions).toEqual([
      ...GATED_ACTIONS.map((action) => ({ action, status: 'declined' })),
      { action: 'flowLogs', status: 'succeeded' },
      { action: 'snapshot', status: 'succeeded' },
      { action: 'preserve', status: 'succeeded' },
      { action: 'collectEvidence', status: 'succeeded' },
    ]);
  });

  it('records the protect result from inside the gate', async () => {
    await createHandler(() => deps)({
      step: 'outcome',
      executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:cordon-response:req-1',
      state: { ...gated({ approval: APPROVED, protect: PROTECTED, branches: [ISOLATED, QUARANTINED, LEFT_TARGET_GROUPS] }), request },
    });

    const response = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    const names = Object.entries(response?.ExpressionAttributeNames ?? {});
    const protectAlias = names.find(([, field]) => field === 'protect')?.[0];
    expect(response?.ExpressionAttributeValues?.[`:v${protectAlias?.slice(2)}`]).toEqual(PROTECTED);
  });
});
