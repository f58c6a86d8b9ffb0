/**
 * Live progress of an execution, from its Step Functions history: one line per meaningful event
 * (a task entered, succeeded, failed or retried; a branch's recorded result; the end), labelled by
 * the Parallel branch and Map iteration it belongs to ("isolate eni-0a1…", "share snapshots snap-…").
 *
 * Lanes come from the ASL definition: each Parallel branch gets a label (from `labels`, keyed by the
 * branch's StartAt state, else the state name in words), and each Map iteration the label of its Map
 * plus its item (a network interface or snapshot id found in the iteration's first input, else
 * `#<index>`). Which iteration an event belongs to follows the history's `previousEventId` chain,
 * which Step Functions links from each event back to the one that led to it. States the definition
 * doesn't know (a newer deployed version) inherit the lane of the event before them.
 *
 * Pure: events in, lines out. The polling is in wait.ts, the printing in ProgressPrinter, the
 * workflows' lane labels and output summaries in labels.ts.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Style } from './output';

// The workflows' label tables live in labels.ts; re-exported so callers keep one import.
export { genericLabels, RESPONSE_LABELS } from './labels';

export interface StateInfo {
  readonly lane: string;
  /** The Map state whose iterations run this state, or null. */
  readonly map: string | null;
  readonly type: string;
}

export interface WorkflowLabels {
  /** The lane of top-level states. */
  readonly top: string;
  /** Lane labels by a Parallel branch's StartAt state, or by a Map state's name. */
  readonly labels: Readonly<Record<string, string>>;
  /** States whose entry is not worth a line (loop plumbing). */
  readonly quiet: ReadonlySet<string>;
  /** How a Pass state's entry reads, by name, where the generic rule (FAILED_PASS) would be wrong. */
  readonly passes?: Readonly<Record<string, LineKind>>;
  /** One-line summaries of a task's output, by state name. */
  readonly summaries: Readonly<Record<string, (output: Record<string, unknown>) => string | null>>;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const recs = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);

