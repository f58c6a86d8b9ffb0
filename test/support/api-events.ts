/** API Gateway REST proxy events as IAM (SigV4) auth delivers them, for the API function's tests. */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The signing principal every event carries unless told otherwise. */
export const CALLER = 'arn:aws:sts::111122223333:assumed-role/SoarPlatform/soar-run-42';

export interface EventOptions {
  readonly id?: string;
  /** An object is sent as JSON; a string as it is. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** null: no caller identity in the context. */
  readonly userArn?: string | null;
  readonly base64?: boolean;
}

/** An API Gateway REST proxy event as IAM auth delivers it. */
export function proxyEvent(method: 'GET' | 'POST', resource: string, options: EventOptions = {}): APIGatewayProxyEvent {
  const id = options.id;
  const path = resource.replace('{id}', encodeURIComponent(id ?? ''));
  const text =
    options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return {
    resource,
    path,
    httpMethod: method,
    headers: options.headers ?? (text === null ? {} : { 'Content-Type': 'application/json' }),
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: id === undefined ? null : { id },
    stageVariables: null,
    body: text !== null && options.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'a1b2c3d4e5',
      authorizer: null,
      httpMethod: method,
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: 'c0ffee00-1111-2222-3333-444455556666',
      requestTimeEpoch: 0,
      resourceId: 'abc123',
      resourcePath: resource,
      stage: 'prod',
      identity: {
        accessKey: 'ASIAEXAMPLEEXAMPLE',
        accountId: '111122223333',
        apiKey: null,
        apiKeyId: null,
        caller: 'AROAEXAMPLEEXAMPLE:soar-run-42',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.10',
        user: 'AROAEXAMPLEEXAMPLE:soar-run-42',
        userAgent: 'soar/1.0',
        userArn: options.userArn === undefined ? CALLER : options.userArn,
      },
    },
  } as APIGatewayProxyEvent;
}
