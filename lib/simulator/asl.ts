/**
 * The state-machine definitions as the simulator and the workflow tests run them: the ASL files
 * with CDK's substitutions applied, every state (nested ones too), and Step Functions' retry
 * semantics (which errors a retrier matches, how long it backs off).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionSpec } from '../functions';

export const RESPONSE_ASL = join(__dirname, '..', '..', 'state-machines', 'response.asl.json');
export const RELEASE_ASL = join(__dirname, '..', '..', 'state-machines', 'release.asl.json');

/** The ASL with each `${Placeholder}` replaced as CDK's definitionSubstitutions does: function ARNs, and the partition. */
export function loadDefinition(path: string, arnFor: (name: string) => string, partition = 'aws'): Record<string, unknown> {
  let text = readFileSync(path, 'utf8');
  for (const r of FUNCTIONS as readonly FunctionSpec[]) {
    if (r.placeholder) text = text.split(`\${${r.placeholder}}`).join(arnFor(r.name));
  }
  text = text.split('${Partition}').join(partition);
  if (/\$\{[A-Za-z]+\}/.test(text)) throw new Error('unsubstituted placeholder left in the ASL');
  return JSON.parse(text) as Record<string, unknown>;
}

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSecondsPath?: string;
  TimeoutSeconds?: number;
  Retry?: AslRetrier[];
  SecondsPath?: string;
  Seconds?: number;
  Next?: string;
  End?: boolean;
  Branches?: Array<{ States: Record<string, AslState> }>;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
}

/** Every state in the definition, including those inside Parallel branches and Map processors. */
export function allStates(states: Record<string, AslState>): Array<[string, AslState]> {
  return Object.entries(states).flatMap(([name, s]) => [
    [name, s] as [string, AslState],
    ...(s.Branches ?? []).flatMap((b) => allStates(b.States)),
    ...allStates((s.ItemProcessor ?? s.Iterator)?.States ?? {}),
  ]);
}

/** Service-integration resource of the approval gate's callback task (after `${Partition}` → aws). */
export const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Read `$.a.b` from `input` (the JSONPath subset our Wait states use). */
export function readPath(input: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`path ${path} is not a JSONPath`);
  return path
    .slice(1)
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], input);
}

/** The sleep Step Functions would take before retry `attempt` (0-based) of `retrier`, FULL jitter included. */
export function retryDelayMs(retrier: AslRetrier, attempt: number, random: () => number): number {
  const interval = retrier.IntervalSeconds ?? 1;
  const rate = retrier.BackoffRate ?? 2;
  let seconds = interval * rate ** attempt;
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds = random() * seconds;
  return seconds * 1000;
}

export function matches(retrier: AslRetrier, errorName: string): boolean {
  return retrier.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || e === 'States.TaskFailed');
}
