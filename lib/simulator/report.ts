/** The human-readable simulation report: the timeline, the outcome, and the after-checks. */
import type { SimulationReport } from './simulate';

const mark = (pass: boolean | null) => (pass === true ? 'PASS' : pass === false ? 'FAIL' : 'INFO');
const clock = (seconds: number) => `+${seconds.toFixed(2).padStart(8)} s`;

/** Timeline rows worth reading: every step, except that repeated polling collapses into one line per loop. */
function condensed(report: SimulationReport): string[] {
  const polls = new Set(['AwaitSnapshots', 'CheckSnapshots', 'AwaitEvidenceCopy', 'CheckEvidenceCopy', 'AwaitHubCopy', 'CheckHubCopy']);
  // One row per polling loop (per loop name and item): when it began, how many checks, when it ended.
  const loops = new Map<string, { at: number; checks: number; to: number; label: string }>();
  const entries: Array<{ at: number; text: () => string }> = [];
  for (const t of report.timeline) {
    if (polls.has(t.step)) {
      const loop = t.step.replace(/^(Await|Check)/, '');
      const item = /vol-[0-9a-f]+/.exec(t.detail)?.[0] ?? '';
      const key = `${loop}|${item}`;
      const current = loops.get(key);
      const checks = t.step.startsWith('Check') ? 1 : 0;
      if (current) {
        current.checks += checks;
        current.to = Math.max(current.to, t.at + t.seconds);
        continue;
      }
      const state = { at: t.at, checks, to: t.at + t.seconds, label: `Await${loop}` };
      loops.set(key, state);
      entries.push({
        at: t.at,
        text: () => `${clock(state.at)}  ${state.label.padEnd(24)} ${item ? `${item} · ` : ''}polled ${state.checks}× until ${clock(state.to).trim()}`,
      });
      continue;
    }
    const took = t.seconds > 0 ? ` (${t.seconds.toFixed(2)} s)` : '';
    entries.push({ at: t.at, text: () => `${clock(t.at)}  ${t.step.padEnd(24)} ${t.detail}${took}` });
  }
  // A loop's item restarts after it completes (e.g. the next copy stage): keep rows in time order.
  return entries.map((e) => e.text());
}

export function renderReport(report: SimulationReport): string {
  const lines: string[] = [];
  const s = report.scenario;
  lines.push(`cordon simulate — finding received at ${report.startedAt} (simulated clock)`);
  lines.push(
    `  ${s.singleAccount ? 'single account' : `hub ${s.hubAccountId}`}, ${s.latencyMs} ms per AWS call, settle ${s.settleSeconds} s, ` +
      `EC2 throttling ${s.throttling ? 'on' : 'off'}, IAM propagation ${s.iamPropagationSeconds} s`,
  );
  lines.push('');
  for (const d of report.decisions) {
    lines.push(`intake: ${d.decision} — ${d.reason}`);
  }
  if (report.executions.length === 0) {
    lines.push('', 'No response was started: nothing to contain.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('', 'timeline', ...condensed(report).map((r) => `  ${r}`));
  for (const e of report.executions) {
    lines.push('', `response ${e.responseId} on ${e.instanceId}: ${e.outcome.toUpperCase()} (execution ${e.status}${e.error ? `, ${e.error.name}` : ''})`);
    if (e.timeToContainmentSeconds !== undefined) {
      lines.push(`  time to containment: ${e.timeToContainmentSeconds.toFixed(2)} s (every ENI isolated and the stolen credentials denied), ${e.criticalPathCalls} AWS calls on the critical path`);
    }
    lines.push(`  state transitions: ${e.transitions}`, '', '  after-checks');
    for (const c of e.checks) lines.push(`    ${mark(c.pass)}  ${c.name}`, `          ${c.detail}`);
  }
  lines.push(
    '',
    'Connection tracking: AWS does not document whether moving a tracked flow into allow-all groups untracks it, or',
    'whether a lowered idle timeout applies to live flows. "optimistic" assumes both (the untrack-then-isolate runbook);',
    '"pessimistic" assumes neither. INFO rows are that limit, reported rather than judged: see docs/containment.md.',
    '',
    `${report.calls} AWS calls (${report.throttled} throttled), ${report.totalSeconds.toFixed(1)} simulated seconds until the last step. ` +
      (report.ok ? 'Every after-check passed.' : 'SOME AFTER-CHECKS FAILED.'),
  );
  return `${lines.join('\n')}\n`;
}
