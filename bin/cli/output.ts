/**
 * Rendering: JSON for scripts, text for people. Colour only on a terminal, never with NO_COLOR
 * or TERM=dumb; when piped, plain lines and nothing rewritten in place.
 */
import type { CliDeps } from './deps';
import type { ExecutionView, ResponseView } from './view';

export interface Style {
  readonly ok: (s: string) => string;
  readonly fail: (s: string) => string;
  readonly warn: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const plain = (s: string): string => s;

export const PLAIN: Style = { ok: plain, fail: plain, warn: plain, dim: plain, bold: plain };
export const COLOUR: Style = { ok: sgr('32'), fail: sgr('31'), warn: sgr('33'), dim: sgr('2'), bold: sgr('1') };

export function colourAllowed(deps: Pick<CliDeps, 'env'>, isTTY: boolean): boolean {
  return isTTY && deps.env.NO_COLOR === undefined && deps.env.TERM !== 'dumb';
}

export function stdoutStyle(deps: CliDeps): Style {
  return colourAllowed(deps, deps.stdoutIsTTY) ? COLOUR : PLAIN;
}

export function stderrStyle(deps: CliDeps): Style {
  return colourAllowed(deps, deps.stderrIsTTY) ? COLOUR : PLAIN;
}

/** Exactly one JSON document, on one line, on stdout. */
export function printJson(deps: CliDeps, value: unknown): void {
  deps.stdout(`${JSON.stringify(value)}\n`);
}

const GOOD = new Set(['contained', 'released', 'succeeded', 'SUCCEEDED', 'completed', 'shared', 'isolated', 'not-applicable']);
const BAD = new Set(['failed', 'FAILED', 'TIMED_OUT', 'ABORTED', 'partially-contained', 'incomplete', 'error']);

export function statusWord(style: Style, status: string): string {
  if (GOOD.has(status)) return style.ok(status);
  if (BAD.has(status)) return style.fail(status);
  return style.warn(status);
}

function mark(style: Style, status: string): string {
  if (status === 'succeeded' || status === 'not-applicable' || status === 'isolated') return style.ok('✓');
  if (status === 'skipped') return style.dim('-');
  if (status === 'failed') return style.fail('✗');
  return style.warn('…');
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(11)}${value}`;
}

export function renderExecution(style: Style, e: ExecutionView): string[] {
  const lines = [row('execution', `${statusWord(style, e.status)}  ${e.executionArn}`)];
  if (e.error || e.cause) lines.push(row('', style.fail(`${e.error ?? 'Error'}: ${e.cause ?? ''}`.trim())));
  return lines;
}

/** The human rendering of one response (`cordon status`, and `contain --wait` at its end). */
export function renderResponse(style: Style, v: ResponseView): string {
  const lines: string[] = [];
  lines.push(`${style.bold(`Response ${v.responseId}`)}  ${statusWord(style, v.status)}`);
  if (v.target) {
    const incident = v.incident ? `  (incident ${v.incident.incidentId}: ${statusWord(style, v.incident.status)})` : '';
    lines.push(row('instance', `${v.target.instanceId} in ${v.target.accountId} / ${v.target.region}${incident}`));
  }
  if (v.request) {
    const by = `${v.request.requestedBy ?? '?'} (${v.request.source ?? '?'})`;
    lines.push(row('requested', `by ${by}${v.startedAt ? ` at ${v.startedAt}` : ''}`));
    if (v.request.reason) lines.push(row('reason', v.request.reason));
    if (v.request.findingType) lines.push(row('finding', v.request.findingType));
  }
  if (v.execution) lines.push(...renderExecution(style, v.execution));
  if (v.summary) lines.push(row('summary', v.summary));
  if (v.status === 'not-recorded') lines.push(row('', style.dim('the ledger has nothing for it yet: the execution is starting, or never captured the instance')));

  if (v.actions.length) {
    lines.push('', style.bold('Actions'));
    const width = Math.max(...v.actions.map((a) => a.action.length));
    for (const a of v.actions) {
      lines.push(`  ${mark(style, a.status)} ${a.action.padEnd(width)}  ${statusWord(style, a.status)}${a.note ? `  ${a.note}` : ''}`);
      for (const i of a.interfaces ?? []) {
        lines.push(`      ${mark(style, i.status)} ${i.networkInterfaceId}  ${i.note}${i.groupIds.length ? style.dim(`  [${i.groupIds.join(', ')}]`) : ''}`);
      }
    }
  }
  if (v.failures.length) {
    lines.push('', style.bold('Failures'));
    for (const f of v.failures) lines.push(`  ${style.fail('✗')} ${f.action}: ${f.error}${f.cause ? `: ${f.cause}` : ''}`);
  }
  if (v.snapshots.length) {
    lines.push('', `${style.bold('Snapshots')}${v.snapshotStatus ? `  ${statusWord(style, v.snapshotStatus)}` : ''}`);
    for (const s of v.snapshots) {
      const copy = s.copy ? `  copy: ${statusWord(style, s.copy)}${s.hubCopyId ? ` → ${s.hubCopyId} (security account)` : ''}` : '';
      lines.push(`  ${s.snapshotId}${s.volumeId ? `  ${s.volumeId}` : ''}  ${s.state ? statusWord(style, s.state) : '?'}${copy}${s.note ? `  ${s.note}` : ''}`);
    }
    for (const f of v.snapshotFailures) lines.push(`  ${style.fail('✗')} ${f}`);
  }
  if (v.flowLogs.length) {
    lines.push('', style.bold('Flow logs'));
    for (const l of v.flowLogs) lines.push(`  ${l.flowLogId}  ${l.status} on ${l.resourceId}${l.destination ? `  → ${l.destination}` : ''}`);
  }
  if (v.evidence.length) {
    lines.push('', style.bold('Evidence'));
    const width = Math.max(...v.evidence.map((e) => e.name.length));
    for (const e of v.evidence) {
      const where = e.bucket ? `s3://${e.bucket}/${e.key}` : e.key;
      lines.push(`  ${e.name.padEnd(width)}  ${where}${e.sha256 ? style.dim(`  sha256 ${e.sha256}`) : ''}`);
    }
  }
  if (v.restoreFrom) lines.push('', `Release restores the before-state ${v.restoreFrom}`);
  return `${lines.join('\n')}\n`;
}
