/**
 * The API's contract at the edge (docs/openapi.yaml): the request models API Gateway validates bodies
 * against, the `{error, message}` body of the gateway's own errors, and the access log line.
 * lib/constructs/api.ts builds the REST API from them.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ACTIONS, ApprovalDecision, MAX_TEXT } from '../../lambdas/shared/schemas';

// ---------------------------------------------------------------------------
// Request models (API Gateway validates bodies against these at the edge; the function's zod
// schemas in lambdas/api/api.ts check the same rules again; docs/openapi.yaml states them).
// ---------------------------------------------------------------------------

const REASON: apigw.JsonSchema = {
  type: apigw.JsonSchemaType.STRING,
  minLength: 1,
  maxLength: MAX_TEXT,
  // No control characters but tab and newline (the shared `Text` rule).
  pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$',
};

/** Body of `POST /v1/responses`. */
export const START_RESPONSE_MODEL: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'StartResponse',
  type: apigw.JsonSchemaType.OBJECT,
  additionalProperties: false,
  required: ['instanceId', 'accountId', 'region', 'reason'],
  properties: {
    instanceId: { type: apigw.JsonSchemaType.STRING, pattern: '^i-([0-9a-f]{8}|[0-9a-f]{17})$' },
    accountId: { type: apigw.JsonSchemaType.STRING, pattern: '^[0-9]{12}$' },
    region: { type: apigw.JsonSchemaType.STRING, pattern: '^[a-z]{2}(-(gov|iso[a-z]?))?-[a-z]+-[0-9]{1,2}$' },
    reason: REASON,
    actions: {
      type: apigw.JsonSchemaType.ARRAY,
      minItems: 1,
      maxItems: ACTIONS.length,
      uniqueItems: true,
      items: { type: apigw.JsonSchemaType.STRING, enum: [...ACTIONS] },
    },
  },
};

/** Body of `POST /v1/responses/{id}/release`. */
export const RELEASE_MODEL: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'ReleaseResponse',
  type: apigw.JsonSchemaType.OBJECT,
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: REASON },
};

/** Body of `POST /v1/responses/{id}/approval`. Who decides comes from the signature, never the body. */
export const APPROVAL_MODEL: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'ApprovalDecision',
  type: apigw.JsonSchemaType.OBJECT,
  additionalProperties: false,
  required: ['decision', 'reason'],
  properties: {
    decision: { type: apigw.JsonSchemaType.STRING, enum: [...ApprovalDecision.shape.decision.options] },
    reason: REASON,
  },
};

/**
 * One JSON object per request in the access log: who called (the SigV4 identity), what, and
 * how it ended. Only values API Gateway produces; no body, header or path value a caller chose
 * (the path's id is left out: `resourcePath` is the route template).
 */
export const ACCESS_LOG_FORMAT = `{${[
  `"requestId":"${apigw.AccessLogField.contextRequestId()}"`,
  `"extendedRequestId":"${apigw.AccessLogField.contextExtendedRequestId()}"`,
  `"requestTime":"${apigw.AccessLogField.contextRequestTime()}"`,
  `"httpMethod":"${apigw.AccessLogField.contextHttpMethod()}"`,
  `"resourcePath":"${apigw.AccessLogField.contextResourcePath()}"`,
  `"stage":"${apigw.AccessLogField.contextStage()}"`,
  `"status":"${apigw.AccessLogField.contextStatus()}"`,
  `"responseLength":"${apigw.AccessLogField.contextResponseLength()}"`,
  `"responseLatency":"${apigw.AccessLogField.contextResponseLatency()}"`,
  `"integrationStatus":"${apigw.AccessLogField.contextIntegrationStatus()}"`,
  `"integrationLatency":"${apigw.AccessLogField.contextIntegrationLatency()}"`,
  `"sourceIp":"${apigw.AccessLogField.contextIdentitySourceIp()}"`,
  `"callerAccountId":"${apigw.AccessLogField.contextIdentityAccountId()}"`,
  `"caller":"${apigw.AccessLogField.contextIdentityCaller()}"`,
  `"userArn":"${apigw.AccessLogField.contextIdentityUserArn()}"`,
  `"principalOrgId":"${apigw.AccessLogField.contextIdentityPrincipalOrgId()}"`,
  `"errorType":"${apigw.AccessLogField.contextErrorResponseType()}"`,
  `"errorMessage":"${apigw.AccessLogField.contextErrorMessage()}"`,
  `"xrayTraceId":"${apigw.AccessLogField.contextXrayTraceId()}"`,
].join(',')}}`;

/** The `{error, message}` body of every API Gateway error, as the function's own errors have it. */
export function errorTemplate(message: string): Record<string, string> {
  return { 'application/json': `{"error":"$context.error.responseType","message":${message}}` };
}
