/**
 * Progress from an execution history: lanes per Parallel branch and Map iteration of the real
 * response ASL, what each event reads as, and how it prints on a terminal and in a pipe.
 */
import responseDefinition from '../../../state-machines/response.asl.json';
import { COLOUR, PLAIN } from '../../../bin/cli/output';
import {
  ExecutionProgress,
  formatElapsed,
  formatLine,
  genericLabels,
  laneIndex,
  ProgressPrinter,
  RESPONSE_LABELS,
  type ProgressLine,
} from '../../../bin/cli/progress';
import { ENI_A, ENI_B, responseRun, SNAP } from './histories';
import { History } from './support';

type Rec = Record<string, unknown>;
const lanesAndText = (lines: ProgressLine[]) => lines.map((l) => [l.lane, l.kind, l.text]);

function consumeAll(events: ReturnType<typeof responseRun>['events']): { progress: ExecutionProgress; lines: ProgressLine[] } {
  const progress = new ExecutionProgress(responseDefinition, RESPONSE_LABELS);
  return { progress, lines: events.flatMap((e) => progress.consume(e)) };
}

describe('response ASL lanes', () => {
  const contain = (responseDefinition.States as Rec).Contain as { Branches: Array<{ StartAt: string }> };

  it('labels every Parallel branch and Map of state-machines/response.asl.json (a renamed state fails here)', () => {
    const starts = contain.Branches.map((b) => b.StartAt);
    expect(starts.map((s) => RESPONSE_LABELS.labels[s])).toEqual(['approval', 'flow logs', 'snapshots', 'preserve', 'collect evidence']);
    const index = laneIndex(responseDefinition, RESPONSE_LABELS);
    // Behind the approval gate, a nested Parallel: isolation, role quarantine, and leaving target groups.
    expect(index.get('PrepareIsolationGroups')?.lane).toBe('isolate');
    expect(index.get('QuarantineRole')?.lane).toBe('quarantine');
    expect(index.get('LeaveTargetGroups')?.lane).toBe('preserve');
    expect(index.get('AwaitApproval')?.lane).toBe('approval');
    const maps = [...index.entries()].filter(([, info]) => info.type === 'Map').map(([name]) => name);
    expect(maps.sort()).toEqual(['IsolateEachInterface', 'ShareSnapshots']);
    for (const name of maps) expect(RESPONSE_LABELS.labels[name]).toBeDefined();
  });

  it('names only states that exist in the ASL (summaries, quiet states, pass kinds)', () => {
    const index = laneIndex(responseDefinition, RESPONSE_LABELS);
    const named = [...Object.keys(RESPONSE_LABELS.summaries), ...RESPONSE_LABELS.quiet, ...Object.keys(RESPONSE_LABELS.passes ?? {})];
    expect(named.filter((n) => !index.has(n))).toEqual([]);
  });

  it('puts each state in its branch or iteration lane', () => {
    const index = laneIndex(responseDefinition, RESPONSE_LABELS);
    expect(index.get('CaptureBeforeState')).toEqual({ lane: 'response', map: null, type: 'Task' });
    expect(index.get('QuarantineRole')).toEqual({ lane: 'quarantine', map: null, type: 'Task' });
    expect(index.get('UntrackInterface')).toEqual({ lane: 'isolate', map: 'IsolateEachInterface', type: 'Task' });
    expect(index.get('CopyIntoHub')).toEqual({ lane: 'share', map: 'ShareSnapshots', type: 'Task' });
  });
});

