/**
 * Runs the real release ASL (state-machines/release.asl.json) in aws-local-stepfunctions with the
 * real release handlers, over a test client factory: the release counterpart of ./workflow.ts, whose
 * table, bucket and topic names it shares so that one FakeAws holds both a containment and its release.
 * Retry intervals are overridden to zero; the definition is still what executes.
 */
import type { ClientFactory } from '../../lambdas/shared/clients';
import { loadDefinition, RELEASE_ASL } from '../../lib/simulator/asl';
import { releaseHandlers as handlers, type Invoke } from '../../lib/simulator/handlers';
import { runExecution } from '../../lib/simulator/workflow';
import { arnFor, testHub, type WorkflowRun } from './workflow';

/** The release ASL with each `${Placeholder}` replaced by its function's ARN, as CDK's definitionSubstitutions does. */
export function loadReleaseDefinition(): Record<string, unknown> {
  return loadDefinition(RELEASE_ASL, arnFor);
}

export interface ReleaseOptions {
  readonly factory: ClientFactory;
  /** A factory per Lambda instead (e.g. each handler's own production factory). */
  readonly factoryFor?: (lambda: string) => ClientFactory;
  readonly executionId?: string;
  readonly now?: () => Date;
}

export function releaseHandlers(o: ReleaseOptions): Record<string, Invoke> {
  return handlers(testHub(), (name) => o.factoryFor?.(name) ?? o.factory, o.now);
}

export async function runRelease(input: unknown, options: ReleaseOptions): Promise<WorkflowRun> {
  return runExecution(input, {
    definition: loadReleaseDefinition(),
    handlers: releaseHandlers(options),
    arnFor,
    executionId: options.executionId ?? 'arn:aws:states:us-east-1:111122223333:execution:cordon-release:test',
  });
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
