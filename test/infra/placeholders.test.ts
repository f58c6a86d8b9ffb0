/**
 * docs/design.md §3: every `${…}` placeholder in every state-machines/*.asl.json has a
 * substitution in the construct that deploys it, and every substitution is used.
 * The pairing is found from the synthesized hub, not from a hand-kept list: an
 * ASL file that no state machine deploys fails too.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { ROOT, synth, type Synthesized } from './synth';

const DIR = path.join(ROOT, 'state-machines');
const aslFiles = readdirSync(DIR).filter((f) => f.endsWith('.asl.json')).sort();

/** `${Name}` occurrences in a definition (CloudFormation DefinitionSubstitutions syntax). */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!))].sort();
}

interface Deployed {
  readonly logicalId: string;
  readonly definition: string;
  readonly substitutions: string[];
}

let deployed: Deployed[];

beforeAll(() => {
  const app: Synthesized = synth();
  deployed = app.hubs.flatMap((hub) => {
    const stateMachines = app.assembly.getStackArtifact(hub.artifactId).template.Resources as Record<
      string,
      { Type: string; Properties: { DefinitionS3Location?: { Key: string }; DefinitionSubstitutions?: Record<string, unknown> } }
    >;
    return Object.entries(stateMachines)
      .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
      .map(([logicalId, r]) => {
        const key = r.Properties.DefinitionS3Location?.Key;
        if (!key) throw new Error(`${logicalId}: expected a definition loaded from a file (DefinitionBody.fromFile)`);
        return {
          logicalId,
          definition: readFileSync(path.join(app.assembly.directory, `asset.${key}`), 'utf8'),
          substitutions: Object.keys(r.Properties.DefinitionSubstitutions ?? {}).sort(),
        };
      });
  });
});

it('finds the workflow definitions', () => {
  expect(aslFiles).toContain('response.asl.json');
});

describe.each(aslFiles)('%s', (file) => {
  const text = readFileSync(path.join(DIR, file), 'utf8');

  it('is valid JSON with placeholders', () => {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(placeholders(text).length).toBeGreaterThan(0);
  });

  it('is deployed by a state machine whose substitutions match its placeholders exactly', () => {
    // Act
    const machines = deployed.filter((d) => d.definition === text);

    // Assess
    expect({ file, deployedBy: machines.length > 0 }).toEqual({ file, deployedBy: true });
    for (const machine of machines) {
      const used = placeholders(text);
      expect({ file, withoutSubstitution: used.filter((p) => !machine.substitutions.includes(p)) }).toEqual({
        file,
        withoutSubstitution: [],
      });
      expect({ file, unusedSubstitutions: machine.substitutions.filter((s) => !used.includes(s)) }).toEqual({
        file,
        unusedSubstitutions: [],
      });
    }
  });
});
