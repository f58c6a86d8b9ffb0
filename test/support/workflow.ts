/**
 * Runs the real response ASL (state-machines/response.asl.json) in aws-local-stepfunctions with
 * the real Lambda handlers, over a test client factory: a thin adapter over the simulator's runner
 * (lib/simulator/workflow.ts) with no clock, so Wait states and retry intervals take no time.
 *
 * The approval gate's callback task is emulated by that runner (aws-local-stepfunctions 3 has no
 * service integrations and no `$$.Task.Token`): the real await-approval handler runs, then the task
 * waits until FakeAws settles the token (SendTaskSuccess / SendTaskFailure), or until the engine's
 * own TimeoutSecondsPath timer fires. `onCallback` lets a test act while the task waits.
 */
import type { ClientFactory } from '../../lambdas/shared/clients';
import type { ApprovalPolicy, Exemptions } from '../../lambdas/capture-state/capture-state';
import type { RevokeSessionsMode } from '../../lambdas/quarantine-role/quarantine-role';
import { loadDefinition as loadAsl, RESPONSE_ASL } from '../../lib/simulator/asl';
import { functionArn, responseHandlers, type HubSettings, type Invoke } from '../../lib/simulator/handlers';
import { runExecution, type CallbackBroker, type CallbackContext, type ExecutionRun } from '../../lib/simulator/workflow';

export type { CallbackBroker, CallbackContext };

export const LEDGER = 'cordon-ledger';
export const BUCKET = 'cordon-evidence';
export const TOPIC = 'arn:aws:sns:us-east-1:111122223333:cordon';
export const HUB_ACCOUNT = '111122223333';
export const evidenceKeyArn = (hub: string) => `arn:aws:kms:us-east-1:${hub}:key/0b3f0c1e-evidence`;

/** Where the test functions "live": their ARNs are what the ASL's placeholders become. */
const TEST_HUB = { hubAccountId: HUB_ACCOUNT, region: 'us-east-1' } as const;
export const arnFor = (name: string) => functionArn(TEST_HUB, name);

/** The ASL with each `${Placeholder}` replaced, as CDK's definitionSubstitutions does. */
export function loadDefinition(): Record<string, unknown> {
  return loadAsl(RESPONSE_ASL, arnFor);
}

export interface WorkflowOptions {
  readonly factory: ClientFactory;
  /** A factory per Lambda instead (e.g. each handler's own production factory). */
  readonly factoryFor?: (lambda: string) => ClientFactory;
  /** The security account; the target is a member account when it differs. */
  readonly hubAccountId?: string;
  /** Execution id for the context object (one per run in tests that run several). */
  readonly executionId?: string;
  readonly settleSeconds?: number;
  readonly revokeSessions?: RevokeSessionsMode;
  readonly now?: () => Date;
  /** The approval gate (capture-state's config). @default - no gate */
  readonly approval?: ApprovalPolicy;
  /** The hub's exemptions (lib/config.ts `exemptions`). @default - none */
  readonly exemptions?: Exemptions;
  /** Where callback tokens are settled (FakeAws). Required only for runs that reach the approval gate. */
  readonly callbacks?: CallbackBroker;
  /** Called while the callback task waits, after its function returned. */
  readonly onCallback?: (context: CallbackContext) => Promise<void> | void;
}

/** The hub settings the test handlers run with. */
export function testHub(o: Pick<WorkflowOptions, 'hubAccountId' | 'settleSeconds' | 'revokeSessions' | 'approval' | 'exemptions'> = {}): HubSettings {
  const hub = o.hubAccountId ?? HUB_ACCOUNT;
  return {
    hubAccountId: hub,
    region: 'us-east-1',
    ledgerTable: LEDGER,
    evidenceBucket: BUCKET,
    topicArn: TOPIC,
    evidenceKeyArn: evidenceKeyArn(hub),
    settleSeconds: o.settleSeconds ?? 15,
    revokeSessions: o.revokeSessions ?? 'auto',
    tcpEstablishedTimeout: 60,
    snapshotMaxHours: 24,
    ...(o.approval ? { approval: o.approval } : {}),
    ...(o.exemptions ? { exemptions: o.exemptions } : {}),
  };
}

export function handlersByFunction(o: WorkflowOptions): Record<string, Invoke> {
  return responseHandlers(testHub(o), (name) => o.factoryFor?.(name) ?? o.factory, o.now);
}

export type WorkflowRun = ExecutionRun;

export async function runWorkflow(input: unknown, options: WorkflowOptions): Promise<WorkflowRun> {
  return runExecution(input, {
    definition: loadDefinition(),
    handlers: handlersByFunction(options),
    arnFor,
    executionId: options.executionId ?? 'arn:aws:states:us-east-1:111122223333:execution:cordon-response:test',
    ...(options.callbacks ? { callbacks: options.callbacks } : {}),
    ...(options.onCallback ? { onCallback: options.onCallback } : {}),
  });
}
