/**
 * Intake logic (EventBridge target): judge the event with `decideAll`, then start one
 * response-workflow execution per `respond` decision.
 *
 * Idempotency. The execution name is derived from the request id (the EventBridge event
 * id, plus `-<n>` for Security Hub), so a redelivered event maps to the same name:
 * - the original execution still running, same input: StartExecution succeeds and returns it;
 * - the original execution closed: Step Functions answers `ExecutionAlreadyExists` whatever
 *   the input, so intake reads the existing execution (DescribeExecution) and compares inputs.
 *   Same input: a duplicate, reported as such. Different input: a conflict, reported in
 *   `conflicts` (the handler then fails the invocation), never swallowed.
 *
 * `ignore` and `reject` are logged and returned; a reject does not throw, since EventBridge
 * would redeliver a hostile event until its retries ran out. Transient Step Functions errors
 * are rethrown as `TransientAwsError` so Lambda and EventBridge retry.
 */
import { isDeepStrictEqual } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { incidentPrefix, putJsonEvidence } from '../shared/evidence';
import { incidentIdFor } from '../shared/ledger';
import { classify, CordonError, errorSummary, isTransient } from '../shared/errors';
import { executionArnFor, executionName } from '../shared/executions';
import { decideAll, type Decision, type IntakePolicy } from './decide';

/** The slice of a logger intake needs; Powertools' `Logger` satisfies it. */
export interface IntakeLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface IntakeDeps {
  readonly sfn: SFNClient;
  /** Where the finding itself is kept as evidence, before the workflow starts. */
  readonly evidence?: { readonly s3: S3Client; readonly bucket: string };
  readonly stateMachineArn: string;
  readonly policy: IntakePolicy;
  readonly log: IntakeLogger;
}

export interface ExecutionRecord {
  readonly requestId: string;
  readonly name: string;
  readonly executionArn: string;
  /** `started` now, or `duplicate`: an execution with this name and the same input already existed. */
  readonly status: 'started' | 'duplicate';
}

export interface ExecutionConflict {
  readonly requestId: string;
  readonly name: string;
  readonly executionArn: string | undefined;
  readonly reason: string;
}

export interface IntakeSummary {
  readonly decisions: Decision[];
  readonly executions: ExecutionRecord[];
  readonly conflicts: ExecutionConflict[];
}

/** An execution with the request's name exists with a different input (or could not be compared). */
export class ExecutionConflictError extends CordonError {
  constructor(message: string) {
    super('ExecutionConflictError', message);
  }
}

// Execution names and ARNs live in shared/executions.ts (the API and the CLI use them too); re-exported here,
// where callers have always imported them from.
export { executionArnFor, executionName, MAX_EXECUTION_NAME } from '../shared/executions';

function logDecision(log: IntakeLogger, d: Decision): void {
  if (d.decision === 'respond') {
    log.info('intake decision', {
      decision: d.decision,
      reason: d.reason,
      requestId: d.request.requestId,
      source: d.request.source,
      target: d.target,
      actions: d.actions,
    });
  } else if (d.decision === 'ignore') {
    log.info('intake decision', { decision: d.decision, reason: d.reason });
  } else {
    log.warn('intake decision', { decision: d.decision, reason: d.reason });
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type ExistingOutcome =
  | { readonly kind: 'duplicate'; readonly executionArn: string }
  | { readonly kind: 'conflict'; readonly executionArn: string | undefined; readonly reason: string };

/** After `ExecutionAlreadyExists`: same input (a redelivery) or a real conflict? */
async function compareExisting(deps: IntakeDeps, name: string, input: string): Promise<ExistingOutcome> {
  const executionArn = executionArnFor(deps.stateMachineArn, name);
  if (!executionArn) {
    return { kind: 'conflict', executionArn, reason: `execution ${name} already exists; state machine ARN not understood, inputs not compared` };
  }
  let existingInput: string | undefined;
  try {
    const out = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
    existingInput = out.input;
  } catch (err) {
    if (isTransient(err)) throw classify(err);
    const { error } = errorSummary(err);
    return { kind: 'conflict', executionArn, reason: `execution ${name} already exists; its input could not be read (${error})` };
  }
  if (isDeepStrictEqual(parseJson(existingInput), JSON.parse(input))) return { kind: 'duplicate', executionArn };
  return { kind: 'conflict', executionArn, reason: `execution ${name} already exists with a different input` };
}

export async function runIntake(event: unknown, deps: IntakeDeps): Promise<IntakeSummary> {
  const decisions = decideAll(event, deps.policy);
  const executions: ExecutionRecord[] = [];
  const conflicts: ExecutionConflict[] = [];

  for (const d of decisions) {
    logDecision(deps.log, d);
    if (d.decision !== 'respond') continue;

    const { requestId } = d.request;
    const name = executionName(requestId);
    const input = JSON.stringify(d.request);
    if (deps.evidence && (d.request.source === 'guardduty' || d.request.source === 'securityhub')) {
      // The finding itself, as delivered, is evidence: kept (with its SHA-256) before anything acts on it.
      const key = `${incidentPrefix(incidentIdFor(d.request.target))}findings/${requestId}.json`;
      await putJsonEvidence(deps.evidence.s3, deps.evidence.bucket, key, event).catch((err: unknown) => {
        throw classify(err);
      });
    }
    try {
      const out = await deps.sfn.send(
        new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input }),
      );
      const executionArn = out.executionArn ?? executionArnFor(deps.stateMachineArn, name) ?? '';
      executions.push({ requestId, name, executionArn, status: 'started' });
      deps.log.info('intake started execution', { requestId, name, executionArn });
    } catch (err) {
      if ((err as { name?: unknown } | undefined)?.name !== 'ExecutionAlreadyExists') throw classify(err);
      const outcome = await compareExisting(deps, name, input);
      if (outcome.kind === 'duplicate') {
        executions.push({ requestId, name, executionArn: outcome.executionArn, status: 'duplicate' });
        deps.log.info('intake execution already exists with the same input', {
          requestId,
          name,
          executionArn: outcome.executionArn,
        });
      } else {
        conflicts.push({ requestId, name, executionArn: outcome.executionArn, reason: outcome.reason });
        deps.log.error('intake execution conflict', {
          requestId,
          name,
          executionArn: outcome.executionArn,
          reason: outcome.reason,
        });
      }
    }
  }
  return { decisions, executions, conflicts };
}
