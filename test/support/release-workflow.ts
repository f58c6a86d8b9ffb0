/**
 * Runs the real release ASL (state-machines/release.asl.json) in aws-local-stepfunctions with the
 * real release handlers, over a test client factory: the release counterpart of ./workflow.ts, whose
 * table, bucket and topic names it shares so that one FakeAws holds both a containment and its release.
 * Retry intervals are overridden to zero; the definition is still what executes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { respondersOf } from '../../lib/responders';
import type { ClientFactory } from '../../lambdas/shared/clients';
import { silentLog } from '../../lambdas/shared/handler';
import * as releaseLoad from '../../lambdas/release-load/handler';
import * as releaseRecord from '../../lambdas/release-record/handler';
import * as releaseRestore from '../../lambdas/release-restore/handler';
import { allStates, BUCKET, LEDGER, TOPIC, type WorkflowRun } from './workflow';

export const RELEASE_ASL_PATH = join(__dirname, '..', '..', 'state-machines', 'release.asl.json');

const functionArn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:cordon-${name}`;

/** The release ASL with each `${Placeholder}` replaced by its function's ARN, as CDK's definitionSubstitutions does. */
export function loadReleaseDefinition(): Record<string, unknown> {
  let text = readFileSync(RELEASE_ASL_PATH, 'utf8');
  for (const r of respondersOf('release')) text = text.split(`\${${r.placeholder}}`).join(functionArn(r.name));
  if (/\$\{[A-Za-z]+\}/.test(text)) throw new Error('unsubstituted placeholder left in the release ASL');
  return JSON.parse(text) as Record<string, unknown>;
}

export interface ReleaseOptions {
  readonly factory: ClientFactory;
  /** A factory per Lambda instead (e.g. each handler's own production factory). */
  readonly factoryFor?: (lambda: string) => ClientFactory;
  readonly executionId?: string;
  readonly now?: () => Date;
}

type Invoke = (event: unknown) => Promise<unknown>;

export function releaseHandlers(o: ReleaseOptions): Record<string, Invoke> {
  const f = (name: string): ClientFactory => o.factoryFor?.(name) ?? o.factory;
  return {
    'release-load': releaseLoad.createHandler(() => ({ factory: f('release-load'), now: o.now, config: { ledgerTable: LEDGER, partition: 'aws' } })),
    'release-restore': releaseRestore.createHandler(() => ({ factory: f('release-restore'), sleep: async () => undefined })),
    'release-record': releaseRecord.createHandler(() => ({
      factory: f('release-record'),
      now: o.now,
      log: silentLog,
      config: { ledgerTable: LEDGER, evidenceBucket: BUCKET, topicArn: TOPIC },
    })),
  };
}

type AslStates = Parameters<typeof allStates>[0];

export async function runRelease(input: unknown, options: ReleaseOptions): Promise<WorkflowRun> {
  const definition = loadReleaseDefinition();
  const byFunction = releaseHandlers(options);
  const byArn = new Map(respondersOf('release').map((r) => [functionArn(r.name), byFunction[r.name]]));
  const taskHandlers: Record<string, Invoke> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [name, state] of allStates(definition.States as AslStates)) {
    if (state.Type !== 'Task') continue;
    const fn = byArn.get(state.Resource ?? '');
    if (!fn) throw new Error(`state ${name} calls ${state.Resource}, which has no local handler`);
    taskHandlers[name] = fn;
    retryOverrides[name] = 0;
  }
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, retryIntervalOverrides: retryOverrides },
    context: { Execution: { Id: options.executionId ?? 'arn:aws:states:us-east-1:111122223333:execution:cordon-release:test' } },
  });
  const events: WorkflowRun['events'] = [];
  const collecting = (async () => {
    for await (const e of execution.eventLogs) events.push(e);
  })();
  let status: WorkflowRun['status'] = 'SUCCEEDED';
  let output: Record<string, unknown> | undefined;
  let error: WorkflowRun['error'];
  try {
    output = (await execution.result) as Record<string, unknown>;
  } catch (err) {
    status = 'FAILED';
    const e = err as Error;
    error = { name: e.name, message: e.message };
  }
  await collecting;
  // The engine throws a generic error; the ExecutionFailed event carries the Fail state's Error and Cause.
  const failed = events.find((e) => e.type === 'ExecutionFailed') as { Error?: string; Cause?: string } | undefined;
  if (error && failed?.Error) error = { name: failed.Error, message: failed.Cause ?? error.message };
  const entered = events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name);
  return {
    status,
    output,
    error,
    events,
    transitions: events.filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried').length,
    entered,
  };
}

/** A ReleaseRequest (lambdas/shared/schemas.ts) for the scenario's response. */
export function releaseRequest(overrides: Record<string, unknown> = {}) {
  return {
    releaseId: 'rel-2b7d9c41',
    responseId: '6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10',
    source: 'manual',
    reason: 'Forensic image taken and the web tier rebuilt from a clean AMI; returning the instance to its owner',
    requestedBy: 'arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice',
    ...overrides,
  };
}
