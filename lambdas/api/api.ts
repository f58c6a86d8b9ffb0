/**
 * The HTTPS API for SOAR platforms (DESIGN.md §2.4): API Gateway REST with IAM (SigV4)
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
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { cleanReason, decideAll, type IntakePolicy } from '../intake/decide';
import { submitApprovalDecision, withoutTaskToken } from '../shared/approval';
import { CordonError, errorSummary, isTransient, TransientAwsError } from '../shared/errors';
import { executionArnFor, executionName } from '../shared/executions';
import type { Log } from '../shared/handler';
import { findResponse, INCIDENT_SK } from '../shared/ledger';
import {
  AccountId,
  ApprovalDecision,
  describeZodError,
  InstanceId,
  MAX_TEXT,
  Region,
  ReleaseRequest,
  RequestId,
  ResponseRequest,
  Text,
} from '../shared/schemas';

// ---------------------------------------------------------------------------
// Contract
// ---------------------------------------------------------------------------

/** The four routes, as API Gateway names them (`<method> <resource>`). */
export const ROUTES = {
  start: 'POST /v1/responses',
  get: 'GET /v1/responses/{id}',
  release: 'POST /v1/responses/{id}/release',
  approval: 'POST /v1/responses/{id}/approval',
} as const;

/** Largest body the function reads. The models bound every field, so a real request is far smaller. */
export const MAX_BODY_BYTES = 16 * 1024;

/** `POST /v1/responses`. `actions` omitted: all four (the `ResponseRequest` default). */
export const StartResponseBody = z.strictObject({
  instanceId: InstanceId,
  accountId: AccountId,
  region: Region,
  reason: Text,
  // The ResponseRequest's own rule (1–4 distinct actions), without its default: omitted stays omitted.
  actions: ResponseRequest.shape.actions.unwrap().optional(),
});
export type StartResponseBody = z.infer<typeof StartResponseBody>;

/** `POST /v1/responses/{id}/release`. */
export const ReleaseBody = z.strictObject({ reason: Text });
export type ReleaseBody = z.infer<typeof ReleaseBody>;

/** `POST /v1/responses/{id}/approval`: the shared `ApprovalDecision` without what the path and the signature give. */
export const ApprovalBody = z.strictObject({ decision: ApprovalDecision.shape.decision, reason: Text });
export type ApprovalBody = z.infer<typeof ApprovalBody>;

/**
 * The SigV4 caller as API Gateway reports it: an IAM user, an assumed-role session or a root ARN.
 * It becomes `requestedBy`, so it must also be valid `Text`.
 */
export const CallerArn = z
  .string()
  .max(MAX_TEXT)
  .regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/:-]+$/, 'must be an IAM or STS principal ARN');

/** Incident states a release may start from. */
export const RELEASABLE_STATUSES: readonly string[] = ['contained', 'partially-contained'];

/** The parts of an API Gateway (REST, proxy integration) event the API reads. */
export const ApiEvent = z.looseObject({
  httpMethod: z.string().max(16),
  resource: z.string().max(256),
  pathParameters: z.record(z.string(), z.string()).nullish(),
  headers: z.record(z.string(), z.string().optional()).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().nullish(),
  requestContext: z.looseObject({
    requestId: z.string().max(128).optional(),
    identity: z.looseObject({ userArn: z.string().nullish() }).optional(),
  }),
});
export type ApiEvent = z.infer<typeof ApiEvent>;

export interface ApiConfig {
  readonly responseStateMachineArn: string;
  readonly releaseStateMachineArn: string;
  readonly ledgerTable: string;
  /** Intake's policy (the same `INTAKE_POLICY`): account and region scope apply to API requests too. */
  readonly policy: IntakePolicy;
}

