/**
 * Test doubles for the CLI: CliDeps that capture stdout/stderr, a clock whose sleep only advances
 * time, real SDK clients (fake credentials) for aws-sdk-client-mock to intercept, a builder of
 * execution histories in Step Functions' own event format, and a GetExecutionHistory fake that
 * pages newest-first with nextToken as the API does.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  SFNClient,
  type SFNClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { AwsClients, AwsOptions } from '../../../bin/cli/aws';
import type { CliDeps } from '../../../bin/cli/deps';
import { FAKE_CREDENTIALS } from '../../support/clients';

export const HUB = '111122223333';
export const MEMBER = '444455556666';
export const REGION = 'eu-west-1';
export const CALLER_ARN = `arn:aws:sts::${HUB}:assumed-role/IncidentResponder/alice`;
export const RESPONSE_MACHINE = `arn:aws:states:${REGION}:${HUB}:stateMachine:ResponseWorkflowStateMachineA1B2C3`;
export const RELEASE_MACHINE = `arn:aws:states:${REGION}:${HUB}:stateMachine:ReleaseWorkflowStateMachineD4E5F6`;
export const TABLE = 'CordonHub-eu-west-1-EvidenceStoreLedger1A2B3C-XYZ';
export const BUCKET = 'cordonhub-eu-west-1-evidencestorebucket-abc';
export const RESPONSE_ID = '6c1f3a52-9d4e-4b7a-8f10-2e5d7c9b0a14';
export const RELEASE_ID = '0e9b7d2c-1a3f-4c5e-9b8d-7f6a5e4d3c2b';
export const INSTANCE = 'i-0123456789abcdef0';
export const executionArnOf = (machine: string, name: string): string => machine.replace(':stateMachine:', ':execution:') + `:${name}`;
export const RESPONSE_EXECUTION = executionArnOf(RESPONSE_MACHINE, RESPONSE_ID);
export const RELEASE_EXECUTION = executionArnOf(RELEASE_MACHINE, RELEASE_ID);

export const STACK_OUTPUTS = [
  { OutputKey: 'ResponseStateMachineArn', OutputValue: RESPONSE_MACHINE },
  { OutputKey: 'ReleaseStateMachineArn', OutputValue: RELEASE_MACHINE },
  { OutputKey: 'LedgerTableName', OutputValue: TABLE },
  { OutputKey: 'EvidenceBucketName', OutputValue: BUCKET },
];

export interface TestDeps extends CliDeps {
  readonly out: () => string;
  readonly err: () => string;
  /** Every AwsOptions the command asked clients for. */
  readonly awsRequests: AwsOptions[];
  readonly sleeps: number[];
  readonly elapsedMs: () => number;
}

export const T0 = Date.parse('2025-06-01T12:00:00.000Z');

export function testDeps(options: { env?: Record<string, string>; tty?: boolean; ids?: string[]; sdkRegion?: string | null } = {}): TestDeps {
  const out: string[] = [];
  const err: string[] = [];
  const awsRequests: AwsOptions[] = [];
  const sleeps: number[] = [];
  let now = T0;
  const ids = [...(options.ids ?? [RESPONSE_ID])];
  return {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readFile: (path) => {
      throw Object.assign(new Error(`no such file ${path}`), { code: 'ENOENT' });
    },
    env: options.env ?? {},
    stdoutIsTTY: options.tty ?? false,
    stderrIsTTY: options.tty ?? false,
    clock: {
      now: () => new Date(now),
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
    newId: () => {
      const id = ids.shift();
      if (!id) throw new Error('test ran out of ids');
      return id;
    },
    aws: async (o) => {
      awsRequests.push(o);
      // What the SDK resolves without --region (AWS_REGION or the profile): `sdkRegion`; null = none.
      const region = o.region ?? (options.sdkRegion === undefined ? REGION : options.sdkRegion ?? undefined);
      return clientsFor(region);
    },
    out: () => out.join(''),
    err: () => err.join(''),
    awsRequests,
    sleeps,
    elapsedMs: () => now - T0,
  };
}

export function clientsFor(region: string | undefined): AwsClients {
  const config = {
    ...(region ? { region } : { region: async (): Promise<string> => Promise.reject(new Error('Region is missing')) }),
    credentials: FAKE_CREDENTIALS,
  };
  return {
    sts: new STSClient(config),
    cloudformation: new CloudFormationClient(config),
    sfn: new SFNClient(config),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } }),
  };
}

