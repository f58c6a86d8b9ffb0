/**
 * `--wait`: follow an execution to its end by polling GetExecutionHistory.
 *
 * Each poll reads the history newest-first (`reverseOrder`), paging with `nextToken` only until it
 * reaches an event it has already seen, so a poll costs one page however long the history is
 * (Step Functions returns no token past the last page, so an oldest-first reader would have to start
 * over every time). Polls back off from 1 s to 10 s while nothing happens and reset when something
 * does; a throttled or failed poll backs off further (up to 30 s) and gives up after 8 in a row.
 * The wait itself is bounded by --wait-timeout.
 */
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { isTransient } from '../../lambdas/shared/errors';
import { explainAwsError } from './aws';
import type { Clock } from './deps';
import { ExecutionProgress, formatElapsed, type ProgressPrinter } from './progress';

export const POLL = { firstMs: 1000, maxMs: 10_000, growth: 1.5, errorMaxMs: 30_000, maxConsecutiveErrors: 8 } as const;
/** Events per page. Each may carry up to 256 KB of data, so pages stay small. */
export const PAGE_SIZE = 100;
/** Step Functions keeps at most 25,000 events per execution: 250 pages reach the first. */
export const MAX_PAGES = 250;

/** The events after `lastSeenId`, oldest first. */
export async function newEvents(sfn: SFNClient, executionArn: string, lastSeenId: number): Promise<HistoryEvent[]> {
  const collected: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: PAGE_SIZE,
        includeExecutionData: true,
        ...(nextToken !== undefined ? { nextToken } : {}),
      }),
    );
    for (const e of out.events ?? []) {
      if ((e.id ?? 0) <= lastSeenId) return collected.reverse();
      collected.push(e);
    }
    nextToken = out.nextToken;
    if (nextToken === undefined) break;
  }
  return collected.reverse();
}

export interface FollowResult {
  /** The execution reached its end within the timeout. */
  readonly ended: boolean;
}

/** Poll until the execution ends or `timeoutSeconds` pass, printing progress as it comes. */
export async function follow(
  sfn: SFNClient,
  clock: Clock,
  executionArn: string,
  progress: ExecutionProgress,
  printer: ProgressPrinter,
  timeoutSeconds: number,
): Promise<FollowResult> {
  const start = clock.now().getTime();
  const deadline = start + timeoutSeconds * 1000;
  let lastSeenId = 0;
  let interval: number = POLL.firstMs;
  let errors = 0;
  for (;;) {
    let events: HistoryEvent[] = [];
    try {
      events = await newEvents(sfn, executionArn, lastSeenId);
      errors = 0;
    } catch (err) {
      errors += 1;
      if (!isTransient(err) || errors > POLL.maxConsecutiveErrors) throw explainAwsError(err, `states:GetExecutionHistory on ${executionArn}`);
      interval = Math.min(Math.max(interval, POLL.firstMs) * 2, POLL.errorMaxMs);
    }
    for (const e of events) {
      printer.lines(progress.consume(e));
      lastSeenId = Math.max(lastSeenId, e.id ?? 0);
    }
    if (progress.ended) {
      printer.clearStatus();
      return { ended: true };
    }
    const now = clock.now().getTime();
    if (now >= deadline) {
      printer.clearStatus();
      return { ended: false };
    }
    if (errors === 0) interval = events.length > 0 ? POLL.firstMs : Math.min(Math.round(interval * POLL.growth), POLL.maxMs);
    printer.status(`running ${formatElapsed(now - start).slice(1)}${progress.activity ? `  (${progress.activity})` : ''}${errors ? `  [AWS busy, retrying]` : ''}`);
    await clock.sleep(Math.min(interval, deadline - now));
  }
}