export interface ApiDeps {
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly config: ApiConfig;
  readonly log: Log;
  /**
   * Fresh ids for responses and releases.
   * @default randomUUID
   */
  readonly newId?: () => string;
  /**
   * The time an approval decision is taken at (and checked against its expiry).
   * @default () => new Date()
   */
  readonly now?: () => Date;
}

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'NOT_RELEASABLE'
  | 'NOT_PENDING'
  | 'ALREADY_DECIDED'
  | 'EXPIRED'
  | 'TASK_CLOSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'REQUEST_REFUSED'
  | 'REQUEST_IGNORED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

export interface ApiResult {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------
// Entry
// ---------------------------------------------------------------------------

function failure(statusCode: number, error: ErrorCode, message: string): ApiResult {
  return { statusCode, body: { error, message: cleanReason(message) } };
}

/** The caller's identity, or undefined when API Gateway reported none (IAM auth off, or a test invoke). */
export function callerOf(event: ApiEvent): string | undefined {
  const parsed = CallerArn.safeParse(event.requestContext.identity?.userArn);
  return parsed.success ? parsed.data : undefined;
}

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
    const summary = errorSummary(err);
    deps.log.error('api: request failed', { route, caller, apiRequestId, ...summary });
    result = isTransient(err) || err instanceof TransientAwsError
      ? {
          ...failure(503, 'SERVICE_UNAVAILABLE', `${summary.error}: AWS throttled or failed transiently; retry with backoff`),
          headers: { 'Retry-After': '2' },
        }
      : failure(500, 'INTERNAL_ERROR', `the request failed (${summary.error}); API request id ${apiRequestId}`);
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

function header(event: ApiEvent, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return entry?.[1];
}

/**
 * The body as JSON. API Gateway validated it against the model only if it was sent as
 * `application/json` (or with no Content-Type): anything else is refused rather than read.
 */
function readJsonBody(event: ApiEvent): { value: unknown } | { failure: ApiResult } {
  const contentType = header(event, 'content-type');
  if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
    return { failure: failure(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type: must be application/json') };
  }
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    return { failure: failure(413, 'PAYLOAD_TOO_LARGE', `body: larger than ${MAX_BODY_BYTES} bytes`) };
  }
  if (text.trim() === '') return { failure: failure(400, 'INVALID_REQUEST', 'body: required, a JSON object') };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { failure: failure(400, 'INVALID_REQUEST', 'body: is not valid JSON') };
  }
}

function parseId(id: string | undefined): { id: string } | { failure: ApiResult } {
  const parsed = RequestId.safeParse(id);
  if (parsed.success) return { id: parsed.data };
  return { failure: failure(400, 'INVALID_REQUEST', `id: ${parsed.error.issues[0]?.message ?? 'invalid'}`) };
}

function invalidBody(error: z.ZodError): ApiResult {
  return failure(400, 'INVALID_REQUEST', describeZodError(error));
}

