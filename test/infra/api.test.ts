/**
 * CordonApi (lib/constructs/api.ts) in a standalone stack with real inputs, under cdk-nag
 * AwsSolutions: routes, IAM auth, edge validation, gateway error bodies, access logs,
 * throttling, tracing, the optional resource policy, and the function's exact permissions (the
 * approval gate's `grantDecide` included).
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import Ajv from 'ajv-draft-04';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ACCESS_LOG_FORMAT, APPROVAL_MODEL, RELEASE_MODEL, START_RESPONSE_MODEL } from '../../lib/constructs/api';
import { ApprovalBody, ReleaseBody, StartResponseBody } from '../../lambdas/api/api';
import { ACTIONS } from '../../lambdas/shared/actions';
import { declaredVariables } from '../../lib/environment';
import { hubRoleName } from '../../lib/functions';
import { ACCOUNT, buildApiStack, IMPORTED_RELEASE_ARN, POLICY, REGION, routesOf, type ApiStack, type Resource } from './api-stack';
import { ROOT, asArray, flatten, iamStatements, type Statement } from './synth';

let built: ApiStack;
let imported: ApiStack;

beforeAll(() => {
  built = buildApiStack();
  imported = buildApiStack({ importedRelease: true, allowedPrincipals: ['arn:aws:iam::444455556666:role/SoarPlatform'] });
});

const logicalId = (s: ApiStack, c: IConstruct): string => s.stack.getLogicalId(c.node.defaultChild as never);

describe('routes', () => {
  it('has exactly the four routes, each with IAM auth, the validator and a Lambda proxy integration', () => {
    const routes = routesOf(built);
    const functionId = logicalId(built, built.api.function);
    const validatorId = built.stack.getLogicalId(built.api.requestValidator.node.defaultChild as never);

    expect(routes.map((r) => r.route).sort()).toEqual([
      'GET /v1/responses/{id}',
      'POST /v1/responses',
      'POST /v1/responses/{id}/approval',
      'POST /v1/responses/{id}/release',
    ]);
    for (const { method } of routes) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        RequestValidatorId: { Ref: validatorId },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(flatten((method.Properties.Integration as { Uri: unknown }).Uri)).toContain(`<${functionId}.Arn>/invocations`);
    }
  });

  it('validates bodies and path parameters at the edge, against the request models', () => {
    built.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const models = built.template.findResources('AWS::ApiGateway::Model') as Record<string, Resource>;
    const byName = Object.fromEntries(Object.entries(models).map(([id, m]) => [m.Properties.Name, { id, m }]));
    expect(Object.keys(byName).sort()).toEqual(['ApprovalDecision', 'ReleaseResponse', 'StartResponse']);
    const schema = (name: string) => byName[name]!.m.Properties.Schema as Record<string, unknown>;
    expect(schema('StartResponse')).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      title: 'StartResponse',
      type: 'object',
      additionalProperties: false,
      required: ['instanceId', 'accountId', 'region', 'reason'],
      properties: {
        instanceId: { type: 'string', pattern: '^i-([0-9a-f]{8}|[0-9a-f]{17})$' },
        accountId: { type: 'string', pattern: '^[0-9]{12}$' },
        region: { type: 'string', pattern: '^[a-z]{2}(-(gov|iso[a-z]?))?-[a-z]+-[0-9]{1,2}$' },
        reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$' },
        actions: {
          type: 'array',
          minItems: 1,
          maxItems: ACTIONS.length,
          uniqueItems: true,
          items: { type: 'string', enum: [...ACTIONS] },
        },
      },
    });
    expect(schema('ReleaseResponse')).toMatchObject({ additionalProperties: false, required: ['reason'] });
    expect(schema('ApprovalDecision')).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      title: 'ApprovalDecision',
      type: 'object',
      additionalProperties: false,
      required: ['decision', 'reason'],
      properties: {
        decision: { type: 'string', enum: ['approve', 'deny'] },
        reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$' },
      },
    });

    const routes = Object.fromEntries(routesOf(built).map((r) => [r.route, r.method.Properties]));
    expect(routes['POST /v1/responses']?.RequestModels).toEqual({ 'application/json': { Ref: byName.StartResponse!.id } });
    expect(routes['POST /v1/responses/{id}/release']?.RequestModels).toEqual({ 'application/json': { Ref: byName.ReleaseResponse!.id } });
    expect(routes['GET /v1/responses/{id}']?.RequestParameters).toEqual({ 'method.request.path.id': true });
    expect(routes['POST /v1/responses/{id}/release']?.RequestParameters).toEqual({ 'method.request.path.id': true });
    expect(routes['POST /v1/responses/{id}/approval']?.RequestModels).toEqual({ 'application/json': { Ref: byName.ApprovalDecision!.id } });
    expect(routes['POST /v1/responses/{id}/approval']?.RequestParameters).toEqual({ 'method.request.path.id': true });
    expect(routes['POST /v1/responses/{id}/approval']?.OperationName).toBe('DecideApproval');
  });

  it('answers the gateway’s own errors with a JSON {error, message} body', () => {
    const responses = built.template.findResources('AWS::ApiGateway::GatewayResponse') as Record<string, Resource>;
    const byType: Record<string, Record<string, unknown>> = Object.fromEntries(
      Object.values(responses).map((r) => [String(r.Properties.ResponseType), r.Properties]),
    );
    expect(Object.keys(byType).sort()).toEqual([
      'BAD_REQUEST_BODY',
      'BAD_REQUEST_PARAMETERS',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
      'MISSING_AUTHENTICATION_TOKEN',
    ]);
    for (const [type, props] of Object.entries(byType)) {
      const template = (props.ResponseTemplates as Record<string, string>)['application/json']!;
      // What API Gateway substitutes: the type, the quoted message, the validation error text.
      const rendered = template
        .replace('$context.error.responseType', type)
        .replace('$context.error.messageString', '"Forbidden"')
        .replace('$context.error.validationErrorString', '[object has missing required properties ([\\"reason\\"])]');
      expect({ type, body: Object.keys(JSON.parse(rendered) as object) }).toEqual({ type, body: ['error', 'message'] });
    }
    expect(byType.BAD_REQUEST_BODY?.StatusCode).toBe('400');
    expect(byType.MISSING_AUTHENTICATION_TOKEN?.StatusCode).toBe('403');
  });
});

describe('stage', () => {
  it('logs every request as one JSON object with the caller identity, to a retained log group', () => {
    const stage = Object.values(built.template.findResources('AWS::ApiGateway::Stage') as Record<string, Resource>);
    expect(stage).toHaveLength(1);
    const settings = stage[0]!.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string };
    expect(flatten(settings.DestinationArn)).toBe(`<${logicalId(built, built.api.accessLogGroup)}.Arn>`);
    expect(settings.Format).toBe(ACCESS_LOG_FORMAT);

    const line = JSON.parse(settings.Format.replace(/\$context\.[A-Za-z.]+/g, 'x')) as Record<string, string>;
    expect(Object.keys(line)).toEqual(expect.arrayContaining(['requestId', 'status', 'userArn', 'caller', 'callerAccountId', 'errorType']));
    expect(settings.Format).toContain('"userArn":"$context.identity.userArn"');
    // Nothing a caller chose: no path values, headers, user agent or body.
    expect(settings.Format).not.toMatch(/\$context\.path|\$input|userAgent|requestOverride/);

    built.template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/aws/apigateway/cordon-api/access', RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });

  it('traces with X-Ray and throttles the whole stage, 10/s with bursts of 20 by default', () => {
    built.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [
        Match.objectEquals({
          HttpMethod: '*',
          ResourcePath: '/*',
          DataTraceEnabled: false,
          MetricsEnabled: true,
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
        }),
      ],
    });
    built.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'cordon',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      Policy: Match.absent(),
    });
    built.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('takes its throttling limits and execution logging (errors only, never request data) from props', () => {
    const custom = buildApiStack({ throttling: { rateLimit: 50, burstLimit: 100 }, executionLogging: true, stageName: 'live' });

    custom.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      MethodSettings: [
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
      ],
    });
  });

  it('refuses principals that are not role or user ARNs, and impossible throttling, at synth', () => {
    expect(() => buildApiStack({ allowedPrincipals: ['arn:aws:iam::444455556666:root'] })).toThrow(
      /allowedPrincipals must be IAM role or user ARNs; fix arn:aws:iam::444455556666:root/,
    );
    expect(() => buildApiStack({ throttling: { rateLimit: 0, burstLimit: 10 } })).toThrow(/throttling needs rateLimit ≥ 1/);
  });
});

describe('resource policy', () => {
  it('without allowedPrincipals there is none: IAM auth of the hub account alone applies', () => {
    built.template.hasResourceProperties('AWS::ApiGateway::RestApi', { Policy: Match.absent() });
  });

  it('with allowedPrincipals it allows exactly those, from any account, and denies everyone else', () => {
    imported.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowNamedPrincipals',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::444455556666:role/SoarPlatform' },
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*',
          },
          {
            Sid: 'DenyEveryoneElse',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*',
            Condition: { StringNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::444455556666:role/SoarPlatform'] } },
          },
        ],
      },
    });
  });
});

describe('the API function', () => {
  function grants(s: ApiStack): Statement[] {
    const policyId = s.stack.getLogicalId(s.api.function.executionRole.node.findChild('DefaultPolicy').node.defaultChild as never);
    return iamStatements(s.template)
      .filter(({ owner }) => owner === policyId)
      .map(({ statement }) => statement);
  }

  it('may start the two workflows, describe their executions, read the ledger and decide approvals: nothing else', () => {
    const rendered = grants(built).map((s) => ({
      actions: asArray(s.Action).sort(),
      resources: asArray(s.Resource).map(flatten),
      ...(s.Condition ? { condition: s.Condition } : {}),
    }));
    const response = logicalId(built, built.responseMachine);
    const release = logicalId(built, built.releaseMachine as never);
    const ledger = logicalId(built, built.ledger);

    expect(rendered).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`<${logicalId(built, built.api.function.functionLogGroup)}.Arn>`] },
      { actions: ['states:StartExecution'], resources: [`<${response}>`] },
      { actions: ['states:StartExecution'], resources: [`<${release}>`] },
      {
        actions: ['states:DescribeExecution'],
        resources: [
          `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${response}.Name>:*`,
          `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${release}.Name>:*`,
        ],
      },
      { actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [`<${ledger}.Arn>`, `<${ledger}.Arn>/index/byResponseId`] },
      { actions: ['kms:Decrypt'], resources: [`<${logicalId(built, built.key)}.Arn>`] },
      // ApprovalGate.grantDecide: what submitApprovalDecision calls, on exact resources.
      { actions: ['dynamodb:Query'], resources: [`<${ledger}.Arn>/index/byResponseId`] },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [`<${ledger}.Arn>`] },
      {
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [`<${logicalId(built, built.key)}.Arn>`],
        condition: { StringEquals: { 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com` } },
      },
      { actions: ['states:SendTaskSuccess'], resources: [`<${response}>`] },
    ]);
  });

  it('answers approval tasks of the response workflow only: no SendTaskFailure, nothing on the release workflow', () => {
    for (const s of [built, imported]) {
      const taskActions = grants(s).filter((g) => asArray(g.Action).some((a) => /^states:SendTask/.test(a) || a === 'states:*'));

      expect(taskActions.map((g) => ({ actions: asArray(g.Action), resources: asArray(g.Resource).map(flatten) }))).toEqual([
        { actions: ['states:SendTaskSuccess'], resources: [`<${logicalId(s, s.responseMachine)}>`] },
      ]);
    }
  });

  it('describes the executions of a release state machine named by ARN', () => {
    const describeGrant = grants(imported).find((s) => asArray(s.Action).includes('states:DescribeExecution'));
    const start = grants(imported).filter((s) => asArray(s.Action).includes('states:StartExecution'));

    expect(asArray(describeGrant?.Resource).map(flatten)).toContain(`arn:aws:states:${REGION}:${ACCOUNT}:execution:cordon-release:*`);
    expect(start.map((s) => flatten(s.Resource))).toContain(IMPORTED_RELEASE_ARN);
  });

  it('runs under its fixed-name role with every variable its handler requires, and intake’s policy', () => {
    built.template.hasResourceProperties('AWS::IAM::Role', { RoleName: hubRoleName('api', REGION), ManagedPolicyArns: Match.absent() });
    const fn = built.template.toJSON().Resources[logicalId(built, built.api.function)] as Resource;
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const required = declaredVariables('api');

    expect(required.sort()).toEqual(['INTAKE_POLICY', 'LEDGER_TABLE', 'RELEASE_STATE_MACHINE_ARN', 'RESPONSE_STATE_MACHINE_ARN']);
    expect(required.filter((v) => !(v in vars))).toEqual([]);
    expect(JSON.parse(vars.INTAKE_POLICY as string)).toEqual(POLICY);
    expect(flatten(vars.RESPONSE_STATE_MACHINE_ARN)).toBe(`<${logicalId(built, built.responseMachine)}>`);
    expect(flatten(vars.LEDGER_TABLE)).toBe(`<${logicalId(built, built.ledger)}>`);
    expect(existsSync(path.join(ROOT, 'lambdas', 'api', 'api.ts'))).toBe(true);
    // API Gateway gives up after 29 s.
    expect(fn.Properties.Timeout).toBeLessThan(29);
  });

  it('is invokable by API Gateway for its four methods only (no test-invoke stage)', () => {
    const permissions = Object.values(built.template.findResources('AWS::Lambda::Permission') as Record<string, Resource>);
    const sources = permissions.map((p) => flatten(p.Properties.SourceArn)).sort();

    expect(permissions.every((p) => p.Properties.Principal === 'apigateway.amazonaws.com')).toBe(true);
    expect(sources).toHaveLength(4);
    for (const s of sources) expect(s).toMatch(/\/<[A-Za-z0-9]+>\/(GET|POST)\/v1\/responses/);
    expect(sources.some((s) => s.includes('test-invoke-stage'))).toBe(false);
  });
});

describe('cdk-nag AwsSolutions', () => {
  /** Every finding with acknowledgements ignored, as `path|rule`. */
  function allFindings(root: IConstruct): string[] {
    const pack = new AwsSolutionsChecks();
    const hook = pack as unknown as { isAcknowledged?: unknown };
    if (typeof hook.isAcknowledged !== 'function') throw new Error('cdk-nag changed: NagPack.isAcknowledged is gone');
    hook.isAcknowledged = () => false;
    return pack.validateScope(root).violations.flatMap((v) => v.violatingResources.map((r) => `${r.constructPath ?? ''}|${v.ruleName}`));
  }

  function acknowledgements(root: IConstruct): { path: string; id: string; reason: string; construct: IConstruct }[] {
    const out: { path: string; id: string; reason: string; construct: IConstruct }[] = [];
    const visit = (c: IConstruct): void => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          out.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason, construct: c });
        }
      }
      c.node.children.forEach(visit);
    };
    visit(root);
    return out;
  }

  it.each<[string, () => ApiStack]>([
    ['defaults', () => built],
    ['named principals, release by ARN', () => imported],
    ['execution logging on', () => buildApiStack({ executionLogging: true })],
  ])('synthesizes clean, acknowledging only real findings on the construct that has them (%s)', (_name, make) => {
    const s = make();
    const findings = allFindings(s.api);
    const acks = acknowledgements(s.api);
    const stale = acks.filter((a) => !findings.some((f) => {
      const [p, rule] = f.split('|');
      return rule === a.id && (p === a.path || p!.startsWith(`${a.path}/`));
    }));

    expect(stale.map((a) => `${a.path}: ${a.id}`)).toEqual([]);
    expect(acks.filter((a) => Stack.isStack(a.construct) || a.construct === s.api).map((a) => a.id)).toEqual([]);
    for (const a of acks) expect({ id: a.id, longReason: a.reason.length >= 40 }).toEqual({ id: a.id, longReason: true });
    // What fires, and why it is acknowledged: Cognito (IAM auth instead), WAF, execution logging when off, IAM5.
    expect([...new Set(acks.map((a) => a.id.replace(/\[.*$/, '')))].sort()).toEqual(
      [
        'AwsSolutions-APIG3',
        ...(s === built || s === imported ? ['AwsSolutions-APIG6'] : []),
        'AwsSolutions-COG4',
        'AwsSolutions-IAM5',
        'AwsSolutions-L1',
      ].sort(),
    );
  });

  it('acknowledges IAM5 only for the execution wildcards, each by its exact resource', () => {
    const ids = acknowledgements(built.api).filter((a) => a.id.startsWith('AwsSolutions-IAM5')).map((a) => a.id).sort();
    const response = logicalId(built, built.responseMachine);
    const release = logicalId(built, built.releaseMachine as never);

    expect(ids).toEqual([
      'AwsSolutions-IAM5[Resource::*]', // X-Ray, in CordonFunction's own policy
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${release}.Name>:*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${response}.Name>:*]`,
    ].sort());
  });
});

describe('the edge models and the function’s schemas agree', () => {
  // API Gateway validates with JSON Schema draft 4; the function with zod. A body one accepts and the
  // other refuses would be either a confusing gateway error or a check the edge never made.
  const ajv = new Ajv({ allErrors: true, strict: false });
  const edgeStart = ajv.compile(JSON.parse(JSON.stringify(START_RESPONSE_MODEL).replace('"schema":', '"$schema":')));
  const edgeRelease = ajv.compile(JSON.parse(JSON.stringify(RELEASE_MODEL).replace('"schema":', '"$schema":')));
  const edgeApproval = ajv.compile(JSON.parse(JSON.stringify(APPROVAL_MODEL).replace('"schema":', '"$schema":')));
  const ok = { instanceId: 'i-0123456789abcdef0', accountId: '111122223333', region: 'us-east-1', reason: 'playbook 12' };

  it.each<[string, unknown]>([
    ['a minimal body', ok],
    ['a short instance id and all actions', { ...ok, instanceId: 'i-0123abcd', actions: ['isolate', 'flowLogs', 'snapshot', 'quarantineRole'] }],
    ['a GovCloud region and a multi-line reason', { ...ok, region: 'us-gov-west-1', reason: 'line one\nline two\tindented' }],
    ['a 1024-character reason', { ...ok, reason: 'x'.repeat(1024) }],
    ['a 1025-character reason', { ...ok, reason: 'x'.repeat(1025) }],
    ['an uppercase instance id', { ...ok, instanceId: 'i-0123456789ABCDEF0' }],
    ['a 16-digit instance id', { ...ok, instanceId: 'i-0123456789abcdef' }],
    ['an 11-digit account', { ...ok, accountId: '11112222333' }],
    ['a numeric account', { ...ok, accountId: 111122223333 }],
    ['a region with a capital', { ...ok, region: 'US-east-1' }],
    ['an escape character in the reason', { ...ok, reason: 'a\u001bb' }],
    ['a DEL in the reason', { ...ok, reason: 'a\u007fb' }],
    ['an empty reason', { ...ok, reason: '' }],
    ['no reason', { instanceId: ok.instanceId, accountId: ok.accountId, region: ok.region }],
    ['an unknown action', { ...ok, actions: ['terminate'] }],
    ['a repeated action', { ...ok, actions: ['isolate', 'isolate'] }],
    ['five actions', { ...ok, actions: ['isolate', 'flowLogs', 'snapshot', 'quarantineRole', 'isolate'] }],
    ['no actions', { ...ok, actions: [] }],
    ['an extra field', { ...ok, requestedBy: 'root' }],
    ['an array', [ok]],
  ])('POST /v1/responses: %s', (_name, body) => {
    expect({ edge: edgeStart(body) }).toEqual({ edge: StartResponseBody.safeParse(body).success });
  });

  it.each<[string, unknown]>([
    ['a reason', { reason: 'done' }],
    ['no reason', {}],
    ['an extra field', { reason: 'done', source: 'manual' }],
    ['a reason with a NUL', { reason: 'a\u0000' }],
  ])('POST /v1/responses/{id}/release: %s', (_name, body) => {
    expect({ edge: edgeRelease(body) }).toEqual({ edge: ReleaseBody.safeParse(body).success });
  });

  it.each<[string, unknown]>([
    ['an approval', { decision: 'approve', reason: 'confirmed C2 beaconing' }],
    ['a denial', { decision: 'deny', reason: 'payments cut-over in progress' }],
    ['a 1024-character reason', { decision: 'deny', reason: 'x'.repeat(1024) }],
    ['a 1025-character reason', { decision: 'deny', reason: 'x'.repeat(1025) }],
    ['an upper-case decision', { decision: 'APPROVE', reason: 'ok' }],
    ['a boolean decision', { decision: true, reason: 'ok' }],
    ['no decision', { reason: 'ok' }],
    ['no reason', { decision: 'approve' }],
    ['an empty reason', { decision: 'approve', reason: '' }],
    ['an escape character in the reason', { decision: 'approve', reason: 'a\u001b[2Jb' }],
    ['a forged decider', { decision: 'approve', reason: 'ok', decidedBy: 'arn:aws:iam::111111111111:root' }],
    ['a response id in the body', { decision: 'approve', reason: 'ok', responseId: 'other' }],
    ['an array', [{ decision: 'approve', reason: 'ok' }]],
  ])('POST /v1/responses/{id}/approval: %s', (_name, body) => {
    expect({ edge: edgeApproval(body) }).toEqual({ edge: ApprovalBody.safeParse(body).success });
  });
});
