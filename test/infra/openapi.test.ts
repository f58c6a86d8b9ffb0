/**
 * docs/openapi.yaml is the API's contract. It must be a valid OpenAPI 3 document, describe
 * exactly the routes CordonApi deploys with the same auth and the same request models, and
 * describe what the function really answers: every body the function returns in the cases
 * below validates against the document's schema for that operation and status code.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import Ajv from 'ajv';
import { mockClient } from 'aws-sdk-client-mock';
import type { OpenAPIV3 } from 'openapi-types';
import { handleApiEvent, type ApiDeps } from '../../lambdas/api/api';
import { IntakePolicy } from '../../lambdas/intake/decide';
import { CALLER, proxyEvent, type EventOptions } from '../support/api-events';
import { FAKE_CREDENTIALS, awsError } from '../support/clients';
import { buildApiStack, routesOf, type ApiStack, type Resource } from './api-stack';
import { ROOT } from './synth';

const DOC = path.join(ROOT, 'docs', 'openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

let doc: OpenAPIV3.Document;
let raw: OpenAPIV3.Document;
let built: ApiStack;

/**
 * @apidevtools/swagger-parser in a child Node process: its parser is an ES module, which Node
 * loads from CommonJS but Jest's module runtime does not. `validate` checks the document against
 * the OpenAPI schema and resolves every $ref; the answer is the dereferenced document.
 */
function swaggerParser(verb: 'parse' | 'validate', file: string): { doc?: OpenAPIV3.Document; error?: string } {
  const script =
    `require('@apidevtools/swagger-parser').${verb}(process.argv[1])` +
    '.then((d) => process.stdout.write(JSON.stringify(d)), (e) => { process.stderr.write(String(e.message)); process.exit(3); })';
  const run = spawnSync(process.execPath, ['-e', script, file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) return { error: run.stderr || `exit ${String(run.status)}` };
  return { doc: JSON.parse(run.stdout) as OpenAPIV3.Document };
}

beforeAll(() => {
  const parsed = swaggerParser('parse', DOC);
  const validated = swaggerParser('validate', DOC);
  if (!parsed.doc || !validated.doc) throw new Error(`docs/openapi.yaml: ${parsed.error ?? validated.error ?? ''}`);
  raw = parsed.doc;
  doc = validated.doc;
  built = buildApiStack();
});

function operations(d: OpenAPIV3.Document): { route: string; op: OpenAPIV3.OperationObject; item: OpenAPIV3.PathItemObject }[] {
  return Object.entries(d.paths).flatMap(([p, item]) =>
    METHODS.filter((m) => item?.[m]).map((m) => ({ route: `${m.toUpperCase()} ${p}`, op: item![m]!, item: item! })),
  );
}

/** A schema without what only documents it. */
function bare(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(bare);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (['description', 'example', 'title', '$schema'].includes(k)) continue;
    out[k] = bare(v);
  }
  return out;
}

