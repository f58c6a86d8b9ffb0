/** `POST /v1/responses`: start a response (202 `{responseId, executionArn}`). */
import { randomUUID } from 'node:crypto';
import { decideAll } from '../../intake/decide';
import { failure, invalidBody, StartResponseBody, type ApiDeps, type ApiResult } from '../contract';
import { startExecution } from '../executions';

/**
 * Validate the body, build the `ResponseRequest` (source `api`, a fresh id, the caller as
 * `requestedBy`), judge it as intake does, and start the response workflow.
 */
export async function startResponse(body: unknown, caller: string, deps: ApiDeps): Promise<ApiResult> {
  const parsed = StartResponseBody.safeParse(body);
  if (!parsed.success) return invalidBody(parsed.error);
  const { instanceId, accountId, region, reason, actions } = parsed.data;

  const requestId = (deps.newId ?? randomUUID)();
  const decisions = decideAll(
    {
      requestId,
      source: 'api',
      target: { accountId, region, instanceId },
      ...(actions ? { actions } : {}),
      reason,
      requestedBy: caller,
    },
    deps.config.policy,
  );
  const [decision] = decisions;
  if (!decision || decisions.length !== 1) {
    throw new Error(`decideAll returned ${decisions.length} decisions for one API request`);
  }
  // The body passed the same field schemas the decision uses, so a reject here is the policy's.
  if (decision.decision === 'reject') return failure(422, 'REQUEST_REFUSED', decision.reason);
  if (decision.decision === 'ignore') return failure(422, 'REQUEST_IGNORED', decision.reason);

  const { stateMachineArn, executionArn } = await startExecution(
    deps,
    deps.config.responseStateMachineArn,
    requestId,
    decision.request,
  );
  deps.log.info('api: response started', {
    responseId: requestId,
    stateMachineArn,
    executionArn,
    requestedBy: caller,
    target: decision.target,
    actions: decision.actions,
  });
  return { statusCode: 202, body: { responseId: requestId, executionArn } };
}
