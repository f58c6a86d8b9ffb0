import * as path from 'path';
import { Stack, type Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CordonWorkflow, type WorkflowProps } from './workflow';

/** The response workflow definition (owned by the workflow authors, docs/design.md §3). */
export const RESPONSE_ASL_PATH = path.join(__dirname, '..', '..', 'state-machines', 'response.asl.json');

export interface ResponseWorkflowProps extends WorkflowProps {
  /**
   * Extra `definitionSubstitutions` (for example the settle wait), besides the function ARNs.
   * @default - none
   */
  readonly extraSubstitutions?: Readonly<Record<string, string>>;
  /**
   * Execution timeout: a backstop for the definition's own caps.
   * @default - none beyond the definition's own TimeoutSeconds
   */
  readonly timeout?: Duration;
}

/**
 * The response state machine (docs/design.md §3), from state-machines/response.asl.json, plus
 * `Partition` for service-integration ARNs. The approval gate's callback task invokes
 * `await-approval` like any responder, so the one `lambda:InvokeFunction` statement covers it.
 * Logs to `/aws/vendedlogs/states/cordon-response-<region>` (see `CordonWorkflow`).
 */
export class ResponseWorkflow extends CordonWorkflow {
  constructor(scope: Construct, id: string, props: ResponseWorkflowProps) {
    super(scope, id, props, {
      name: 'response',
      definitionPath: RESPONSE_ASL_PATH,
      comment: 'cordon: contain a compromised EC2 instance and preserve the evidence',
      alarmAdvice: 'Check the execution history and the incident ledger.',
      // Service-integration ARNs (the approval gate's `lambda:invoke.waitForTaskToken`) name the partition.
      extraSubstitutions: { ...props.extraSubstitutions, Partition: Stack.of(scope).partition },
      timeout: props.timeout,
    });
  }
}