/** `PrepareIsolationGroups` → `prepare isolation groups`. */
export function words(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** State name → lane, for every state of an ASL definition (nested Parallel branches and Map processors included). */
export function laneIndex(definition: unknown, labels: WorkflowLabels): ReadonlyMap<string, StateInfo> {
  const index = new Map<string, StateInfo>();
  const walk = (states: unknown, lane: string, map: string | null): void => {
    if (!isRec(states)) return;
    for (const [name, raw] of Object.entries(states)) {
      if (!isRec(raw)) continue;
      const type = typeof raw.Type === 'string' ? raw.Type : 'Unknown';
      index.set(name, { lane, map, type });
      if (type === 'Parallel') {
        for (const branch of recs(raw.Branches)) {
          const start = typeof branch.StartAt === 'string' ? branch.StartAt : name;
          walk(branch.States, labels.labels[start] ?? words(start), null);
        }
      } else if (type === 'Map') {
        const processor = isRec(raw.ItemProcessor) ? raw.ItemProcessor : isRec(raw.Iterator) ? raw.Iterator : {};
        walk(processor.States, labels.labels[name] ?? lane, name);
      }
    }
  };
  walk(isRec(definition) ? definition.States : undefined, labels.top, null);
  return index;
}

export type LineKind = 'info' | 'enter' | 'ok' | 'fail' | 'retry' | 'skip' | 'end-ok' | 'end-fail';

export interface ProgressLine {
  readonly eventId: number;
  /** Milliseconds since the execution started. */
  readonly elapsedMs: number;
  readonly lane: string;
  readonly kind: LineKind;
  readonly text: string;
}

interface Ctx {
  /** The type of the event this context was made for. */
  readonly type: string;
  readonly lane: string;
  readonly map: string | null;
  readonly iteration: number | null;
  readonly item: string | null;
  readonly state: string | null;
}

const FAILURE_DETAILS = [
  'lambdaFunctionFailedEventDetails',
  'lambdaFunctionTimedOutEventDetails',
  'lambdaFunctionScheduleFailedEventDetails',
  'lambdaFunctionStartFailedEventDetails',
  'taskFailedEventDetails',
  'taskTimedOutEventDetails',
  'taskStartFailedEventDetails',
  'taskSubmitFailedEventDetails',
  'activityFailedEventDetails',
  'activityTimedOutEventDetails',
] as const;

const TASK_FAILED = new Set([
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionScheduleFailed',
  'LambdaFunctionStartFailed',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'ActivityFailed',
  'ActivityTimedOut',
]);
const TASK_SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled', 'ActivityScheduled']);
const TASK_SUCCEEDED = new Set(['LambdaFunctionSucceeded', 'TaskSucceeded', 'ActivitySucceeded']);

/** Pass states whose name says a branch recorded a failure. */
const FAILED_PASS = /(Failed|LeftOpen|Unsafe|Refused)$/;

/** A Lambda error's cause is often `{"errorType","errorMessage","trace"}`: keep the message. */
export function shortCause(cause: string | undefined, max = 240): string {
  let text = cause ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRec(parsed) && typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // not JSON: as it is
  }
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function parseJson(text: string | undefined): Rec | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return isRec(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An iteration's item, from its first state's input: the network interface or snapshot it works on. */
function itemLabel(input: Rec | undefined): string | null {
  if (!input) return null;
  const records = [input, ...Object.values(input).filter(isRec)];
  for (const key of ['networkInterfaceId', 'snapshotId', 'volumeId']) {
    const found = records.find((r) => typeof r[key] === 'string')?.[key];
    if (typeof found === 'string') return found;
  }
  return null;
}

/** A task output in one line: the workflow's own summary, else its `status`; an output of a shape this version doesn't know gives none. */
function summarize(fn: ((output: Rec) => string | null) | undefined, output: Rec): string | null {
  try {
    if (fn) return fn(output);
    return typeof output.status === 'string' ? output.status : null;
  } catch {
    return null;
  }
}

/** Consumes history events in id order and says what each means for a person watching. */
export class ExecutionProgress {
  private readonly contexts = new Map<number, Ctx>();
  private readonly index: ReadonlyMap<string, StateInfo>;
  /** Last text printed per lane+state, so loops (Wait → Check → Choice) print only what changed. */
  private readonly printed = new Map<string, string>();
  /** Lane+state pairs whose last task attempt failed: the next schedule is a retry. */
  private readonly failedAttempt = new Set<string>();
  private readonly outputs = new Map<string, Rec>();
  private startedAt: number | undefined;
  private end: { status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT'; error?: string; cause?: string } | undefined;
  private last: string | undefined;

  constructor(
    definition: unknown,
    private readonly labels: WorkflowLabels,
  ) {
    this.index = laneIndex(definition, labels);
  }

  /** Set once an Execution{Succeeded,Failed,Aborted,TimedOut} event was consumed. */
  get ended(): ExecutionProgress['end'] {
    return this.end;
  }

  /** The parsed output of the last successful task of that state (RecordOutcome's outcome, for instance). */
  outputOf(state: string): Rec | undefined {
    return this.outputs.get(state);
  }

  /** What is happening now, for a status line: the last state entered. */
  get activity(): string | undefined {
    return this.last;
  }

  consume(e: HistoryEvent): ProgressLine[] {
    const id = e.id ?? 0;
    const at = e.timestamp ? e.timestamp.getTime() : 0;
    if (this.startedAt === undefined || e.type === 'ExecutionStarted') this.startedAt ??= at;
    const previous = e.previousEventId !== undefined ? this.contexts.get(e.previousEventId) : undefined;
    const base: Ctx = previous ?? { type: '', lane: this.labels.top, map: null, iteration: null, item: null, state: null };
    const ctx = { ...this.contextFor(e, base), type: e.type ?? '' };
    this.contexts.set(id, ctx);

    const lane = ctx.item !== null ? `${ctx.lane} ${ctx.item}` : ctx.lane;
    const key = `${lane}\u0000${ctx.state ?? ''}`;
    const enterKey = `${key}\u0000entered`;
    const lines: ProgressLine[] = [];
    const line = (kind: LineKind, text: string): void => {
      lines.push({ eventId: id, elapsedMs: Math.max(0, at - (this.startedAt ?? at)), lane, kind, text });
    };
    const once = (kind: LineKind, text: string, slot = key): void => {
      if (this.printed.get(slot) === text) return;
      this.printed.set(slot, text);
      line(kind, text);
    };
    const type = e.type ?? '';
    const state = ctx.state ?? 'task';

    if (type === 'ExecutionStarted') line('info', 'execution started');
    else if (type === 'ExecutionRedriven') line('info', 'execution redriven');
    else if (type === 'ExecutionSucceeded') {
      this.end = { status: 'SUCCEEDED' };
      line('end-ok', 'execution succeeded');
    } else if (type === 'ExecutionFailed') {
      const d = e.executionFailedEventDetails;
      this.end = { status: 'FAILED', ...(d?.error ? { error: d.error } : {}), ...(d?.cause ? { cause: d.cause } : {}) };
      line('end-fail', `execution failed: ${d?.error ?? 'Error'}${d?.cause ? `: ${shortCause(d.cause)}` : ''}`);
    } else if (type === 'ExecutionAborted') {
      this.end = { status: 'ABORTED' };
      line('end-fail', 'execution aborted');
    } else if (type === 'ExecutionTimedOut') {
      this.end = { status: 'TIMED_OUT' };
      line('end-fail', 'execution timed out');
    } else if (type.endsWith('StateEntered')) {
      const name = e.stateEnteredEventDetails?.name ?? state;
      this.last = `${lane}: ${name}`;
      const stateType = type.slice(0, -'StateEntered'.length);
      if (this.labels.quiet.has(name) || stateType === 'Choice') {
        // plumbing
      } else if (stateType === 'Fail') {
        line('fail', name);
      } else if (stateType === 'Succeed') {
        line('ok', name);
      } else if (stateType === 'Pass') {
        const kind = this.labels.passes?.[name] ?? (/NotRequested$/.test(name) ? 'skip' : FAILED_PASS.test(name) ? 'fail' : 'info');
        once(kind, name, enterKey);
      } else {
        once('enter', name, enterKey);
      }
    } else if (TASK_SCHEDULED.has(type)) {
      if (this.failedAttempt.delete(key)) line('retry', `${state}: retrying`);
    } else if (TASK_SUCCEEDED.has(type)) {
      const output = parseJson(e.lambdaFunctionSucceededEventDetails?.output ?? e.taskSucceededEventDetails?.output ?? e.activitySucceededEventDetails?.output);
      if (output) this.outputs.set(state, output);
      const summary = output ? summarize(this.labels.summaries[state], output) : null;
      once('ok', summary ? `${state}  ${summary}` : state);
    } else if (TASK_FAILED.has(type)) {
      const details = FAILURE_DETAILS.map((k) => e[k]).find((d) => d !== undefined) as { error?: string; cause?: string } | undefined;
      this.failedAttempt.add(key);
      this.printed.delete(key);
      line('fail', `${state}: ${details?.error ?? type}${details?.cause ? `: ${shortCause(details.cause)}` : ''}`);
    } else if (type === 'MapIterationFailed' || type === 'MapIterationAborted') {
      line('fail', `iteration ${e.mapIterationFailedEventDetails?.index ?? e.mapIterationAbortedEventDetails?.index ?? '?'} ${type === 'MapIterationFailed' ? 'failed' : 'aborted'}`);
    } else if (type === 'ParallelStateFailed' || type === 'MapStateFailed') {
      line('fail', `${state} failed`);
    }
    return lines;
  }

  private contextFor(e: HistoryEvent, base: Ctx): Omit<Ctx, 'type'> {
    if (e.type === 'MapIterationStarted') {
      const d = e.mapIterationStartedEventDetails;
      return { ...base, map: d?.name ?? base.state, iteration: d?.index ?? null, item: null, state: null };
    }
    const name = e.stateEnteredEventDetails?.name;
    if (name === undefined) return base;
    const info = this.index.get(name);
    if (!info) {
      // A state the definition doesn't know: its own lane when it starts a Parallel branch, else the lane it came from.
      if (base.type === 'ParallelStateStarted') return { ...base, lane: words(name), iteration: null, item: null, state: name };
      const item = base.iteration === null ? null : (base.item ?? itemLabel(parseJson(e.stateEnteredEventDetails?.input)) ?? `#${base.iteration}`);
      return { ...base, item, state: name };
    }
    const inIteration = info.map !== null && info.map === base.map && base.iteration !== null;
    if (!inIteration) return { lane: info.lane, map: info.map, iteration: null, item: null, state: name };
    const item = base.item ?? itemLabel(parseJson(e.stateEnteredEventDetails?.input)) ?? `#${base.iteration}`;
    return { lane: info.lane, map: info.map, iteration: base.iteration, item, state: name };
  }
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `+${h}:${String(m).padStart(2, '0')}:${s}` : `+${m}:${s}`;
}

const MARKS: Record<LineKind, string> = {
  info: '·',
  enter: '▸',
  ok: '✓',
  fail: '✗',
  retry: '↻',
  skip: '-',
  'end-ok': '■',
  'end-fail': '■',
};

export const LANE_WIDTH = 30;

export function formatLine(style: Style, l: ProgressLine): string {
  const lane = l.lane.length > LANE_WIDTH ? `${l.lane.slice(0, LANE_WIDTH - 1)}…` : l.lane.padEnd(LANE_WIDTH);
  const mark = MARKS[l.kind];
  const paint =
    l.kind === 'ok' || l.kind === 'end-ok' ? style.ok : l.kind === 'fail' || l.kind === 'end-fail' ? style.fail : l.kind === 'retry' ? style.warn : l.kind === 'skip' || l.kind === 'info' ? style.dim : (s: string) => s;
  return `${style.dim(formatElapsed(l.elapsedMs).padStart(8))}  ${lane}  ${paint(`${mark} ${l.text}`)}`;
}

/**
 * Writes progress lines to stderr. On a terminal it also keeps one status line ("running 0:42 …")
 * at the bottom, rewritten in place and cleared before each new line; when piped, lines only.
 */
export class ProgressPrinter {
  private statusShown = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly style: Style,
    private readonly tty: boolean,
  ) {}

  lines(lines: readonly ProgressLine[]): void {
    if (lines.length === 0) return;
    this.clearStatus();
    this.write(lines.map((l) => `${formatLine(this.style, l)}\n`).join(''));
  }

  note(text: string): void {
    this.clearStatus();
    this.write(`${text}\n`);
  }

  status(text: string): void {
    if (!this.tty) return;
    const columns = 100;
    this.write(`\r\x1b[K${this.style.dim(text.length > columns ? `${text.slice(0, columns - 1)}…` : text)}`);
    this.statusShown = true;
  }

  clearStatus(): void {
    if (!this.statusShown) return;
    this.write('\r\x1b[K');
    this.statusShown = false;
  }
}
