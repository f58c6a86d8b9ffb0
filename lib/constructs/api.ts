import { Arn, ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { RESPONSE_INDEX } from '../../lambdas/shared/ledger';
import { environmentFor } from '../environment';
import { ACCESS_LOG_FORMAT, APPROVAL_MODEL, RELEASE_MODEL, START_RESPONSE_MODEL, errorTemplate } from './api-models';
import type { ApprovalGate } from './approval-gate';
import { CordonFunction } from './cordon-function';
import type { IntakePolicy } from './intake';

export { ACCESS_LOG_FORMAT, APPROVAL_MODEL, RELEASE_MODEL, START_RESPONSE_MODEL } from './api-models';

export interface CordonApiProps {
  /** The response workflow: `POST /v1/responses` starts it; `GET /v1/responses/{id}` describes its executions. */
  readonly responseStateMachine: sfn.IStateMachine;
  /** The release workflow (`ReleaseWorkflow.stateMachine`): `POST /v1/responses/{id}/release` starts it. */
  readonly releaseStateMachine: sfn.IStateMachine;
  /** The incident ledger (`EvidenceStore.ledger`), read by key and through its `byResponseId` index. */
  readonly ledger: dynamodb.ITable;
  /** Intake's decision policy (the same object the hub gives `Intake`): account and region scope apply to API requests. */
  readonly policy: IntakePolicy;
  /**
   * The approval gate of `responseStateMachine`, over `ledger` (the hub's `ApprovalGate`):
   * `POST /v1/responses/{id}/approval` decides through it, so the function gets exactly what
   * `grantDecide` grants (Query on `byResponseId`, GetItem/UpdateItem on the ledger, the ledger key
   * through DynamoDB, `states:SendTaskSuccess` on the response state machine).
   */
  readonly approvalGate: Pick<ApprovalGate, 'grantDecide'>;
  /** Retention of the function's and the access log's log groups, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /**
   * Role or user ARNs allowed to call the API, from any account. Non-empty: a resource policy allows
   * exactly these and denies everyone else (`aws:PrincipalArn`). Empty: no resource policy; IAM auth
   * alone applies, so only principals of the hub account whose IAM policies allow execute-api:Invoke can call.
   * @default []
   */
  readonly allowedPrincipals?: readonly string[];
  /**
   * Stage-wide throttling.
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * API Gateway execution logging at ERROR level (never request data). It needs the region's API Gateway
   * CloudWatch Logs role set in the account, which cordon does not take over; access logs are always on.
   * @default false
   */
  readonly executionLogging?: boolean;
  /**
   * The stage name: the first segment of every URL path (`https://…/prod/v1/responses`).
   * @default 'prod'
   */
  readonly stageName?: string;
}

/**
 * The HTTPS API for SOAR platforms (docs/design.md §2.4; docs/api.md, docs/openapi.yaml): a regional API
 * Gateway REST API with IAM (SigV4) authorization on every method, request models validated at the edge,
 * `{error, message}` bodies for the gateway's own errors, JSON access logs with the caller's identity,
 * stage throttling, X-Ray, and an optional resource policy limiting callers to named principals. One
 * function (`lambdas/api`) serves the four routes; it may start the response and release workflows,
 * describe their executions, read the ledger, and decide approvals as the approval gate allows
 * (`grantDecide`), nothing else.
 */
export class CordonApi extends Construct {
  public readonly restApi: apigw.RestApi;
  public readonly function: CordonFunction;
  /** The access log group (JSON, one line per request). */
  public readonly accessLogGroup: logs.LogGroup;
  /** The request validator every method uses (bodies and path parameters). */
  public readonly requestValidator: apigw.RequestValidator;
  /** The API's URL, stage included (`https://<id>.execute-api.<region>.amazonaws.com/<stage>/`). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: CordonApiProps) {
    super(scope, id);
    const allowedPrincipals = [...(props.allowedPrincipals ?? [])];
    const throttling = props.throttling ?? { rateLimit: 10, burstLimit: 20 };
    if (!(throttling.rateLimit >= 1) || !(throttling.burstLimit >= 1) || !Number.isInteger(throttling.burstLimit)) {
      throw new Error(`CordonApi ${id}: throttling needs rateLimit ≥ 1 and a whole burstLimit ≥ 1 (got ${JSON.stringify(throttling)})`);
    }
    const bad = allowedPrincipals.filter((p) => !/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/.test(p));
    if (bad.length > 0) {
      throw new Error(`CordonApi ${id}: allowedPrincipals must be IAM role or user ARNs; fix ${bad.join(', ')}`);
    }

    this.function = new CordonFunction(this, 'Function', {
      name: 'api',
      logRetentionDays: props.logRetentionDays,
      // API Gateway gives up on the integration after 29 s.
      timeout: Duration.seconds(15),
      environment: environmentFor('api', {
        responseStateMachineArn: props.responseStateMachine.stateMachineArn,
        releaseStateMachineArn: props.releaseStateMachine.stateMachineArn,
        ledgerTable: props.ledger.tableName,
        intakePolicy: props.policy,
        toJson: (value) => Stack.of(this).toJsonString(value),
      }),
    });
    this.grantAccess(props);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: '/aws/apigateway/cordon-api/access',
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: 'cordon',
      description: 'cordon: start, follow, approve and release incident responses (SigV4 / IAM auth)',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      policy: allowedPrincipals.length > 0 ? resourcePolicy(allowedPrincipals) : undefined,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
        ...(props.executionLogging ? { loggingLevel: apigw.MethodLoggingLevel.ERROR, dataTraceEnabled: false } : {}),
      },
    });
    this.url = this.restApi.url;

    this.requestValidator = this.restApi.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const startModel = this.restApi.addModel('StartResponseModel', {
      modelName: 'StartResponse',
      contentType: 'application/json',
      schema: START_RESPONSE_MODEL,
    });
    const releaseModel = this.restApi.addModel('ReleaseModel', {
      modelName: 'ReleaseResponse',
      contentType: 'application/json',
      schema: RELEASE_MODEL,
    });
    const approvalModel = this.restApi.addModel('ApprovalModel', {
      modelName: 'ApprovalDecision',
      contentType: 'application/json',
      schema: APPROVAL_MODEL,
    });

    // Gateway-generated errors in the function's shape: `error` is API Gateway's response type.
    this.restApi.addGatewayResponse('Default4xx', {
      type: apigw.ResponseType.DEFAULT_4XX,
      templates: errorTemplate('$context.error.messageString'),
    });
    this.restApi.addGatewayResponse('Default5xx', {
      type: apigw.ResponseType.DEFAULT_5XX,
      templates: errorTemplate('$context.error.messageString'),
    });
    for (const [name, type] of [
      ['BadRequestBody', apigw.ResponseType.BAD_REQUEST_BODY],
      ['BadRequestParameters', apigw.ResponseType.BAD_REQUEST_PARAMETERS],
    ] as const) {
      this.restApi.addGatewayResponse(name, {
        type,
        statusCode: '400',
        templates: errorTemplate('"$context.error.validationErrorString"'),
      });
    }
    this.restApi.addGatewayResponse('MissingAuthenticationToken', {
      type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '403',
      templates: errorTemplate(
        '"the request is not signed with SigV4 (service execute-api), or its method and path are not an API route (docs/openapi.yaml)"',
      ),
    });

    const integration = new apigw.LambdaIntegration(this.function, { proxy: true, allowTestInvoke: false });
    const responses = this.restApi.root.addResource('v1').addResource('responses');
    const response = responses.addResource('{id}');
    const release = response.addResource('release');
    const approval = response.addResource('approval');
    const idParameter = { 'method.request.path.id': true };
    const methods = [
      responses.addMethod('POST', integration, {
        operationName: 'StartResponse',
        requestValidator: this.requestValidator,
        requestModels: { 'application/json': startModel },
      }),
      response.addMethod('GET', integration, {
        operationName: 'GetResponse',
        requestValidator: this.requestValidator,
        requestParameters: idParameter,
      }),
      release.addMethod('POST', integration, {
        operationName: 'ReleaseResponse',
        requestValidator: this.requestValidator,
        requestParameters: idParameter,
        requestModels: { 'application/json': releaseModel },
      }),
      approval.addMethod('POST', integration, {
        operationName: 'DecideApproval',
        requestValidator: this.requestValidator,
        requestParameters: idParameter,
        requestModels: { 'application/json': approvalModel },
      }),
    ];

    for (const method of methods) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'The API authorizes every method with IAM (SigV4): its callers are SOAR platforms and responders with AWS credentials, not Cognito users',
      });
    }
    const stage = this.restApi.deploymentStage;
    Validations.of(stage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires a SigV4 signature (IAM auth), so unsigned traffic is refused before any integration runs; stage throttling and the optional principal allow-list bound signed callers',
    });
    if (!props.executionLogging) {
      Validations.of(stage).acknowledge({
        id: 'AwsSolutions-APIG6',
        reason:
          'JSON access logs record every request with the caller identity and error type; execution logging needs the account-wide API Gateway CloudWatch role, so it is opt-in (cordon.api.executionLogging)',
      });
    }
  }

  /**
   * Start both workflows, describe their executions, read the ledger (by key and through byResponseId),
   * and decide approvals (the approval gate's own grant).
   */
  private grantAccess(props: CordonApiProps): void {
    const fn = this.function;
    props.responseStateMachine.grantStartExecution(fn);
    props.releaseStateMachine.grantStartExecution(fn);
    const executions = [executionsOf(props.responseStateMachine), executionsOf(props.releaseStateMachine)];
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DescribeOwnExecutions',
        actions: ['states:DescribeExecution'],
        resources: executions,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadLedger',
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.ledger.tableArn, `${props.ledger.tableArn}/index/${RESPONSE_INDEX}`],
      }),
    );
    props.ledger.encryptionKey?.grantDecrypt(fn);
    // POST /v1/responses/{id}/approval: exact actions on exact resources (no wildcard, so no finding).
    props.approvalGate.grantDecide(fn);

    const policy = fn.executionRole.node.findChild('DefaultPolicy');
    Validations.of(policy).acknowledge(
      ...executions.map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, arn)}]`,
        reason: 'DescribeExecution on the executions of this one state machine; execution names are per request, so they are not known in advance',
      })),
    );
  }
}

/** Every execution of a state machine: `arn:…:states:<region>:<account>:execution:<machine>:*`. */
function executionsOf(machine: sfn.IStateMachine): string {
  if (machine instanceof sfn.StateMachine) {
    return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${machine.stateMachineName}:*`;
  }
  const arn = Arn.split(machine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME);
  return `arn:${arn.partition}:states:${arn.region}:${arn.account}:execution:${arn.resourceName}:*`;
}

/** A resource policy that lets exactly these principals invoke the API, from any account. */
function resourcePolicy(principals: readonly string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AllowNamedPrincipals',
        effect: iam.Effect.ALLOW,
        principals: principals.map((p) => new iam.ArnPrincipal(p)),
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        sid: 'DenyEveryoneElse',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:PrincipalArn': [...principals] } },
      }),
    ],
  });
}

/**
 * How cdk-nag names a policy resource in an IAM5 finding (`<Logical.Attr>` for GetAtt, `<Logical>`
 * for Ref, joins flattened), so an acknowledgement names exactly the resource it covers.
 */
function nagResource(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node && typeof node === 'object') {
      const v = node as Record<string, unknown>;
      if (Array.isArray(v['Fn::Join'])) {
        const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
        return items.map(visit).join(delimiter);
      }
      if (Array.isArray(v['Fn::GetAtt'])) {
        const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
        return `<${visit(resource)}.${visit(attribute)}>`;
      }
      if ('Ref' in v) return `<${visit(v.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}
