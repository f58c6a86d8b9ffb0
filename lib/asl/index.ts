/**
 * The workflow definitions built from code, and the file under state-machines/ each is rendered
 * to by `npm run asl` (bin/asl.ts). test/infra/asl.test.ts holds the committed files to them.
 */
import * as path from 'path';
import { render, type Definition } from './builder';
import { releaseDefinition } from './release';
import { responseDefinition } from './response';

export const STATE_MACHINES_DIR = path.join(__dirname, '..', '..', 'state-machines');

export interface GeneratedDefinition {
  /** File name under state-machines/. */
  readonly file: string;
  readonly build: () => Definition;
}

export const DEFINITIONS: readonly GeneratedDefinition[] = [
  { file: 'response.asl.json', build: () => responseDefinition() },
  { file: 'release.asl.json', build: releaseDefinition },
];

/** The text of each generated file, by its path. */
export function renderAll(dir: string = STATE_MACHINES_DIR): Array<{ path: string; text: string }> {
  return DEFINITIONS.map((d) => ({ path: path.join(dir, d.file), text: render(d.build()) }));
}

export { render } from './builder';
export { releaseDefinition } from './release';
export { responseDefinition } from './response';
