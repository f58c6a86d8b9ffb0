/** `POST /v1/responses/{id}/approval`: approve or deny a response waiting at the approval gate. */
import { submitApprovalDecision } from '../../shared/approval';
import { CordonError, isTransient, TransientAwsError } from '../../shared/errors';
import { APPROVAL_REFUSALS, ApprovalBody, failure, invalidBody, parseId, type ApiDeps, type ApiResult } from '../contract';

/**
 * An AWS failure of the decision, without its message: an error about SendTaskSuccess may quote the
 * request, and so the task token. Its name, whether it is transient, and the AWS request id (to find
 * the call in CloudTrail) are kept; the common handling answers 503 or 500 and logs it.
 */
function withheld(err: unknown): Error {
  const name = err instanceof Error ? err.name : 'Error';
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  const requestId = (cause as { $metadata?: { requestId?: unknown } } | null)?.$metadata?.requestId;
  const detail = `${typeof requestId === 'string' ? `AWS request id ${requestId}; ` : ''}message withheld: the call carried the approval's task token`;
  if (isTransient(err) || err instanceof TransientAwsError) {
    const causeName = cause instanceof Error ? cause.name : name;
    return new TransientAwsError(`${causeName} (${detail})`);
  }
  const out = new Error(`${name} (${detail})`);
  out.name = name;
  return out;
}

/**
 * Approve or deny a response waiting at the approval gate, as the caller: the same
 * `submitApprovalDecision` as `cordon approve|deny`, with `decidedBy` = the SigV4 caller.
 * Answers 200 with what was decided; a refusal is a 4xx with the gate's reason, and nothing changed.
 */
export async function decideApproval(rawId: string | undefined, body: unknown, caller: string, deps: ApiDeps): Promise<ApiResult> {
  const idCheck = parseId(rawId);
  if ('failure' in idCheck) return idCheck.failure;
  const { id } = idCheck;
  const parsed = ApprovalBody.safeParse(body);
  if (!parsed.success) return invalidBody(parsed.error);
  const { decision, reason } = parsed.data;

  let result;
  try {
    result = await submitApprovalDecision(
      { ddb: deps.ddb, sfn: deps.sfn, table: deps.config.ledgerTable },
      { responseId: id, decision, reason, decidedBy: caller },
      (deps.now ?? (() => new Date()))(),
    );
  } catch (err) {
    const refusal = err instanceof CordonError ? APPROVAL_REFUSALS[err.name] : undefined;
    if (!refusal) throw withheld(err);
    return failure(refusal.statusCode, refusal.error, err instanceof Error ? err.message : String(err));
  }
  deps.log.info('api: approval decided', {
    responseId: result.responseId,
    incidentId: result.incidentId,
    decision: result.decision,
    decidedBy: result.decidedBy,
    decidedAt: result.decidedAt,
    executionArn: result.executionArn,
  });
  return {
    statusCode: 200,
    body: {
      responseId: result.responseId,
      incidentId: result.incidentId,
      decision: result.decision,
      approved: result.approved,
      decidedBy: result.decidedBy,
      reason: result.reason,
      decidedAt: result.decidedAt,
      executionArn: result.executionArn,
    },
  };
}
