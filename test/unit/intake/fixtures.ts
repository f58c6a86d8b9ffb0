/** Loads the real-shaped intake fixtures under test/fixtures/ and their expected decisions. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Target } from '../../../lambdas/shared/schemas';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const EVENTS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'events');
export const POLICIES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'policies');

export interface ExpectedSingle {
  decision: 'respond' | 'ignore' | 'reject';
  target?: Target;
  actions?: string[];
  /** The field the reason must start with (`<field>: …`). */
  field?: string;
  reasonIncludes?: string;
  /** A file under test/fixtures/policies/ to judge the event with. */
  policy?: string;
}
export interface ExpectedMulti {
  decision: 'respond' | 'ignore' | 'reject';
  decisions: { decision: 'respond' | 'ignore' | 'reject'; target?: Target }[];
  policy?: string;
}
export type Expected = ExpectedSingle | ExpectedMulti;

export function isMulti(e: Expected): e is ExpectedMulti {
  return 'decisions' in e;
}

export function loadExpected(): Record<string, Expected> {
  return JSON.parse(readFileSync(join(EVENTS_DIR, 'expected.json'), 'utf8')) as Record<string, Expected>;
}

export function eventFiles(): string[] {
  return readdirSync(EVENTS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'expected.json')
    .sort();
}

/** A fresh parsed copy of a fixture, safe to mutate. */
export function loadEvent<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8')) as T;
}

export function loadPolicy(file: string): unknown {
  return JSON.parse(readFileSync(join(POLICIES_DIR, file), 'utf8'));
}
