/**
 * The HTTPS API for SOAR platforms (docs/design.md §2.4): API Gateway REST with IAM (SigV4)
 * auth and a Lambda proxy integration. The routes (docs/openapi.yaml is their contract):
 *
 *   POST /v1/responses                 start a response      202 {responseId, executionArn}
 *   GET  /v1/responses/{id}            its status, actions and evidence
 *   POST /v1/responses/{id}/release    start a release       202 {releaseId, responseId, executionArn}
 *   POST /v1/responses/{id}/approval   approve or deny       200 {responseId, incidentId, decision, approved, …}
 *
 * A started response is an ordinary `ResponseRequest` with source `api`: the same decision
 * (intake's `decideAll`, with intake's policy) and the same response workflow as every other
 * entry point. Who asked (and who decided an approval) is the SigV4 caller API Gateway
 * authenticated (`requestContext.identity.userArn`), never anything in the body.
 *
 * Status codes, each with a `{error, message}` body whose `error` is a stable code:
 * - 400 `INVALID_REQUEST`: a malformed body or id (API Gateway's model already checks bodies;
 *   this is the same check again, with a reason per field);
 * - 403 `FORBIDDEN`: no IAM caller identity in the request context (never with IAM auth on);
 * - 404 `NOT_FOUND`: no response has that id;
 * - 409 `NOT_RELEASABLE`: the release pre-check failed (not contained, no before-state, still running);
 * - 409 `NOT_PENDING`, `ALREADY_DECIDED`, `EXPIRED`, `TASK_CLOSED`: the approval gate refused the
 *   decision (docs/approval.md; nothing was changed);
 * - 413 `PAYLOAD_TOO_LARGE`, 415 `UNSUPPORTED_MEDIA_TYPE`;
 * - 422 `REQUEST_REFUSED`: a well-formed request intake's policy refuses (the account or region
 *   is not managed by cordon); 422 `REQUEST_IGNORED`: one it would ignore;
 * - 503 `SERVICE_UNAVAILABLE`: Step Functions or DynamoDB throttled or failed transiently; retry;
 * - 500 `INTERNAL_ERROR`: anything else, with the request id to find it in the function's log.
 *
 * Logs name the route, the caller, the ids and the outcome; never a request body. An approval's
 * task token never leaves `submitApprovalDecision`: no answer or log line carries it.
 *
 * Layout: contract.ts (routes, bodies, error codes and their mapping, reading a request),
 * routes/ (one file per route), views.ts (what GET returns), executions.ts (the Step Functions
 * calls). This file is the router: it answers every event, logs it, and maps what a route threw.
 */
import { cleanReason } from '../intake/decide';
import { errorSummary } from '../shared/errors';
import { describeZodError } from '../shared/schemas';
import {
  ApiEvent,
  callerOf,
  failure,
  readJsonBody,
  ROUTES,
  unexpectedFailure,
  type ApiDeps,
  type ApiResult,
} from './contract';
import { decideApproval } from './routes/approval';
import { getResponse } from './routes/get';
import { startRelease } from './routes/release';
import { startResponse } from './routes/start';
import { pick } from './views';

export {
  ApiEvent,
  APPROVAL_REFUSALS,
  ApprovalBody,
  CallerArn,
  callerOf,
  MAX_BODY_BYTES,
  ReleaseBody,
  ROUTES,
  StartResponseBody,
  toProxyResult,
  type ApiConfig,
  type ApiDeps,
  type ApiResult,
  type ErrorCode,
} from './contract';
export { decideApproval } from './routes/approval';
export { getResponse } from './routes/get';
export { RELEASABLE_STATUSES, startRelease } from './routes/release';
export { startResponse } from './routes/start';
export type { ResponseStatus } from './views';

/**
 * Serve one API Gateway proxy event. Never throws: every outcome, an AWS failure included,
 * is an HTTP answer with a code and a reason.
 */
export async function handleApiEvent(raw: unknown, deps: ApiDeps): Promise<ApiResult> {
  const parsedEvent = ApiEvent.safeParse(raw);
  if (!parsedEvent.success) {
    deps.log.error('api: not an API Gateway proxy event', { reason: cleanReason(describeZodError(parsedEvent.error)) });
    return failure(500, 'INTERNAL_ERROR', 'the function was invoked with something other than an API Gateway proxy event');
  }
  const event = parsedEvent.data;
  const route = `${event.httpMethod} ${event.resource}`;
  const apiRequestId = event.requestContext.requestId ?? 'unknown';
  const caller = callerOf(event);

  let result: ApiResult;
  try {
    result = caller
      ? await dispatch(route, event, caller, deps)
      : failure(403, 'FORBIDDEN', 'requestContext.identity.userArn: no IAM caller identity; sign the request with SigV4');
  } catch (err) {
    deps.log.error('api: request failed', { route, caller, apiRequestId, ...errorSummary(err) });
    result = unexpectedFailure(err, apiRequestId);
  }
  const level = result.statusCode >= 500 ? 'error' : result.statusCode >= 400 ? 'warn' : 'info';
  deps.log[level]('api: answered', {
    route,
    caller: caller ?? null,
    apiRequestId,
    statusCode: result.statusCode,
    ...(typeof result.body.error === 'string' ? { error: result.body.error, message: result.body.message } : {}),
    ...pick(result.body, ['responseId', 'releaseId', 'decision', 'executionArn']),
  });
  return result;
}

async function dispatch(route: string, event: ApiEvent, caller: string, deps: ApiDeps): Promise<ApiResult> {
  const id = event.pathParameters?.id;
  switch (route) {
    case ROUTES.start: {
      const body = readJsonBody(event);
      return 'failure' in body ? body.failure : startResponse(body.value, caller, deps);
    }
    case ROUTES.get:
      return getResponse(id, deps);
    case ROUTES.release: {
      const body = readJsonBody(event);
      return 'failure' in body ? body.failure : startRelease(id, body.value, caller, deps);
    }
    case ROUTES.approval: {
      const body = readJsonBody(event);
      return 'failure' in body ? body.failure : decideApproval(id, body.value, caller, deps);
    }
    default:
      return failure(404, 'NOT_FOUND', `${route}: no such route; see docs/openapi.yaml`);
  }
}