describe('docs/openapi.yaml', () => {
  it('is a valid OpenAPI 3 document', () => {
    expect(raw.openapi).toMatch(/^3\./);
    expect(swaggerParser('validate', DOC).error).toBeUndefined();
  });

  it('(the validator does fail an invalid document)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cordon-openapi-'));
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(DOC, 'utf8').replace("$ref: '#/components/schemas/StartResponse'", "$ref: '#/components/schemas/Nope'"));

    expect(swaggerParser('validate', broken).error).toMatch(/Nope/);
  });

  it('describes exactly the routes the construct deploys', () => {
    expect(operations(doc).map((o) => o.route).sort()).toEqual(routesOf(built).map((r) => r.route).sort());
  });

  it('requires SigV4 on every operation, as every deployed method requires AWS_IAM', () => {
    const scheme = doc.components?.securitySchemes?.sigv4 as OpenAPIV3.ApiKeySecurityScheme & Record<string, unknown>;
    expect(scheme).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' });
    expect(Object.keys(doc.components?.securitySchemes ?? {})).toEqual(['sigv4']);
    for (const { route, op } of operations(doc)) {
      expect({ route, security: op.security ?? doc.security }).toEqual({ route, security: [{ sigv4: [] }] });
    }
    for (const { route, method } of routesOf(built)) {
      expect({ route, auth: method.Properties.AuthorizationType }).toEqual({ route, auth: 'AWS_IAM' });
    }
  });

  it('states the same body rules as the request models API Gateway validates with', () => {
    const models = built.template.findResources('AWS::ApiGateway::Model') as Record<string, Resource>;
    const deployed = Object.fromEntries(routesOf(built).map((r) => [r.route, r.method.Properties]));
    const checked: string[] = [];
    for (const { route, op } of operations(doc)) {
      const body = (op.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content['application/json']?.schema;
      const modelRef = (deployed[route]?.RequestModels as Record<string, { Ref: string }> | undefined)?.['application/json']?.Ref;
      expect({ route, documented: body !== undefined }).toEqual({ route, documented: modelRef !== undefined });
      if (!body || !modelRef) continue;
      const model = models[modelRef]!.Properties.Schema as Record<string, unknown>;

      expect({ route, required: [...((body as OpenAPIV3.SchemaObject).required ?? [])].sort() }).toEqual({
        route,
        required: [...(model.required as string[])].sort(),
      });
      expect({ route, schema: bare(body) }).toEqual({ route, schema: bare(model) });
      expect((op.requestBody as OpenAPIV3.RequestBodyObject).required).toBe(true);
      checked.push(route);
    }
    expect(checked.sort()).toEqual(['POST /v1/responses', 'POST /v1/responses/{id}/approval', 'POST /v1/responses/{id}/release']);
  });

  it('requires the {id} path parameter wherever the construct does', () => {
    const deployed = Object.fromEntries(routesOf(built).map((r) => [r.route, r.method.Properties]));
    for (const { route, op, item } of operations(doc)) {
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])] as OpenAPIV3.ParameterObject[];
      const documented = params.filter((p) => p.in === 'path').map((p) => [p.name, p.required]);
      const required = Object.entries((deployed[route]?.RequestParameters ?? {}) as Record<string, boolean>)
        .filter(([k]) => k.startsWith('method.request.path.'))
        .map(([k, v]) => [k.replace('method.request.path.', ''), v]);
      expect({ route, documented }).toEqual({ route, documented: required });
    }
  });
});

// ---------------------------------------------------------------------------
// What the function answers is what the document says
// ---------------------------------------------------------------------------