describe('ExecutionProgress over a recorded contained response', () => {
  it('reads the history as one line per meaningful event, per branch and per interface', () => {
    const { progress, lines } = consumeAll(responseRun('succeeds').events);

    expect(lanesAndText(lines)).toEqual([
      ['response', 'info', 'execution started'],
      ['response', 'enter', 'CaptureBeforeState'],
      ['response', 'ok', 'CaptureBeforeState  incident inc-111122223333-eu-west-1-i-0123456789abcdef0: 2 network interface(s), 1 volume(s)'],
      ['response', 'enter', 'ProtectInstance'],
      ['response', 'ok', 'ProtectInstance  auto scaling: not-a-member; termination protection: enabled'],
      ['response', 'enter', 'Contain'],
      ['preserve', 'enter', 'PreserveInstance'],
      ['collect evidence', 'enter', 'CollectEvidence'],
      ['isolate', 'enter', 'PrepareIsolationGroups'],
      ['isolate', 'ok', 'PrepareIsolationGroups  2 network interface(s) to isolate'],
      ['quarantine', 'enter', 'QuarantineRole'],
      ['flow logs', 'enter', 'EnableFlowLogs'],
      ['flow logs', 'ok', 'EnableFlowLogs  fl-0123456789abcdef0 created on vpc-0123456789abcdef0'],
      ['snapshots', 'enter', 'CreateSnapshots'],
      ['snapshots', 'ok', `CreateSnapshots  1 snapshot(s): ${SNAP}`],
      ['isolate', 'enter', 'IsolateEachInterface'],
      [`isolate ${ENI_A}`, 'enter', 'UntrackInterface'],
      [`isolate ${ENI_B}`, 'enter', 'UntrackInterface'],
      [`isolate ${ENI_A}`, 'ok', 'UntrackInterface  in the untrack group; connection-tracking timeout lowered'],
      [`isolate ${ENI_B}`, 'ok', 'UntrackInterface  in the untrack group; connection-tracking timeout lowered'],
      [`isolate ${ENI_A}`, 'enter', 'SettleUntracked'],
      [`isolate ${ENI_B}`, 'enter', 'SettleUntracked'],
      ['quarantine', 'ok', 'QuarantineRole  deny on role web-role; profile disassociated'],
      ['preserve', 'ok', 'PreserveInstance  succeeded'],
      ['collect evidence', 'ok', 'CollectEvidence  succeeded'],
      [`isolate ${ENI_A}`, 'enter', 'MoveToIsolationGroup'],
      [`isolate ${ENI_A}`, 'ok', 'MoveToIsolationGroup  isolated in sg-0isolation0000000'],
      [`isolate ${ENI_B}`, 'enter', 'MoveToIsolationGroup'],
      [`isolate ${ENI_B}`, 'ok', 'MoveToIsolationGroup  isolated in sg-0isolation0000000'],
      ['response', 'enter', 'RecordOutcome'],
      ['response', 'ok', 'RecordOutcome  CONTAINED: all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot, preserve, collectEvidence'],
      ['response', 'enter', 'AwaitSnapshots'],
      ['response', 'enter', 'CheckSnapshots'],
      // The loop goes round three times; only what changed is printed.
      ['response', 'ok', `CheckSnapshots  0/1 completed (${SNAP} 40%)`],
      ['response', 'ok', 'CheckSnapshots  1/1 completed'],
      ['response', 'enter', 'ShareSnapshots'],
      [`share ${SNAP}`, 'enter', 'CopyToEvidenceKey'],
      [`share ${SNAP}`, 'ok', 'CopyToEvidenceKey  re-encrypting as snap-0e5f60718293a4b5c'],
      [`share ${SNAP}`, 'enter', 'AwaitEvidenceCopy'],
      [`share ${SNAP}`, 'enter', 'CheckEvidenceCopy'],
      [`share ${SNAP}`, 'ok', 'CheckEvidenceCopy  completed 100%'],
      [`share ${SNAP}`, 'ok', 'SnapshotKept'],
      ['response', 'enter', 'RecordEvidence'],
      ['response', 'ok', 'RecordEvidence  snapshots completed'],
      ['response', 'ok', 'ResponseComplete'],
      ['response', 'end-ok', 'execution succeeded'],
    ]);
    expect(progress.ended).toEqual({ status: 'SUCCEEDED' });
    expect(progress.outputOf('RecordOutcome')?.outcome).toBe('contained');
  });

  it('times each line from the execution start', () => {
    const { lines } = consumeAll(responseRun('succeeds').events);
    expect(lines[0]?.elapsedMs).toBe(0);
    const elapsed = lines.map((l) => l.elapsedMs);
    expect([...elapsed].sort((a, b) => a - b)).toEqual(elapsed);
    expect(elapsed.at(-1)).toBeGreaterThan(10_000);
  });
});

