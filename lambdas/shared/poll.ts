/** Poll interval for long waits: a sixth of the elapsed time, between a minimum and 15 minutes, so that a multi-TB snapshot stays far inside Step Functions' 25,000-event history quota. */
export function nextPoll(elapsedMs: number, minSeconds: number): number {
  return Math.min(900, Math.max(minSeconds, Math.round(elapsedMs / 6000)));
}
