/**
 * The approval gate's record in the ledger (docs/approval.md). A response waiting for a human decision
 * carries, on its RESPONSE item:
 *
 *   approval = { status: 'pending', requestedAt, expiresAt, matchedTag, timeoutSeconds, onTimeout,
 *                actions, executionArn, taskToken }
 *
 * `taskToken` is the Step Functions callback token of the waiting task. It is stored here, read only by
 * {@link submitApprovalDecision}, removed when the response is recorded, and never logged, returned or
 * published: whoever holds it and `states:SendTaskSuccess` could decide in cordon's place.
 *
 * A decision moves `status` from `pending` to `approved` or `denied` with one conditional write, so two
 * responders deciding at once can't both win; only then is the decision sent to Step Functions. The
 * record step closes the entry (`approved`, `denied` or `timed-out`, with what was applied).
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotPendingError,
  ApprovalTaskClosedError,
  classify,
  InvalidRequestError,
  ResponseNotFoundError,
} from './errors';
import { awsErrorName } from './handler';
import { findResponse, responseSk } from './ledger';
import { ApprovalDecision, describeZodError } from './schemas';
import type { ApprovalResult, TagMatch } from './workflow';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'timed-out' | 'failed';

/** The `approval` map of a RESPONSE item. */
export interface ApprovalEntry {
  status: ApprovalStatus;
  requestedAt: string;
  expiresAt: string;
  matchedTag: TagMatch | null;
  timeoutSeconds: number;
  onTimeout: 'approve' | 'deny';
  /** What waits for the decision: `protect`, `isolate`, `quarantineRole`, as planned. */
  actions: string[];
  executionArn: string;
  /** Removed when the response is recorded. Never logged or published. */
  taskToken?: string;
  decision?: 'approve' | 'deny';
  decidedBy?: string;
  reason?: string;
  decidedAt?: string;
  /** Set when the response is recorded: what the workflow applied (`deny` too when the request itself failed). */
  applied?: 'approve' | 'deny';
  closedAt?: string;
}

/**
 * A RESPONSE item as it may be shown (API `GET /v1/responses/{id}`, `cordon status`): the approval without
 * its task token. The ledger's `byResponseId` index projects every attribute, the token included, so
 * every reader that shows an item must pass it through here.
 */
export function withoutTaskToken<T extends Record<string, unknown>>(item: T): T {
  const approval = item.approval;
  if (!approval || typeof approval !== 'object') return item;
  const { taskToken: _token, ...shown } = approval as Record<string, unknown>;
  return { ...item, approval: shown };
}

/** Step Functions errors that mean the waiting task is gone: nothing can decide it any more. */
const TASK_CLOSED = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/**
 * Store a pending approval on the response (the await-approval Lambda). A retried approval task
 * (Step Functions issues a new token per attempt) replaces a pending entry; a decided one is never
 * replaced. Returns false when the entry was already decided.
 */
export async function storePendingApproval(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  entry: ApprovalEntry & { status: 'pending'; taskToken: string },
  now: string,
): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: incidentId, sk: responseSk(requestId) },
        UpdateExpression: 'SET approval = :approval, updatedAt = :now',
        ConditionExpression: '(attribute_exists(pk) AND attribute_not_exists(approval)) OR approval.#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':approval': entry, ':now': now, ':pending': 'pending' },
      }),
    );
    return true;
  } catch (err) {
    if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
    return false;
  }
}

export interface ApprovalClients {
  readonly ddb: DynamoDBDocumentClient;
  readonly sfn: Pick<SFNClient, 'send'>;
  /** The ledger table (hub stack output `LedgerTableName`). */
  readonly table: string;
}

/** What a decision did: returned to the API and the CLI. */
export interface ApprovalDecisionResult {
  responseId: string;
  incidentId: string;
  decision: 'approve' | 'deny';
  approved: boolean;
  decidedBy: string;
  reason: string;
  decidedAt: string;
  executionArn: string;
}

