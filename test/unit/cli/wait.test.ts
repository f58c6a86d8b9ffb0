/**
 * Following an execution: GetExecutionHistory paging (newest first, nextToken only until seen
 * events), the poll backoff, throttling, the wait bound.
 */
import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import responseDefinition from '../../../state-machines/response.asl.json';
import { CliError } from '../../../bin/cli/errors';
import { PLAIN } from '../../../bin/cli/output';
import { ExecutionProgress, ProgressPrinter, RESPONSE_LABELS } from '../../../bin/cli/progress';
import { follow, newEvents, PAGE_SIZE, POLL } from '../../../bin/cli/wait';
import { responseRun } from './histories';
import { awsError, History, REGION, RESPONSE_EXECUTION, serveHistory, testDeps } from './support';

const sfnMock = mockClient(SFNClient);
const sfn = (): SFNClient => new SFNClient({ region: REGION, credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });
const ev = (id: number): HistoryEvent => ({ id, type: 'PassStateEntered', timestamp: new Date(0), stateEnteredEventDetails: { name: `S${id}` } });
const BASE = { executionArn: RESPONSE_EXECUTION, reverseOrder: true, maxResults: PAGE_SIZE, includeExecutionData: true };

function printerFor(deps: ReturnType<typeof testDeps>): ProgressPrinter {
  return new ProgressPrinter(deps.stderr, PLAIN, false);
}

beforeEach(() => {
  sfnMock.reset();
});

describe('newEvents', () => {
  it('reads newest first and pages back with nextToken to the first event', async () => {
    sfnMock
      .on(GetExecutionHistoryCommand, { ...BASE })
      .resolvesOnce({ events: [ev(5), ev(4), ev(3)], nextToken: 't1' })
      .on(GetExecutionHistoryCommand, { ...BASE, nextToken: 't1' })
      .resolvesOnce({ events: [ev(2), ev(1)] });

    const events = await newEvents(sfn(), RESPONSE_EXECUTION, 0);

    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([BASE, { ...BASE, nextToken: 't1' }]);
  });

  it('stops at the first event already seen, without asking for the next page', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolvesOnce({ events: [ev(9), ev(8), ev(7), ev(6), ev(5), ev(4)], nextToken: 't2' });

    const events = await newEvents(sfn(), RESPONSE_EXECUTION, 5);

    expect(events.map((e) => e.id)).toEqual([6, 7, 8, 9]);
    expect(sfnMock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, BASE);
  });

  it('returns nothing when nothing happened', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [ev(3), ev(2), ev(1)] });
    expect(await newEvents(sfn(), RESPONSE_EXECUTION, 3)).toEqual([]);
  });
});

describe('follow', () => {
  it('prints every event once across incremental polls of a long history, in order, and stops at the end', async () => {
    const run = responseRun('succeeds');
    expect(run.events.length).toBeGreaterThan(PAGE_SIZE); // the first poll pages
    const { requests } = serveHistory(sfnMock, run.batches);
    const deps = testDeps();
    const progress = new ExecutionProgress(responseDefinition, RESPONSE_LABELS);

    const result = await follow(sfn(), deps.clock, RESPONSE_EXECUTION, progress, printerFor(deps), 3600);

    expect(result).toEqual({ ended: true });
    const reference = new ExecutionProgress(responseDefinition, RESPONSE_LABELS);
    const expected = run.events.flatMap((e) => reference.consume(e)).length;
    expect(deps.err().split('\n').filter(Boolean)).toHaveLength(expected);
    expect(requests.every((r) => r.reverseOrder === true && r.executionArn === RESPONSE_EXECUTION && r.includeExecutionData === true)).toBe(true);
    // One poll per batch, plus a second page whenever the new events didn't fit one.
    expect(requests.filter((r) => r.nextToken === undefined)).toHaveLength(run.batches.length);
  });

  it('backs off from 1 s by half again each quiet poll, up to 10 s, and resets when something happens', async () => {
    const h = new History();
    const s = h.started({});
    const first = h.events.slice();
    const entered = h.enter(s, 'Task', 'CaptureBeforeState');
    const second = h.events.slice(first.length);
    h.add('ExecutionSucceeded', entered);
    const third = h.events.slice(first.length + second.length);
    serveHistory(sfnMock, [first, ...Array<HistoryEvent[]>(7).fill([]), second, [], third]);
    const deps = testDeps();

    await follow(sfn(), deps.clock, RESPONSE_EXECUTION, new ExecutionProgress(responseDefinition, RESPONSE_LABELS), printerFor(deps), 3600);

    expect(deps.sleeps).toEqual([1000, 1500, 2250, 3375, 5063, 7595, 10_000, 10_000, 1000, 1500]);
  });

  it('rides out throttling with a longer backoff, and says so on a terminal', async () => {
    const run = responseRun('succeeds');
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ events: [...run.events].reverse() });
    const deps = testDeps({ tty: true });
    const written: string[] = [];
    const printer = new ProgressPrinter((t) => void written.push(t), PLAIN, true);

    const result = await follow(sfn(), deps.clock, RESPONSE_EXECUTION, new ExecutionProgress(responseDefinition, RESPONSE_LABELS), printer, 3600);

    expect(result.ended).toBe(true);
    expect(deps.sleeps).toEqual([2000, 4000]);
    expect(written.filter((t) => t.includes('[AWS busy, retrying]'))).toHaveLength(2);
  });

  it(`gives up after ${POLL.maxConsecutiveErrors} throttled polls in a row, with a readable error`, async () => {
    sfnMock.on(GetExecutionHistoryCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const deps = testDeps();

    const err = await follow(sfn(), deps.clock, RESPONSE_EXECUTION, new ExecutionProgress(undefined, RESPONSE_LABELS), printerFor(deps), 3600).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).kind).toBe('throttled');
    expect((err as CliError).message).toContain(`states:GetExecutionHistory on ${RESPONSE_EXECUTION}`);
    expect(sfnMock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, POLL.maxConsecutiveErrors + 1);
    expect(Math.max(...deps.sleeps)).toBe(POLL.errorMaxMs);
  });

  it('does not retry what retrying cannot fix (access denied)', async () => {
    sfnMock.on(GetExecutionHistoryCommand).rejects(
      awsError('AccessDeniedException', `User: arn:aws:sts::111122223333:assumed-role/R/bob is not authorized to perform: states:GetExecutionHistory on resource: ${RESPONSE_EXECUTION} because no identity-based policy allows the states:GetExecutionHistory action`),
    );
    const deps = testDeps();

    const err = (await follow(sfn(), deps.clock, RESPONSE_EXECUTION, new ExecutionProgress(undefined, RESPONSE_LABELS), printerFor(deps), 3600).catch((e: unknown) => e)) as CliError;

    expect(err.kind).toBe('access-denied');
    expect(err.details).toEqual({ action: 'states:GetExecutionHistory', resource: RESPONSE_EXECUTION });
    expect(sfnMock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
  });

  it('stops at --wait-timeout, never sleeping past it', async () => {
    const h = new History();
    h.started({});
    serveHistory(sfnMock, [h.events]);
    const deps = testDeps();

    const result = await follow(sfn(), deps.clock, RESPONSE_EXECUTION, new ExecutionProgress(undefined, RESPONSE_LABELS), printerFor(deps), 20);

    expect(result).toEqual({ ended: false });
    expect(deps.elapsedMs()).toBe(20_000);
    expect(deps.sleeps.at(-1)).toBeLessThanOrEqual(10_000);
  });
});
