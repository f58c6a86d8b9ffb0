/**
 * docs/openapi.yaml names the containment actions by hand (the `Action` schema and the request's
 * `actions` items). This holds every such enum, and the array's `maxItems`, to the catalogue
 * (lambdas/shared/actions.ts): adding, removing or renaming an action fails here until the
 * document says the same.
 *
 * `yaml` is the parser asl-validator (a devDependency) brings; YAML 1.2 core schema, no custom tags.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ACTIONS } from '../../lambdas/shared/actions';
import { ROOT } from './synth';

type Node = { path: string; value: Record<string, unknown> };

/** Every object in the document with its JSON-pointer-ish path. */
function objects(value: unknown, at = '#'): Node[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objects(v, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  const rec = value as Record<string, unknown>;
  return [{ path: at, value: rec }, ...Object.entries(rec).flatMap(([k, v]) => objects(v, `${at}/${k}`))];
}

const isActionEnum = (node: Node): boolean =>
  Array.isArray(node.value.enum) && node.value.enum.some((v) => (ACTIONS as readonly unknown[]).includes(v));

describe('docs/openapi.yaml actions', () => {
  const doc: unknown = parse(readFileSync(path.join(ROOT, 'docs', 'openapi.yaml'), 'utf8'));
  const all = objects(doc);

  it('lists exactly the catalogue in every enum that names an action, in its order', () => {
    const enums = all.filter(isActionEnum);
    // The Action schema and StartResponse.actions.items: a walk that finds neither is looking in the wrong place.
    expect(enums.map((n) => n.path).sort()).toEqual(['#/components/schemas/Action', '#/components/schemas/StartResponse/properties/actions/items']);
    for (const node of enums) expect({ path: node.path, enum: node.value.enum }).toEqual({ path: node.path, enum: [...ACTIONS] });
  });

  it('bounds every array of actions by the number of actions, distinct', () => {
    const arrays = all.filter((n) => n.value.type === 'array' && typeof n.value.items === 'object' && isActionEnum({ path: '', value: n.value.items as Record<string, unknown> }));
    expect(arrays.map((n) => n.path)).toEqual(['#/components/schemas/StartResponse/properties/actions']);
    for (const node of arrays) {
      expect({ path: node.path, minItems: node.value.minItems, maxItems: node.value.maxItems, uniqueItems: node.value.uniqueItems }).toEqual({
        path: node.path,
        minItems: 1,
        maxItems: ACTIONS.length,
        uniqueItems: true,
      });
    }
  });
});
