/**
 * Retry policy of every Task in every state machine (state-machines/*.asl.json). A burst of findings
 * drains EC2's token buckets (5 requests a second for the containment APIs once the bucket of 100
 * is spent), so throttling can last minutes: `npm run bench` lost 163 of 200 executions when
 * TransientAwsError was retried for about a minute. Every Task must outlast that.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allStates, type AslRetrier, type AslState } from '../../lib/simulator/asl';

const DIR = join(__dirname, '..', '..', 'state-machines');
const machines = readdirSync(DIR).filter((f) => f.endsWith('.asl.json'));

/** The longest a retrier keeps trying (no jitter): the sum of its capped backoff intervals. */
function patienceSeconds(r: AslRetrier): number {
  let total = 0;
  for (let n = 0; n < (r.MaxAttempts ?? 3); n++) total += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** n, r.MaxDelaySeconds ?? Infinity);
  return total;
}

describe.each(machines)('%s', (file) => {
  const definition = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { States: Record<string, AslState> };
  const tasks = allStates(definition.States).filter(([, s]) => s.Type === 'Task');

  it('has Tasks', () => {
    expect(tasks.length).toBeGreaterThan(0);
  });

  it.each(tasks.map(([name, s]) => [name, s] as const))('%s retries throttling (TransientAwsError) for at least 15 minutes, with full jitter and a bounded interval', (_name, state) => {
    const retrier = (state.Retry ?? []).find((r) => r.ErrorEquals.includes('TransientAwsError'));
    expect(retrier).toBeDefined();
    expect(patienceSeconds(retrier as AslRetrier)).toBeGreaterThanOrEqual(15 * 60);
    expect(retrier?.JitterStrategy).toBe('FULL');
    expect(retrier?.MaxDelaySeconds).toBeLessThanOrEqual(60);
  });
});
