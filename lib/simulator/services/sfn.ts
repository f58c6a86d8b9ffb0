/**
 * Step Functions callback tasks (the approval gate): a task waits on its token until
 * SendTaskSuccess / SendTaskFailure settles it; after it timed out, callbacks get TaskTimedOut.
 */
import { awsError, type ServiceHandlers, type SimState } from '../core';

/** A task starts waiting on `token` (the workflow runner's waitForTaskToken emulation). */
export function openTask(s: SimState, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => s.taskTokens.set(token, { state: 'waiting', resolve, reject }));
}

/** The task ended without a callback (it timed out): Step Functions answers later callbacks with TaskTimedOut. */
export function closeTask(s: SimState, token: string): void {
  const task = s.taskTokens.get(token);
  if (task?.state === 'waiting') task.state = 'closed';
}

function waitingTask(s: SimState, token: unknown) {
  const task = typeof token === 'string' ? s.taskTokens.get(token) : undefined;
  if (!task) throw awsError('InvalidToken', 'Invalid Token');
  if (task.state !== 'waiting') throw awsError('TaskTimedOut', 'Task Timed Out');
  return task;
}

function sendTaskSuccess(s: SimState, input: { taskToken?: string; output?: string }) {
  const task = waitingTask(s, input.taskToken);
  let output: unknown;
  try {
    output = JSON.parse(input.output ?? '');
  } catch {
    throw awsError('InvalidOutput', 'The provided JSON output data is not valid');
  }
  task.state = 'succeeded';
  task.resolve(output);
  return {};
}

function sendTaskFailure(s: SimState, input: { taskToken?: string; error?: string; cause?: string }) {
  const task = waitingTask(s, input.taskToken);
  task.state = 'failed';
  task.reject(awsError(input.error ?? 'States.TaskFailed', input.cause ?? ''));
  return {};
}

export function sfnHandlers(s: SimState): ServiceHandlers {
  return {
    SendTaskSuccess: (i: { taskToken?: string; output?: string }) => sendTaskSuccess(s, i),
    SendTaskFailure: (i: { taskToken?: string; error?: string; cause?: string }) => sendTaskFailure(s, i),
  };
}