async function readApproval(ddb: DynamoDBDocumentClient, table: string, incidentId: string, responseId: string): Promise<ApprovalEntry | undefined> {
  const out = await ddb.send(
    new GetCommand({
      TableName: table,
      Key: { pk: incidentId, sk: responseSk(responseId) },
      ConsistentRead: true,
      ProjectionExpression: '#approval',
      ExpressionAttributeNames: { '#approval': 'approval' },
    }),
  );
  return out.Item?.approval as ApprovalEntry | undefined;
}

/** The named error for an entry that can't take a decision now, or undefined when it can. */
function refusal(responseId: string, entry: ApprovalEntry | undefined, at: string): Error | undefined {
  if (!entry) {
    return new ApprovalNotPendingError(
      `response ${responseId} is not waiting for a decision: no approval was requested for it ` +
        '(its instance carries none of the approval tags, or the response has not reached the approval gate yet)',
    );
  }
  if (entry.status !== 'pending') {
    const by = entry.decidedBy ? ` by ${entry.decidedBy}` : '';
    return new ApprovalAlreadyDecidedError(`response ${responseId} was already ${entry.status}${by}: the first decision stands`, entry.status, entry.decidedBy);
  }
  if (at >= entry.expiresAt) {
    return new ApprovalExpiredError(
      `the approval of response ${responseId} expired at ${entry.expiresAt}: onTimeout=${entry.onTimeout} applies`,
      entry.expiresAt,
    );
  }
  if (!entry.taskToken) return new ApprovalNotPendingError(`response ${responseId} is not waiting for a decision: it holds no pending approval task`);
  return undefined;
}

/**
 * Approve or deny a response waiting at the approval gate: the one function the API
 * (`POST /v1/responses/{id}/approval`) and the CLI (`cordon approve|deny`) call.
 *
 * 1. Find the response through the ledger's `byResponseId` index, then read its approval consistently.
 * 2. Refuse unless it is pending and not expired (`ResponseNotFoundError`, `ApprovalNotPendingError`,
 *    `ApprovalAlreadyDecidedError`, `ApprovalExpiredError`).
 * 3. Move it from `pending` to `approved`/`denied` with one conditional write (two racing responders:
 *    the first wins, the second gets `ApprovalAlreadyDecidedError`).
 * 4. SendTaskSuccess with `{approved, decidedBy, reason, decidedAt}`. If Step Functions no longer
 *    accepts it (`TaskTimedOut`, `InvalidToken`, `TaskDoesNotExist`), the ledger write is undone and
 *    `ApprovalTaskClosedError` is thrown; a throttled call is undone too and surfaces as `TransientAwsError`.
 *
 * `decidedBy` must be the caller's authenticated identity (the API's IAM principal, the CLI's
 * GetCallerIdentity ARN), never free text from the caller.
 */