describe('ExecutionProgress over a partially contained response', () => {
  it('shows the failed attempt, the retry, the final failure, the branch result and the Fail state', () => {
    const { progress, lines } = consumeAll(responseRun('fails').events);
    const quarantine = lanesAndText(lines.filter((l) => l.lane === 'quarantine'));
    expect(quarantine).toEqual([
      ['quarantine', 'enter', 'QuarantineRole'],
      ['quarantine', 'fail', 'QuarantineRole: TransientAwsError: Throttling: Rate exceeded'],
      ['quarantine', 'retry', 'QuarantineRole: retrying'],
      [
        'quarantine',
        'fail',
        'QuarantineRole: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/CordonResponder/cordon is not authorized to perform: iam:PutRolePolicy on resource: role web-role',
      ],
      ['quarantine', 'fail', 'QuarantineFailed'],
    ]);
    expect(lanesAndText(lines.slice(-3))).toEqual([
      ['response', 'ok', 'RecordEvidence  snapshots completed'],
      ['response', 'fail', 'ContainmentIncomplete'],
      [
        'response',
        'end-fail',
        'execution failed: ContainmentIncomplete: The response ended partially-contained or failed; the ledger and the SNS notification name what failed and why.',
      ],
    ]);
    expect(lines.find((l) => l.text.startsWith('RecordOutcome  '))?.text).toBe(
      'RecordOutcome  PARTIALLY-CONTAINED: quarantineRole failed; isolate, flowLogs, snapshot, preserve, collectEvidence succeeded',
    );
    expect(progress.ended?.status).toBe('FAILED');
    expect(progress.ended?.error).toBe('ContainmentIncomplete');
  });
});

