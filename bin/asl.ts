/**
 * `npm run asl`: renders the workflow definitions built in lib/asl/ into state-machines/*.asl.json,
 * the files CDK deploys (DefinitionBody.fromFile) and the simulator runs. Edit lib/asl/, run this,
 * commit both; test/infra/asl.test.ts fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { renderAll } from '../lib/asl';

for (const { path, text } of renderAll()) {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) {
    console.log(`unchanged ${relative(process.cwd(), path)}`);
  } else {
    writeFileSync(path, text);
    console.log(`wrote     ${relative(process.cwd(), path)}`);
  }
}
