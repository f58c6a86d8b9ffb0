/**
 * A standalone stack holding `CordonApi` and its real inputs: two state machines, the evidence
 * store (its KMS-encrypted ledger with the `byResponseId` index, the key, the topic) and the approval
 * gate of the response state machine over that ledger, with cdk-nag AwsSolutions as a
 * policy-validation plugin: synthesis throws on any unacknowledged finding, as in the real app.
 * No bundling (template assertions don't need the function's code).
 */
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CordonApi, type CordonApiProps } from '../../lib/constructs/api';
import { ApprovalGate } from '../../lib/constructs/approval-gate';
import { EvidenceStore } from '../../lib/constructs/evidence-store';
import type { IntakePolicy } from '../../lib/constructs/intake';
import { CordonFunction } from '../../lib/constructs/cordon-function';
import { cdkJsonContext } from './synth';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const POLICY: IntakePolicy = {
  severityThreshold: 4,
  allowTypes: [],
  denyTypes: [],
  allowedAccounts: [ACCOUNT, '222222222222'],
  allowedRegions: [REGION],
};
/** A release state machine named by ARN, as another stack's output would be. */
export const IMPORTED_RELEASE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:cordon-release`;

export type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

export interface ApiStack {
  readonly app: App;
  readonly stack: Stack;
  readonly api: CordonApi;
  readonly responseMachine: sfn.StateMachine;
  readonly releaseMachine: sfn.IStateMachine;
  readonly ledger: dynamodb.Table;
  readonly key: kms.Key;
  readonly approvalGate: ApprovalGate;
  readonly template: Template;
}

export interface ApiStackOptions
  extends Partial<Omit<CordonApiProps, 'responseStateMachine' | 'releaseStateMachine' | 'ledger' | 'approvalGate'>> {
  /** Name the release state machine by ARN instead of building one. */
  readonly importedRelease?: boolean;
}

function machine(stack: Stack, id: string): sfn.StateMachine {
  const m = new sfn.StateMachine(stack, id, {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Start`)),
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(stack, `${id}Logs`, { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
  });
  // A test input, not under test: Step Functions' log delivery and X-Ray grants have no resource-level scoping.
  Validations.of(m.role.node.findChild('DefaultPolicy')).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Test input: the state machine role holds CDK-generated log-delivery and X-Ray statements',
  });
  return m;
}

export function buildApiStack(options: ApiStackOptions = {}): ApiStack {
  // cdk.json's context: its feature flags (the evidence store requires one), as the real app has them.
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ApiTest', { env: { account: ACCOUNT, region: REGION } });
  const store = new EvidenceStore(stack, 'EvidenceStore', { sourceAccounts: [ACCOUNT] });
  const { key, ledger } = store;
  const responseMachine = machine(stack, 'ResponseMachine');
  const requester = new CordonFunction(stack, 'AwaitApproval', { name: 'await-approval', logRetentionDays: 365 });
  const approvalGate = new ApprovalGate(stack, 'ApprovalGate', { requester, store, stateMachine: responseMachine });
  const releaseMachine = options.importedRelease
    ? sfn.StateMachine.fromStateMachineArn(stack, 'ReleaseMachine', IMPORTED_RELEASE_ARN)
    : machine(stack, 'ReleaseMachine');
  const { importedRelease: _imported, ...props } = options;
  const api = new CordonApi(stack, 'Api', {
    responseStateMachine: responseMachine,
    releaseStateMachine: releaseMachine,
    ledger,
    policy: POLICY,
    approvalGate,
    logRetentionDays: 365,
    ...props,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { app, stack, api, responseMachine, releaseMachine, ledger, key, approvalGate, template: Template.fromStack(stack) };
}

/** `METHOD /path` for every method of the REST API, rebuilt from the Resource tree. */
export function routesOf(s: ApiStack): { route: string; method: Resource }[] {
  const resources = s.template.findResources('AWS::ApiGateway::Resource') as Record<string, Resource>;
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    const r = id ? resources[id] : undefined;
    if (!r) return ''; // the root resource (Fn::GetAtt RootResourceId)
    return `${pathOf(r.Properties.ParentId)}/${String(r.Properties.PathPart)}`;
  };
  return Object.values(s.template.findResources('AWS::ApiGateway::Method') as Record<string, Resource>).map((method) => ({
    route: `${String(method.Properties.HttpMethod)} ${pathOf(method.Properties.ResourceId)}`,
    method,
  }));
}