describe('the function’s answers match the document', () => {
  const sfnMock = mockClient(SFNClient);
  const ddbMock = mockClient(DynamoDBDocumentClient);
  const ajv = new Ajv({ strict: false, allErrors: true }).addFormat(
    'date-time',
    (v: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
  );
  const RESPONSE_SM = 'arn:aws:states:us-east-1:111122223333:stateMachine:cordon-response';
  const RELEASE_SM = 'arn:aws:states:us-east-1:111122223333:stateMachine:cordon-release';
  const ID = '9d2f4b1a-7c3e-4e5f-a6b7-c8d9e0f1a2b3';
  const INCIDENT = 'inc-111122223333-us-east-1-i-0123456789abcdef0';
  const TARGET = { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' };
  const REQUEST = { requestId: ID, source: 'api', target: TARGET, actions: ['isolate'], reason: 'playbook', requestedBy: CALLER };
  const ITEM = {
    pk: INCIDENT,
    sk: `RESPONSE#${ID}`,
    responseId: ID,
    request: REQUEST,
    startedAt: '2026-03-02T09:10:00.000Z',
    outcome: 'partially-contained',
    summary: 'partially contained: quarantineRole failed',
    failures: [{ action: 'quarantineRole', error: 'AccessDenied', cause: 'iam:PutRolePolicy denied' }],
    actions: [
      { action: 'isolate', status: 'succeeded', detail: { interfaces: [] } },
      { action: 'quarantineRole', status: 'failed', detail: null },
    ],
    evidence: { beforeState: { bucket: 'evidence', key: `incidents/${INCIDENT}/before-state.json`, sha256: 'ab'.repeat(32), size: 10 } },
    snapshotIds: [],
    recordedAt: '2026-03-02T09:11:00.000Z',
  };

  function deps(policy: IntakePolicy = IntakePolicy.parse({})): ApiDeps {
    return {
      sfn: new SFNClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS }),
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS })),
      config: { responseStateMachineArn: RESPONSE_SM, releaseStateMachineArn: RELEASE_SM, ledgerTable: 'ledger', policy },
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      newId: () => '5f0c7a9e-2b1d-4c3e-8f6a-0d9e8c7b6a51',
      now: () => new Date('2026-03-02T09:20:00.000Z'),
    };
  }

  const PENDING = {
    status: 'pending',
    requestedAt: '2026-03-02T09:11:00.000Z',
    expiresAt: '2026-03-02T09:41:00.000Z',
    matchedTag: { key: 'env', value: 'production' },
    timeoutSeconds: 1800,
    onTimeout: 'approve',
    actions: ['protect', 'isolate', 'leaveTargetGroups', 'quarantineRole'],
    executionArn: `arn:aws:states:us-east-1:111122223333:execution:cordon-response:${ID}`,
    taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAAf-secret-task-token',
  };
  /** The response waits at the approval gate with this entry (found by byResponseId, read back consistently). */
  function gate(approval: Record<string, unknown> | undefined): void {
    ddbMock.on(QueryCommand).resolves({ Items: [{ pk: INCIDENT, sk: `RESPONSE#${ID}`, responseId: ID, approval }] });
    ddbMock.on(GetCommand).resolves({ Item: approval ? { approval } : {} });
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
  }

  function ledger(item: unknown, incident: unknown): void {
    ddbMock.on(QueryCommand).resolves({ Items: item ? [item as Record<string, unknown>] : [] });
    ddbMock.on(GetCommand).resolves({ Item: incident as Record<string, unknown> | undefined });
  }
  function execution(status: 'RUNNING' | 'FAILED' | undefined): void {
    if (!status) {
      sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
      return;
    }
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: `arn:aws:states:us-east-1:111122223333:execution:cordon-response:${ID}`,
      stateMachineArn: RESPONSE_SM,
      status,
      startDate: new Date('2026-03-02T09:10:00Z'),
      ...(status === 'RUNNING' ? {} : { stopDate: new Date('2026-03-02T09:12:00Z') }),
      input: JSON.stringify(REQUEST),
    });
  }

  beforeEach(() => {
    sfnMock.reset();
    ddbMock.reset();
    sfnMock.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
    }));
  });
  afterAll(() => {
    sfnMock.restore();
    ddbMock.restore();
  });

  const start = { instanceId: TARGET.instanceId, accountId: TARGET.accountId, region: TARGET.region, reason: 'playbook' };
  interface Case {
    readonly name: string;
    readonly method: 'GET' | 'POST';
    readonly resource: string;
    readonly options: EventOptions;
    readonly prepare?: () => void;
    readonly status: number;
    readonly policy?: IntakePolicy;
  }
  const cases: Case[] = [
    { name: 'a started response', method: 'POST', resource: '/v1/responses', options: { body: start }, status: 202 },
    { name: 'a malformed body', method: 'POST', resource: '/v1/responses', options: { body: { ...start, instanceId: 'x' } }, status: 400 },
    {
      name: 'a form-encoded body',
      method: 'POST',
      resource: '/v1/responses',
      options: { body: 'a=b', headers: { 'content-type': 'text/plain' } },
      status: 415,
    },
    { name: 'an unsigned call', method: 'POST', resource: '/v1/responses', options: { body: start, userArn: null }, status: 403 },
    {
      name: 'a target in an account cordon does not manage',
      method: 'POST',
      resource: '/v1/responses',
      options: { body: start },
      status: 422,
      policy: IntakePolicy.parse({ allowedAccounts: ['999999999999'] }),
    },
    {
      name: 'a recorded response',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (ledger(ITEM, { status: 'partially-contained' }), execution('FAILED')),
      status: 200,
    },
    {
      name: 'a fresh response',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (ledger(undefined, undefined), execution('RUNNING')),
      status: 200,
    },
    {
      name: 'a response whose execution history expired',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (ledger(ITEM, { status: 'released' }), execution(undefined)),
      status: 200,
    },
    {
      name: 'an unknown response',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (ledger(undefined, undefined), execution(undefined)),
      status: 404,
    },
    { name: 'a bad id', method: 'GET', resource: '/v1/responses/{id}', options: { id: 'a b' }, status: 400 },
    {
      name: 'a throttled ledger',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (ddbMock.on(QueryCommand).rejects(awsError('ThrottlingException')), execution('RUNNING')),
      status: 503,
    },
    {
      name: 'a started release',
      method: 'POST',
      resource: '/v1/responses/{id}/release',
      options: { id: ID, body: { reason: 'done' } },
      prepare: () => ledger(ITEM, { status: 'contained', originalBeforeStateKey: 'k' }),
      status: 202,
    },
    {
      name: 'a release of a released instance',
      method: 'POST',
      resource: '/v1/responses/{id}/release',
      options: { id: ID, body: { reason: 'done' } },
      prepare: () => ledger(ITEM, { status: 'released' }),
      status: 409,
    },
    { name: 'a release without a reason', method: 'POST', resource: '/v1/responses/{id}/release', options: { id: ID, body: {} }, status: 400 },
    {
      name: 'a response waiting at the approval gate',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (ledger({ ...ITEM, outcome: undefined, summary: undefined, recordedAt: undefined, approval: PENDING }, { status: 'open' }), execution('RUNNING')),
      status: 200,
    },
    {
      name: 'a declined response',
      method: 'GET',
      resource: '/v1/responses/{id}',
      options: { id: ID },
      prepare: () => (
        ledger(
          {
            ...ITEM,
            outcome: 'declined',
            actions: [{ action: 'isolate', status: 'declined', decidedBy: CALLER, reason: 'cut-over' }],
            approval: { ...PENDING, taskToken: undefined, status: 'denied', decision: 'deny', decidedBy: CALLER, reason: 'cut-over', decidedAt: '2026-03-02T09:15:00.000Z', applied: 'deny', closedAt: '2026-03-02T09:15:02.000Z' },
          },
          { status: 'declined' },
        ),
        execution('FAILED')
      ),
      status: 200,
    },
    {
      name: 'an approval',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'approve', reason: 'confirmed' } },
      prepare: () => gate(PENDING),
      status: 200,
    },
    {
      name: 'a denial',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'deny', reason: 'cut-over' } },
      prepare: () => gate(PENDING),
      status: 200,
    },
    {
      name: 'a decision without a reason',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'approve' } },
      status: 400,
    },
    {
      name: 'a decision for an unknown response',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'approve', reason: 'ok' } },
      prepare: () => ledger(undefined, undefined),
      status: 404,
    },
    {
      name: 'a second decision',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'approve', reason: 'ok' } },
      prepare: () => gate({ ...PENDING, status: 'denied', decidedBy: CALLER, taskToken: undefined }),
      status: 409,
    },
    {
      name: 'a decision after the gate closed',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'approve', reason: 'ok' } },
      prepare: () => (gate(PENDING), sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'))),
      status: 409,
    },
    {
      name: 'a throttled decision',
      method: 'POST',
      resource: '/v1/responses/{id}/approval',
      options: { id: ID, body: { decision: 'deny', reason: 'ok' } },
      prepare: () => (gate(PENDING), sfnMock.on(SendTaskSuccessCommand).rejects(awsError('ThrottlingException'))),
      status: 503,
    },
  ];

  it.each(cases)('$name: $status', async (c) => {
    c.prepare?.();

    const result = await handleApiEvent(proxyEvent(c.method, c.resource, c.options), deps(c.policy));

    expect(result.statusCode).toBe(c.status);
    const op = doc.paths[c.resource]?.[c.method.toLowerCase() as 'get' | 'post'];
    const documented = (op?.responses[String(c.status)] as OpenAPIV3.ResponseObject | undefined)?.content?.['application/json']?.schema;
    expect({ status: c.status, documented: documented !== undefined }).toEqual({ status: c.status, documented: true });
    const validate = ajv.compile(documented as object);
    const valid = validate(JSON.parse(JSON.stringify(result.body)));
    expect({ status: c.status, errors: valid ? null : validate.errors }).toEqual({ status: c.status, errors: null });
  });
});
