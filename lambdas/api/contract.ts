/**
 * What the HTTPS API accepts and answers (docs/openapi.yaml is the published contract): the
 * routes, the request bodies (zod, checked again after API Gateway's models), the event fields
 * the function reads, the error codes and how failures map to them, and the reading of a
 * request's body and path id. No AWS calls.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { cleanReason, type IntakePolicy } from '../intake/decide';
import { errorSummary, isTransient, TransientAwsError } from '../shared/errors';
import type { Log } from '../shared/handler';
import {
  AccountId,
  ApprovalDecision,
  describeZodError,
  InstanceId,
  MAX_TEXT,
  Region,
  RequestId,
  ResponseRequest,
  Text,
} from '../shared/schemas';

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
// Errors
// ---------------------------------------------------------------------------

/** An error answer: `{error, message}`, the message cleaned and bounded like every reason. */
export function failure(statusCode: number, error: ErrorCode, message: string): ApiResult {
  return { statusCode, body: { error, message: cleanReason(message) } };
}

export function invalidBody(error: z.ZodError): ApiResult {
  return failure(400, 'INVALID_REQUEST', describeZodError(error));
}

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
 * The answer to an error a route threw: 503 (with Retry-After) when AWS throttled or failed
 * transiently, else 500 naming the API request id to find it in the function's log.
 */
export function unexpectedFailure(err: unknown, apiRequestId: string): ApiResult {
  const summary = errorSummary(err);
  return isTransient(err) || err instanceof TransientAwsError
    ? {
        ...failure(503, 'SERVICE_UNAVAILABLE', `${summary.error}: AWS throttled or failed transiently; retry with backoff`),
        headers: { 'Retry-After': '2' },
      }
    : failure(500, 'INTERNAL_ERROR', `the request failed (${summary.error}); API request id ${apiRequestId}`);
}

// ---------------------------------------------------------------------------
// Reading a request
// ---------------------------------------------------------------------------

/** The caller's identity, or undefined when API Gateway reported none (IAM auth off, or a test invoke). */
export function callerOf(event: ApiEvent): string | undefined {
  const parsed = CallerArn.safeParse(event.requestContext.identity?.userArn);
  return parsed.success ? parsed.data : undefined;
}

function header(event: ApiEvent, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return entry?.[1];
}

/**
 * The body as JSON. API Gateway validated it against the model only if it was sent as
 * `application/json` (or with no Content-Type): anything else is refused rather than read.
 */
export function readJsonBody(event: ApiEvent): { value: unknown } | { failure: ApiResult } {
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

/** The `{id}` path parameter, a response id. */
export function parseId(id: string | undefined): { id: string } | { failure: ApiResult } {
  const parsed = RequestId.safeParse(id);
  if (parsed.success) return { id: parsed.data };
  return { failure: failure(400, 'INVALID_REQUEST', `id: ${parsed.error.issues[0]?.message ?? 'invalid'}`) };
}

/** The API Gateway proxy integration's answer: JSON, never cached. */
export function toProxyResult(result: ApiResult): { statusCode: number; headers: Record<string, string>; body: string } {
  return {
    statusCode: result.statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...result.headers },
    body: JSON.stringify(result.body),
  };
}
