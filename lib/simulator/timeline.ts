/** The simulation's timeline: one entry per Task invocation or Wait, in seconds since intake received the finding. */
import type { StepRecord } from './workflow';

export interface TimelineEntry {
  /** Seconds since intake received the finding. */
  readonly at: number;
  readonly seconds: number;
  readonly step: string;
  readonly detail: string;
}


/** Seconds since `start`, to the hundredth. */
export const secs = (ms: number, start: number) => Math.round((ms - start) / 10) / 100;

function describeStep(step: StepRecord, item?: string): string {
  const input = step.input as Record<string, unknown>;
  const parts: string[] = item ? [item] : [];
  const eni = input?.networkInterfaceId ?? (input?.interface as { networkInterfaceId?: unknown } | undefined)?.networkInterfaceId;
  if (typeof eni === 'string') parts.push(eni);
  if (step.kind === 'wait') parts.push(`waited ${((step.end - step.start) / 1000).toFixed(1)} s`);
  if (step.error) parts.push(`error ${step.error}`);
  const out = step.output as Record<string, unknown> | undefined;
  if (out && typeof out === 'object') {
    for (const k of ['status', 'outcome', 'result', 'guarantee']) {
      const v = out[k];
      if (typeof v === 'string') parts.push(`${k}=${v}`);
    }
  }
  return parts.join(' · ');
}

export function buildTimeline(steps: ReadonlyArray<StepRecord & { execution: string }>, started: ReadonlyArray<{ name: string; at: number }>, start: number): TimelineEntry[] {
  const multi = started.length > 1;
  // Snapshot-sharing iterations: the first step names its snapshot's volume; later ones name the copy it made.
  const volumeOfCopy = new Map<string, string>();
  const itemOf = (s: StepRecord): string | undefined => {
    const input = s.input as { snapshot?: { volumeId?: string }; copy?: { snapshotId?: string } } | undefined;
    const volume = input?.snapshot?.volumeId ?? (input?.copy?.snapshotId ? volumeOfCopy.get(input.copy.snapshotId) : undefined);
    const out = s.output as { snapshotId?: string; copy?: { snapshotId?: string } } | undefined;
    const copy = out?.copy?.snapshotId ?? out?.snapshotId;
    if (volume && copy) volumeOfCopy.set(copy, volume);
    return volume;
  };
  const items = new Map([...steps].sort((a, b) => a.end - b.end).map((s) => [s, itemOf(s)] as const));
  return [
    ...started.map((s) => ({ at: secs(s.at, start), seconds: 0, step: 'ReceiveRequest', detail: `intake started ${s.name}` })),
    ...steps.map((s) => ({
      at: secs(s.start, start),
      seconds: Math.round(s.end - s.start) / 1000,
      step: s.state,
      detail: (multi ? `${s.execution} · ` : '') + describeStep(s, items.get(s)),
    })),
  ].sort((a, b) => a.at - b.at);
}