describe('ExecutionProgress over a workflow it has no labels for (the release workflow)', () => {
  const definition = {
    StartAt: 'CheckReleasable',
    States: {
      CheckReleasable: { Type: 'Task', Resource: 'x', Next: 'Restore' },
      Restore: {
        Type: 'Parallel',
        Next: 'Done',
        Branches: [
          { StartAt: 'RestoreInterfaces', States: { RestoreInterfaces: { Type: 'Map', ItemProcessor: { StartAt: 'RestoreGroups', States: { RestoreGroups: { Type: 'Task', Resource: 'x', End: true } } }, End: true } } },
          { StartAt: 'RestoreProfile', States: { RestoreProfile: { Type: 'Task', Resource: 'x', End: true } } },
        ],
      },
      Done: { Type: 'Succeed' },
    },
  };

  function releaseHistory(): History {
    const h = new History();
    const s = h.started({});
    const check = h.task(s, 'CheckReleasable', { status: 'releasable' });
    const p = h.add('ParallelStateStarted', h.enter(check, 'Parallel', 'Restore'));
    const mapEntered = h.enter(p, 'Map', 'RestoreInterfaces');
    const profileEntered = h.enter(p, 'Task', 'RestoreProfile');
    const it0 = h.add('MapIterationStarted', h.add('MapStateStarted', mapEntered), { mapIterationStartedEventDetails: { name: 'RestoreInterfaces', index: 0 } });
    const groups = h.enter(it0, 'Task', 'RestoreGroups', { networkInterfaceId: ENI_A, groupIds: ['sg-0aaaaaaaaaaaaaaaa'] });
    h.invoke(groups, { output: { status: 'restored' } });
    h.invoke(profileEntered, { error: 'ReleaseRefusedError', cause: 'the instance profile association changed since containment' });
    return h;
  }

  it('labels branches by the definition (state names in words) and iterations by their item', () => {
    const progress = new ExecutionProgress(definition, genericLabels('release'));
    const lines = releaseHistory().events.flatMap((e) => progress.consume(e));
    expect(lanesAndText(lines)).toEqual([
      ['release', 'info', 'execution started'],
      ['release', 'enter', 'CheckReleasable'],
      ['release', 'ok', 'CheckReleasable  releasable'],
      ['release', 'enter', 'Restore'],
      ['restore interfaces', 'enter', 'RestoreInterfaces'],
      ['restore profile', 'enter', 'RestoreProfile'],
      [`restore interfaces ${ENI_A}`, 'enter', 'RestoreGroups'],
      [`restore interfaces ${ENI_A}`, 'ok', 'RestoreGroups  restored'],
      ['restore profile', 'fail', 'RestoreProfile: ReleaseRefusedError: the instance profile association changed since containment'],
    ]);
  });

  it('without any definition, follows the history: a branch is named by its first state, an iteration by its index', () => {
    const progress = new ExecutionProgress(undefined, genericLabels('release'));
    const h = new History();
    const p = h.add('ParallelStateStarted', h.enter(h.started({}), 'Parallel', 'Restore'));
    const a = h.enter(p, 'Task', 'RestoreProfile');
    const it3 = h.add('MapIterationStarted', h.add('MapStateStarted', h.enter(p, 'Map', 'RestoreInterfaces')), { mapIterationStartedEventDetails: { name: 'RestoreInterfaces', index: 3 } });
    h.enter(it3, 'Task', 'RestoreGroups', { something: 'else' });
    h.invoke(a, { output: { status: 'associated' } });
    const lines = h.events.flatMap((e) => progress.consume(e));
    expect(lanesAndText(lines)).toEqual([
      ['release', 'info', 'execution started'],
      ['release', 'enter', 'Restore'],
      ['restore profile', 'enter', 'RestoreProfile'],
      ['restore interfaces', 'enter', 'RestoreInterfaces'],
      ['restore interfaces #3', 'enter', 'RestoreGroups'],
      ['restore profile', 'ok', 'RestoreProfile  associated'],
    ]);
  });

  it('reads ExecutionAborted and ExecutionTimedOut as ends', () => {
    for (const [type, status, text] of [
      ['ExecutionAborted', 'ABORTED', 'execution aborted'],
      ['ExecutionTimedOut', 'TIMED_OUT', 'execution timed out'],
    ] as const) {
      const progress = new ExecutionProgress(undefined, genericLabels('release'));
      const h = new History();
      h.add(type, h.started({}));
      const lines = h.events.flatMap((e) => progress.consume(e));
      expect(lanesAndText(lines).at(-1)).toEqual(['release', 'end-fail', text]);
      expect(progress.ended?.status).toBe(status);
    }
  });
});

describe('printing', () => {
  const line: ProgressLine = { eventId: 7, elapsedMs: 83_000, lane: `isolate ${ENI_A}`, kind: 'fail', text: 'MoveToIsolationGroup: IsolationVerificationError: x' };

  it('formats elapsed time, lane and mark; colour only when asked', () => {
    expect(formatElapsed(3_400)).toBe('+0:03');
    expect(formatElapsed(3_723_000)).toBe('+1:02:03');
    expect(formatLine(PLAIN, line)).toBe(`   +1:23  isolate ${ENI_A}   ✗ MoveToIsolationGroup: IsolationVerificationError: x`);
    expect(formatLine(PLAIN, line)).not.toContain('\x1b');
    expect(formatLine(COLOUR, line)).toContain('\x1b[31m✗ MoveToIsolationGroup');
  });

  it('piped: lines only, no status line and no cursor movement', () => {
    const written: string[] = [];
    const printer = new ProgressPrinter((t) => void written.push(t), PLAIN, false);
    printer.status('running 0:05');
    printer.lines([line]);
    printer.status('running 0:06');
    printer.clearStatus();
    expect(written.join('')).toBe(`${formatLine(PLAIN, line)}\n`);
  });

  it('on a terminal: a status line rewritten in place and cleared before each line', () => {
    const written: string[] = [];
    const printer = new ProgressPrinter((t) => void written.push(t), PLAIN, true);
    printer.status('running 0:05');
    printer.lines([line]);
    printer.status('running 0:06');
    printer.clearStatus();
    expect(written).toEqual(['\r\x1b[Krunning 0:05', '\r\x1b[K', `${formatLine(PLAIN, line)}\n`, '\r\x1b[Krunning 0:06', '\r\x1b[K']);
  });
});