/** An AWS SDK v3 service exception. */
export function awsError(name: string, message: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'server' ? 500 : 400, requestId: 'test', attempts: 1, totalRetryDelay: 0 },
  });
}

// ---------------------------------------------------------------------------
// Execution histories
// ---------------------------------------------------------------------------

type Details = Omit<HistoryEvent, 'id' | 'type' | 'timestamp' | 'previousEventId'>;

/** Builds a history the way Step Functions records one: ids in order, each event linked to the one that led to it. */
export class History {
  readonly events: HistoryEvent[] = [];
  private clockMs = T0;

  add(type: string, previousEventId: number | undefined, details: Details = {}, afterMs = 100): number {
    this.clockMs += afterMs;
    const id = this.events.length + 1;
    this.events.push({
      id,
      type: type as HistoryEvent['type'],
      timestamp: new Date(this.clockMs),
      ...(previousEventId !== undefined ? { previousEventId } : {}),
      ...details,
    });
    return id;
  }

  started(input: unknown): number {
    return this.add('ExecutionStarted', undefined, { executionStartedEventDetails: { input: JSON.stringify(input), roleArn: 'arn:aws:iam::111122223333:role/sfn' } }, 0);
  }

  enter(prev: number, stateType: string, name: string, input: unknown = {}): number {
    return this.add(`${stateType}StateEntered`, prev, { stateEnteredEventDetails: { name, input: JSON.stringify(input) } });
  }

  exit(prev: number, stateType: string, name: string, output: unknown = {}): number {
    return this.add(`${stateType}StateExited`, prev, { stateExitedEventDetails: { name, output: JSON.stringify(output) } });
  }

  /** A Lambda task's invocation: scheduled, started, then succeeded with `output` or failed with `failure`. */
  invoke(prev: number, result: { output: unknown } | { error: string; cause: string }, durationMs = 400): number {
    const scheduled = this.add('LambdaFunctionScheduled', prev, {
      lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:eu-west-1:111122223333:function:cordon-x', input: '{}' },
    });
    const started = this.add('LambdaFunctionStarted', scheduled);
    if ('output' in result) {
      return this.add('LambdaFunctionSucceeded', started, { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(result.output) } }, durationMs);
    }
    return this.add('LambdaFunctionFailed', started, { lambdaFunctionFailedEventDetails: { error: result.error, cause: result.cause } }, durationMs);
  }

  /** Enter a Task, invoke its Lambda once, exit: the id of the exit. */
  task(prev: number, name: string, output: unknown, input: unknown = {}): number {
    const entered = this.enter(prev, 'Task', name, input);
    const done = this.invoke(entered, { output });
    return this.exit(done, 'Task', name, output);
  }

  pass(prev: number, name: string, output: unknown = {}): number {
    return this.exit(this.enter(prev, 'Pass', name), 'Pass', name, output);
  }

  choice(prev: number, name: string): number {
    return this.exit(this.enter(prev, 'Choice', name), 'Choice', name);
  }
}

/** Serves GetExecutionHistory from `batches`: the n-th poll (a request without nextToken) sees batches 0..n. */
export function serveHistory(sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>, batches: HistoryEvent[][]): { requests: GetExecutionHistoryCommandInput[] } {
  const requests: GetExecutionHistoryCommandInput[] = [];
  let visible = 0;
  sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    requests.push(input);
    if (input.nextToken === undefined) visible = Math.min(visible + 1, batches.length);
    const events = batches.slice(0, visible).flat();
    const ordered = input.reverseOrder ? [...events].reverse() : events;
    const offset = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const size = input.maxResults ?? 100;
    const page = ordered.slice(offset, offset + size);
    return { $metadata: {}, events: page, ...(offset + size < ordered.length ? { nextToken: String(offset + size) } : {}) };
  });
  return { requests };
}
