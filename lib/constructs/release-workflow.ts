import * as path from 'path';
import type { Construct } from 'constructs';
import { CordonWorkflow, type WorkflowProps } from './workflow';

/** The release workflow definition (docs/design.md §3.5). Its own top-level `TimeoutSeconds` is the execution timeout. */
export const RELEASE_ASL_PATH = path.join(__dirname, '..', '..', 'state-machines', 'release.asl.json');

export type ReleaseWorkflowProps = WorkflowProps;

/**
 * The release state machine (docs/design.md §3.5): undoes a containment from the incident's
 * original before-state, keeps every piece of evidence, and records who released it and why.
 * Logs to `/aws/vendedlogs/states/cordon-release-<region>` (see `CordonWorkflow`); a refused or
 * partial release ends in a Fail state, so it alarms.
 */
export class ReleaseWorkflow extends CordonWorkflow {
  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id, props, {
      name: 'release',
      definitionPath: RELEASE_ASL_PATH,
      comment: 'cordon: release a contained EC2 instance, keeping every piece of evidence',
      alarmAdvice: 'A refused or partial release fails its execution: check the execution history, the RELEASE item in the ledger and the notification.',
    });
  }
}