// ---------------------------------------------------------------------------
// POST /v1/responses
// ---------------------------------------------------------------------------

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

  const { stateMachineArn, executionArn } = await start(
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

async function start(
  deps: ApiDeps,
  stateMachineArn: string,
  id: string,
  input: ResponseRequest | ReleaseRequest,
): Promise<{ stateMachineArn: string; executionArn: string }> {
  const name = executionName(id);
  const out = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  const executionArn = out.executionArn ?? executionArnFor(stateMachineArn, name);
  if (!executionArn) throw new Error(`StartExecution on ${stateMachineArn} returned no execution ARN`);
  return { stateMachineArn, executionArn };
}

// ---------------------------------------------------------------------------
// GET /v1/responses/{id}
// ---------------------------------------------------------------------------

/** Lower-case, hyphenated Step Functions execution status; `unknown` once its history has expired. */
export type ResponseStatus = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'aborted' | 'pending-redrive' | 'unknown';

function statusOf(execution: DescribeExecutionCommandOutput | undefined): ResponseStatus {
  const status = execution?.status;
  if (!status) return 'unknown';
  return status.toLowerCase().replace(/_/g, '-') as ResponseStatus;
}

/** DescribeExecution of the response's execution; undefined when there is none (or its history expired). */
async function describeExecution(
  deps: ApiDeps,
  stateMachineArn: string,
  id: string,
): Promise<DescribeExecutionCommandOutput | undefined> {
  const executionArn = executionArnFor(stateMachineArn, executionName(id));
  if (!executionArn) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  try {
    return await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if ((err as { name?: unknown }).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

function executionView(execution: DescribeExecutionCommandOutput | undefined): Record<string, unknown> | null {
  if (!execution?.executionArn) return null;
  return {
    executionArn: execution.executionArn,
    status: execution.status ?? null,
    startDate: execution.startDate?.toISOString() ?? null,
    stopDate: execution.stopDate?.toISOString() ?? null,
  };
}

function pick(source: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!source || typeof source !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (source as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const REQUEST_FIELDS = ['source', 'target', 'finding', 'actions', 'reason', 'requestedBy'] as const;

/** What GET shows of a response's approval (docs/approval.md): named fields only, never its task token. */
const APPROVAL_FIELDS = [
  'status',
  'requestedAt',
  'expiresAt',
  'matchedTag',
  'timeoutSeconds',
  'onTimeout',
  'actions',
  'decision',
  'decidedBy',
  'reason',
  'decidedAt',
  'applied',
  'closedAt',
] as const;

/** The approval gate's entry on a RESPONSE item, without its task token; null when no approval was asked. */
function approvalView(item: Record<string, unknown>): Record<string, unknown> | null {
  const { approval } = withoutTaskToken(item);
  if (!approval || typeof approval !== 'object') return null;
  return pick(approval, APPROVAL_FIELDS);
}

/**
 * The response as the ledger records it (its RESPONSE item and its incident's status) and
 * as Step Functions runs it. A response started a moment ago is not in the `byResponseId`
 * index yet: its execution alone answers (`running`, with the request it was started with).
 */
export async function getResponse(rawId: string | undefined, deps: ApiDeps): Promise<ApiResult> {
  const idCheck = parseId(rawId);
  if ('failure' in idCheck) return idCheck.failure;
  const { id } = idCheck;
  const { config, ddb } = deps;

  const [found, execution] = await Promise.all([
    findResponse(ddb, config.ledgerTable, id),
    describeExecution(deps, config.responseStateMachineArn, id),
  ]);

  if (!found) {
    if (!execution) return failure(404, 'NOT_FOUND', `id: no response ${id}`);
    const request = ResponseRequest.safeParse(parseJson(execution.input));
    return {
      statusCode: 200,
      body: {
        responseId: id,
        status: statusOf(execution),
        recorded: false,
        outcome: null,
        summary: null,
        incident: null,
        request: request.success ? pick(request.data, REQUEST_FIELDS) : null,
        approval: null,
        actions: [],
        failures: [],
        evidence: {},
        snapshotIds: [],
        execution: executionView(execution),
      },
    };
  }

  const { incidentId, item } = found;
  const incident = await ddb.send(new GetCommand({ TableName: config.ledgerTable, Key: { pk: incidentId, sk: INCIDENT_SK } }));
  return {
    statusCode: 200,
    body: {
      responseId: id,
      status: statusOf(execution),
      recorded: true,
      outcome: item.outcome ?? null,
      summary: item.summary ?? null,
      incident: { incidentId, status: incident.Item?.status ?? null },
      request: pick(item.request, REQUEST_FIELDS),
      approval: approvalView(item),
      actions: Array.isArray(item.actions) ? item.actions : [],
      failures: Array.isArray(item.failures) ? item.failures : [],
      evidence: item.evidence && typeof item.evidence === 'object' ? item.evidence : {},
      snapshotIds: Array.isArray(item.snapshotIds) ? item.snapshotIds : [],
      startedAt: item.startedAt ?? null,
      recordedAt: item.recordedAt ?? null,
      execution: executionView(execution),
    },
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// POST /v1/responses/{id}/release
// ---------------------------------------------------------------------------

/**
 * Pre-check the incident (contained or partially contained, with the before-state release
 * restores), then start the release workflow with a `ReleaseRequest`. The release workflow
 * checks again under its own conditions: this answers the caller early and plainly.
 */
export async function startRelease(rawId: string | undefined, body: unknown, caller: string, deps: ApiDeps): Promise<ApiResult> {
  const idCheck = parseId(rawId);
  if ('failure' in idCheck) return idCheck.failure;
  const { id } = idCheck;
  const parsed = ReleaseBody.safeParse(body);
  if (!parsed.success) return invalidBody(parsed.error);
  const { config, ddb } = deps;

  const found = await findResponse(ddb, config.ledgerTable, id);
  if (!found) {
    const execution = await describeExecution(deps, config.responseStateMachineArn, id);
    if (!execution) return failure(404, 'NOT_FOUND', `id: no response ${id}`);
    return failure(
      409,
      'NOT_RELEASABLE',
      `response ${id} is ${statusOf(execution)} and not recorded in the ledger yet; release it once it has contained the instance`,
    );
  }

  const { incidentId } = found;
  const incident = (
    await ddb.send(new GetCommand({ TableName: config.ledgerTable, Key: { pk: incidentId, sk: INCIDENT_SK }, ConsistentRead: true }))
  ).Item;
  const status = typeof incident?.status === 'string' ? incident.status : 'unrecorded';
  if (!RELEASABLE_STATUSES.includes(status)) {
    return failure(
      409,
      'NOT_RELEASABLE',
      `incident ${incidentId} is ${status}; only a contained or partially-contained instance can be released`,
    );
  }
  // The same sources, in the same order, as the release workflow (lambdas/release-load): the incident's
  // original before-state, else the response's own.
  const beforeStateKey = [incident?.originalBeforeStateKey, found.item.restoreFrom].find((k) => typeof k === 'string' && k !== '');
  if (beforeStateKey === undefined) {
    return failure(
      409,
      'NOT_RELEASABLE',
      `neither incident ${incidentId} (originalBeforeStateKey) nor response ${id} (restoreFrom) names a before-state: there is nothing to restore from`,
    );
  }

  const releaseId = (deps.newId ?? randomUUID)();
  const request = ReleaseRequest.parse({ releaseId, responseId: id, source: 'api', reason: parsed.data.reason, requestedBy: caller });
  const { stateMachineArn, executionArn } = await start(deps, config.releaseStateMachineArn, releaseId, request);
  deps.log.info('api: release started', { releaseId, responseId: id, incidentId, stateMachineArn, executionArn, requestedBy: caller });
  return { statusCode: 202, body: { releaseId, responseId: id, executionArn } };
}

// ---------------------------------------------------------------------------
// POST /v1/responses/{id}/approval
// ---------------------------------------------------------------------------

/**
 * How each refusal of `submitApprovalDecision` is answered (docs/approval.md): matched on the error's
 * name, as Step Functions matches them. Anything else (TransientAwsError included) goes to the
 * common handling: 503 for a transient AWS failure, 500 otherwise.
 */
export const APPROVAL_REFUSALS: Readonly<Record<string, { statusCode: number; error: ErrorCode }>> = {
  InvalidRequestError: { statusCode: 400, error: 'INVALID_REQUEST' },
  ResponseNotFoundError: { statusCode: 404, error: 'NOT_FOUND' },
  ApprovalNotPendingError: { statusCode: 409, error: 'NOT_PENDING' },
  ApprovalAlreadyDecidedError: { statusCode: 409, error: 'ALREADY_DECIDED' },
  ApprovalExpiredError: { statusCode: 409, error: 'EXPIRED' },
  ApprovalTaskClosedError: { statusCode: 409, error: 'TASK_CLOSED' },
};

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

// ---------------------------------------------------------------------------
// Proxy result
// ---------------------------------------------------------------------------

/** The API Gateway proxy integration's answer: JSON, never cached. */
export function toProxyResult(result: ApiResult): { statusCode: number; headers: Record<string, string>; body: string } {
  return {
    statusCode: result.statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...result.headers },
    body: JSON.stringify(result.body),
  };
}