export async function submitApprovalDecision(clients: ApprovalClients, rawDecision: ApprovalDecision, now: Date): Promise<ApprovalDecisionResult> {
  const parsed = ApprovalDecision.safeParse(rawDecision);
  if (!parsed.success) throw new InvalidRequestError(describeZodError(parsed.error));
  const decision = parsed.data;
  const { ddb, sfn, table } = clients;
  const decidedAt = now.toISOString();
  const approved = decision.decision === 'approve';
  const status: ApprovalStatus = approved ? 'approved' : 'denied';

  const found = await findResponse(ddb, table, decision.responseId);
  if (!found) {
    throw new ResponseNotFoundError(`no response ${decision.responseId} in the ledger (a response started a moment ago may take a few seconds to appear)`);
  }
  const { incidentId } = found;
  const key = { pk: incidentId, sk: responseSk(decision.responseId) };

  const entry = await readApproval(ddb, table, incidentId, decision.responseId);
  const refused = refusal(decision.responseId, entry, decidedAt);
  if (refused || !entry?.taskToken) throw refused ?? new ApprovalNotPendingError(`response ${decision.responseId} is not waiting for a decision`);
  const { taskToken } = entry;

  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression:
          'SET approval.#status = :status, approval.decision = :decision, approval.decidedBy = :by, approval.reason = :reason, approval.decidedAt = :at',
        // The token too: a retried approval task renews it, and the decision must go to the task that is waiting.
        ConditionExpression: 'approval.#status = :pending AND approval.taskToken = :token AND :at < approval.expiresAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': status,
          ':decision': decision.decision,
          ':by': decision.decidedBy,
          ':reason': decision.reason,
          ':at': decidedAt,
          ':pending': 'pending',
          ':token': taskToken,
        },
      }),
    );
  } catch (err) {
    if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw classify(err);
    // Someone else decided first, the approval expired, or the task was renewed: say which.
    const now2 = await readApproval(ddb, table, incidentId, decision.responseId);
    throw (
      refusal(decision.responseId, now2, decidedAt) ??
      new ApprovalNotPendingError(`the approval request of response ${decision.responseId} was renewed while deciding: decide again`)
    );
  }

  const output: ApprovalResult = { approved, decidedBy: decision.decidedBy, reason: decision.reason, decidedAt };
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  } catch (err) {
    // The workflow did not take the decision: the ledger must not say it did.
    await undoDecision(ddb, table, key, status, decision.decidedBy, decidedAt);
    const name = awsErrorName(err);
    if (name && TASK_CLOSED.has(name)) {
      throw new ApprovalTaskClosedError(
        `Step Functions no longer waits for a decision on response ${decision.responseId} (${name}): ` +
          'the approval timed out or the execution ended; nothing was changed',
        { cause: err },
      );
    }
    throw classify(err);
  }

  return {
    responseId: decision.responseId,
    incidentId,
    decision: decision.decision,
    approved,
    decidedBy: decision.decidedBy,
    reason: decision.reason,
    decidedAt,
    executionArn: entry.executionArn,
  };
}

/** Put a decision the workflow did not take back to pending, unless something else has changed it since. */
async function undoDecision(
  ddb: DynamoDBDocumentClient,
  table: string,
  key: Record<string, string>,
  status: ApprovalStatus,
  decidedBy: string,
  decidedAt: string,
): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET approval.#status = :pending REMOVE approval.decision, approval.decidedBy, approval.reason, approval.decidedAt',
        ConditionExpression: 'approval.#status = :status AND approval.decidedBy = :by AND approval.decidedAt = :at',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending', ':status': status, ':by': decidedBy, ':at': decidedAt },
      }),
    );
  } catch (err) {
    // The response was recorded meanwhile (timed out): its closing entry stands.
    if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw classify(err);
  }
}

/** How the gate ended, as the record step closes it (lambdas/record/outcome.ts `ApprovalReport`). */
export interface ApprovalClosing {
  status: 'approved' | 'denied' | 'timed-out' | 'failed';
  /** What the workflow applied; null when the approval could not even be requested. */
  applied: 'approve' | 'deny' | null;
  decidedBy: string | null;
  reason: string | null;
}

/**
 * Close the approval when the response is recorded: what the workflow applied, and the token removed.
 * A human decision is already on the entry (kept as written); a timeout or a failed approval request is
 * written here, replacing whatever a late decision may have left. An entry that was never stored (the
 * approval request failed before storing it) stays absent.
 */
export async function closeApproval(
  ddb: DynamoDBDocumentClient,
  table: string,
  incidentId: string,
  requestId: string,
  closing: ApprovalClosing,
  now: string,
): Promise<void> {
  const human = closing.status === 'approved' || closing.status === 'denied';
  const decided = human
    ? 'approval.decidedBy = if_not_exists(approval.decidedBy, :by), approval.reason = if_not_exists(approval.reason, :reason), ' +
      'approval.decidedAt = if_not_exists(approval.decidedAt, :now) REMOVE approval.taskToken'
    : 'approval.decidedBy = :by, approval.reason = :reason, approval.decidedAt = :now REMOVE approval.taskToken, approval.decision';
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: incidentId, sk: responseSk(requestId) },
        UpdateExpression: `SET approval.#status = :status, approval.applied = :applied, approval.closedAt = :now, ${decided}`,
        ConditionExpression: 'attribute_exists(approval)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': closing.status,
          ':applied': closing.applied ?? 'deny',
          ':now': now,
          ':by': closing.decidedBy ?? 'cordon',
          ':reason': closing.reason ?? '',
        },
      }),
    );
  } catch (err) {
    if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
  }
}
