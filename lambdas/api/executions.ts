/**
 * The API's Step Functions calls: start a workflow execution named after the request's id
 * (`executionName`), and describe a response's execution, found from its id alone.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { executionArnFor, executionName } from '../shared/executions';
import type { ReleaseRequest, ResponseRequest } from '../shared/schemas';
import type { ApiDeps } from './contract';

/** StartExecution of `stateMachineArn` for `id`, with `input` as its JSON input. */
export async function startExecution(
  deps: ApiDeps,
  stateMachineArn: string,
  id: string,
  input: ResponseRequest | ReleaseRequest,
): Promise<{ stateMachineArn: string; executionArn: string }> {
  const name = executionName(id);
  const out = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  const executionArn = out.executionArn ?? executionArnFor(stateMachineArn, name);
  if (!executionArn) throw new Error(`StartExecution on ${stateMachineArn} returned no execution ARN`);
  return { stateMachineArn, executionArn };
}

/** DescribeExecution of the response's execution; undefined when there is none (or its history expired). */
export async function describeExecution(
  deps: ApiDeps,
  stateMachineArn: string,
  id: string,
): Promise<DescribeExecutionCommandOutput | undefined> {
  const executionArn = executionArnFor(stateMachineArn, executionName(id));
  if (!executionArn) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  try {
    return await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if ((err as { name?: unknown }).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}
