/**
 * The workflow definitions are built from code (lib/asl/) and rendered into state-machines/ by
 * `npm run asl`: the committed files are exactly that output, valid ASL once CloudFormation has
 * substituted their placeholders, and the containment branches follow the action catalogue.
 */
import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { ACTION_SPECS, type ActionSpec } from '../../lambdas/shared/actions';
import { DEFINITIONS, STATE_MACHINES_DIR, renderAll } from '../../lib/asl';
import { REQUEST_CONTEXT, RETRY, lambdaArn, type Definition, type Graph, type State } from '../../lib/asl/builder';
import { responseDefinition } from '../../lib/asl/response';
import { findFunctionSpec } from '../../lib/functions';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

/** The definition text as CloudFormation hands it to Step Functions: every `${…}` replaced with a realistic value. */
function substituted(text: string): string {
  return text.replace(/\$\{([A-Za-z]+)\}/g, (_m, name: string) => {
    if (name === 'Partition') return 'aws';
    const fn = /^(.+)FunctionArn$/.exec(name);
    if (!fn) throw new Error(`no realistic value for the placeholder \${${name}}`);
    const folder = fn[1]!.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cordon-${folder}`;
  });
}

function validate(text: string): string[] {
  return aslValidator(JSON.parse(text) as unknown).errors.map((e) => `${e['Error code']}: ${e.Message}`);
}

function parallelState(states: Record<string, State>, name: string): Graph[] {
  const state = states[name];
  if (state?.Type !== 'Parallel') throw new Error(`${name} is not a Parallel state`);
  return state.Branches as Graph[];
}

/** The gated branch of Contain, then its ContainNetworkAndRole parallel. */
function containBranches(definition: Definition): { contain: Graph[]; gated: Graph[] } {
  const contain = parallelState(definition.States, 'Contain');
  return { contain, gated: parallelState(contain[0]!.States, 'ContainNetworkAndRole') };
}

const HYPOTHETICAL: ActionSpec = {
  key: 'revokeSessions',
  lambda: 'revoke-sessions',
  state: 'RevokeSessions',
  shouldState: 'ShouldRevokeSessions',
  gated: true,
  containment: true,
  label: 'revoke sessions',
  describe: "revoke the role's active sessions",
  releaseUndoes: null,
};

describe.each(renderAll().map((g) => [g.path.slice(STATE_MACHINES_DIR.length + 1), g.path, g.text] as const))('%s', (file, path, text) => {
  const committed = readFileSync(path, 'utf8');

  it('is exactly what lib/asl builds (run npm run asl)', () => {
    expect({ file, upToDate: committed === text ? true : 'no: run npm run asl' }).toEqual({ file, upToDate: true });
    expect(committed).toBe(text);
  });

  it('is valid ASL once its placeholders are substituted (asl-validator, paths and ARNs checked)', () => {
    const deployed = substituted(committed);

    expect(deployed).not.toContain('${');
    expect(validate(deployed)).toEqual([]);
  });

  it('fails asl-validator when a Task names something that is not an ARN (so the check above is a real one)', () => {
    const broken = substituted(committed).replace(/"arn:aws:lambda:[^"]+"/, '"cordon-not-an-arn"');

    expect(validate(broken)).toEqual([expect.stringMatching(/^SCHEMA_VALIDATION_FAILED: \/States\/\w+\/Resource is invalid/)]);
  });
});

it('response.asl.json is rejected with ${Partition} left in the approval gate service integration ARN', () => {
  const raw = readFileSync(`${STATE_MACHINES_DIR}/response.asl.json`, 'utf8');

  expect(validate(raw)).toEqual(['SCHEMA_VALIDATION_FAILED: /States/Contain/Branches/0/States/AwaitApproval/Resource is invalid. must match exactly one schema in oneOf']);
});

it('renders both workflows', () => {
  expect(DEFINITIONS.map((d) => d.file)).toEqual(['response.asl.json', 'release.asl.json']);
});

describe('the containment branches follow ACTION_SPECS', () => {
  /** The `Should…` Choice states of the gated (or the evidence) actions of `specs`, in their order. */
  const shouldStates = (specs: readonly ActionSpec[], gatedOnes: boolean) => specs.filter((s) => s.gated === gatedOnes).map((s) => s.shouldState);
  const gatedStarts = (specs: readonly ActionSpec[]) => [...shouldStates(specs, true), 'ShouldLeaveTargetGroups'];
  const containStarts = (specs: readonly ActionSpec[]) => ['OpenGate', ...shouldStates(specs, false), 'ShouldHoldTargetGroups', 'CollectEvidence'];

  it('ContainNetworkAndRole holds each gated action in catalogue order, then LeaveTargetGroups; Contain holds the gate, each evidence action, preserve and collect-evidence', () => {
    const { contain, gated } = containBranches(responseDefinition());

    expect(gated.map((b) => b.StartAt)).toEqual(gatedStarts(ACTION_SPECS));
    expect(contain.map((b) => b.StartAt)).toEqual(containStarts(ACTION_SPECS));
    expect(gated.map((b) => b.StartAt)).toContain('ShouldIsolate');
    expect(contain.map((b) => b.StartAt)).toContain('ShouldSnapshot');
  });

  it('follows the catalogue order', () => {
    const reversed = [...ACTION_SPECS].reverse();
    const { contain, gated } = containBranches(responseDefinition(reversed));

    expect(gated.map((b) => b.StartAt)).toEqual(gatedStarts(reversed));
    expect(contain.map((b) => b.StartAt)).toEqual(containStarts(reversed));
    expect(gatedStarts(reversed)).not.toEqual(gatedStarts(ACTION_SPECS));
  });

  it('a new gated action with the simple pattern appears in ContainNetworkAndRole from its catalogue entry alone', () => {
    // Act
    const definition = responseDefinition([...ACTION_SPECS, HYPOTHETICAL]);

    // Assess
    const { contain, gated } = containBranches(definition);
    expect(gated.map((b) => b.StartAt)).toEqual([...shouldStates(ACTION_SPECS, true), 'ShouldRevokeSessions', 'ShouldLeaveTargetGroups']);
    expect(gated[shouldStates(ACTION_SPECS, true).length]).toEqual({
      StartAt: 'ShouldRevokeSessions',
      States: {
        ShouldRevokeSessions: {
          Type: 'Choice',
          Choices: [{ Variable: '$.before.plan.revokeSessions', BooleanEquals: true, Next: 'RevokeSessions' }],
          Default: 'RevokeSessionsNotRequested',
        },
        RevokeSessionsNotRequested: {
          Type: 'Pass',
          Result: { action: 'revokeSessions', status: 'skipped', reason: 'not requested' },
          End: true,
        },
        RevokeSessions: {
          Type: 'Task',
          Comment: "Revoke the role's active sessions",
          Resource: '${RevokeSessionsFunctionArn}',
          Parameters: { 'target.$': '$.request.target', 'incidentId.$': '$.before.incidentId', 'requestId.$': '$.request.requestId' },
          Retry: RETRY.standard,
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RevokeSessionsFailed' }],
          End: true,
        },
        RevokeSessionsFailed: {
          Type: 'Pass',
          Parameters: { action: 'revokeSessions', status: 'failed', 'error.$': '$.failure.Error', 'cause.$': '$.failure.Cause' },
          End: true,
        },
      },
    });
    expect(contain.map((b) => b.StartAt)).toEqual(containStarts(ACTION_SPECS));
    expect(validate(substituted(JSON.stringify(definition)))).toEqual([]);
  });

  it('a new evidence (not gated) action joins the branches of Contain that never wait, before preservation', () => {
    const { contain, gated } = containBranches(responseDefinition([...ACTION_SPECS, { ...HYPOTHETICAL, gated: false }]));

    expect(contain.map((b) => b.StartAt)).toEqual(['OpenGate', ...shouldStates(ACTION_SPECS, false), 'ShouldRevokeSessions', 'ShouldHoldTargetGroups', 'CollectEvidence']);
    expect(gated.map((b) => b.StartAt)).toEqual(gatedStarts(ACTION_SPECS));
  });

  it.each(ACTION_SPECS.map((s) => [s.key, s] as const))("%s: its Task's Lambda placeholder is its function's (lib/functions.ts)", (_key, spec) => {
    expect(lambdaArn(spec.lambda)).toBe(`\${${findFunctionSpec(spec.lambda)?.placeholder}}`);
  });

  it('the request context every simple Task receives', () => {
    expect(REQUEST_CONTEXT).toEqual({ 'target.$': '$.request.target', 'incidentId.$': '$.before.incidentId', 'requestId.$': '$.request.requestId' });
  });
});

describe('a hub-exempt response (docs/design.md §3.2)', () => {
  const definition = responseDefinition();
  const choices = (state: State | undefined) => (state as unknown as { Choices: Array<Record<string, unknown>> }).Choices;

  it('goes from CheckExemptOrDuplicate straight to Contain (no ProtectInstance); a duplicate still goes to RecordOutcome', () => {
    expect(choices(definition.States.CheckExemptOrDuplicate)).toEqual([
      { Variable: '$.before.duplicate', BooleanEquals: true, Next: 'RecordOutcome' },
      { Variable: '$.before.exempt', BooleanEquals: true, Next: 'Contain' },
    ]);
  });

  it('skips preservation before anything else in the preserve branch', () => {
    const contain = definition.States.Contain as unknown as { Branches: Graph[] };
    const preserve = contain.Branches.find((b) => b.StartAt === 'ShouldHoldTargetGroups')!;
    expect(choices(preserve.States.ShouldHoldTargetGroups)[0]?.Next).toBe('PreservationExempt');
    expect(preserve.States.PreservationExempt).toMatchObject({ Type: 'Pass', Result: { action: 'preserve', status: 'skipped' }, End: true });
  });

  it('ends ResponseComplete only without failures, as declined does', () => {
    const complete = choices(definition.States.CheckOutcome).filter((c) => c.Next === 'ResponseComplete');
    expect(JSON.stringify(complete[0])).not.toContain('"exempt"');
    expect(JSON.stringify(complete[1])).toContain('"exempt"');
    expect(JSON.stringify(complete[1])).toContain('$.outcome.failures[0]');
  });
});
