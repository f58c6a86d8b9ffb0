/**
 * `cordon simulate` / `npm run demo` (issue 4): a finding goes through the real
 * intake and the real response state machine (aws-local-stepfunctions) with the
 * real handlers, against the simulated account, on the simulated clock. Then
 * the after-checks ask the model what matters: is the attacker's connection
 * cut (under each connection-tracking assumption, and when)? Are the stolen
 * credentials denied? Does the neighbour still work? Are the snapshots in the
 * hub? Does the evidence carry its hashes?
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { runIntake, type IntakeSummary } from '../../lambdas/intake/intake';
import { decideAll, IntakePolicy } from '../../lambdas/intake/decide';
import { logger } from '../../lambdas/shared/lambda-runtime';
import type { SimAccount } from './account';
import { loadDefinition, RELEASE_ASL, RESPONSE_ASL } from './asl';
import { SimClock, seededRandom } from './clock';
import { simClientFactory, simSend, type SimAttempt, type SimNetwork } from './clients';
import { functionArn, releaseHandlers, responseHandlers, type HubSettings } from './handlers';
import { judgeExecution, type ExecutionReport } from './judge';
import { addWebInstance, buildEstate, Scenario, type BuiltInstance, type Estate, type ScenarioInput, type Target } from './scenario';
import { TokenBuckets } from './throttle';
import { buildTimeline, type TimelineEntry } from './timeline';
import { runExecution, type ExecutionRun, type StepRecord } from './workflow';

export interface SimulationReport {
  readonly startedAt: string;
  readonly scenario: Scenario;
  readonly decisions: IntakeSummary['decisions'];
  readonly executions: ExecutionReport[];
  readonly timeline: TimelineEntry[];
  /** Simulated seconds until the last execution ended. */
  readonly totalSeconds: number;
  readonly calls: number;
  readonly throttled: number;
  /** Every check of every execution passed (null checks are information). */
  readonly ok: boolean;
}

export interface SimulationOptions {
  /** Instances besides the finding's own to contain in the same run (the bench's bursts). */
  readonly extraEvents?: readonly unknown[];
  /** Every AWS attempt, as it happens. */
  readonly onAttempt?: (attempt: SimAttempt) => void;
  /** The simulated Lambdas' log level (their Powertools logger). Default SILENT. */
  readonly lambdaLogLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

export interface Simulation {
  readonly report: SimulationReport;
  readonly world: SimAccount;
  readonly estate: Estate;
  readonly instances: ReadonlyMap<string, BuiltInstance>;
  readonly hub: HubSettings;
  readonly steps: ReadonlyArray<StepRecord & { execution: string }>;
  readonly clock: SimClock;
  /** Release a response in the same simulated account, on the same clock (the release workflow, real handlers). */
  readonly release: (request: { releaseId: string; responseId: string; reason: string; requestedBy: string }) => Promise<ExecutionRun>;
}

const STATE_MACHINE = 'cordon-response';

/** When the event says it happened (EventBridge `time`), or a fixed moment. */
function eventTime(event: unknown): Date {
  const t = (event as { time?: unknown } | null)?.time;
  const parsed = typeof t === 'string' ? Date.parse(t) : NaN;
  return new Date(Number.isFinite(parsed) ? parsed : Date.parse('2026-03-02T09:14:05Z'));
}

export async function simulate(event: unknown, scenarioInput: ScenarioInput = {}, options: SimulationOptions = {}): Promise<Simulation> {
  const scenario = Scenario.parse(scenarioInput);
  // The simulated Lambdas' own logs (Powertools, JSON) would bury the report; the report carries their errors.
  logger.setLogLevel(options.lambdaLogLevel ?? 'SILENT');
  const events = [event, ...(options.extraEvents ?? [])];
  const start = eventTime(event);
  const clock = new SimClock(start);
  const random = seededRandom(scenario.seed);
  const buckets = scenario.throttling ? new TokenBuckets() : undefined;
  let calls = 0;
  let throttled = 0;
  const attempts: SimAttempt[] = [];
  const net: SimNetwork = {
    clock,
    latencyMs: scenario.latencyMs,
    ...(buckets ? { buckets } : {}),
    random,
    sdkMaxAttempts: 3,
    onAttempt: (a) => {
      calls += 1;
      if (a.error === 'RequestLimitExceeded') throttled += 1;
      attempts.push(a);
      options.onAttempt?.(a);
    },
  };

  // Intake first decides with no AWS at all: which account and region the estate is.
  const policy: IntakePolicy = IntakePolicy.parse({});
  const dryRun = decideAll(event, policy);
  const first = dryRun.find((d) => d.decision === 'respond');
  const place = first?.decision === 'respond' ? first.request.target : { accountId: '444455556666', region: 'us-east-1', instanceId: 'i-0c0ffee0c0ffee001' };
  const estate = buildEstate(place, scenario, start);
  const world = estate.world;
  world.now = () => clock.now();
  const hubAccountId = scenario.singleAccount ? place.accountId : scenario.hubAccountId;
  const hub: HubSettings = {
    hubAccountId,
    region: place.region,
    ledgerTable: 'cordon-ledger',
    evidenceBucket: `cordon-evidence-${hubAccountId}-${place.region}`,
    topicArn: `arn:aws:sns:${place.region}:${hubAccountId}:cordon-incidents`,
    evidenceKeyArn: `arn:aws:kms:${place.region}:${hubAccountId}:key/5e1ec7ed-0000-4000-8000-00000000e71d`,
    settleSeconds: scenario.settleSeconds,
    revokeSessions: scenario.revokeSessions,
    tcpEstablishedTimeout: scenario.tcpEstablishedTimeoutSeconds,
    snapshotMaxHours: 24,
  };
  const members = [...new Set([hubAccountId, place.accountId])];

  // Intake's view of each event; instances are built where the findings point.
  const instances = new Map<string, BuiltInstance>();
  const started: Array<{ name: string; input: unknown; at: number }> = [];
  const sfn = new SFNClient({ region: place.region, credentials: { accessKeyId: 'ASIASIMULATED', secretAccessKey: 'simulated' } });
  const sfnSend = simSend(world, net, 'states', hubAccountId, place.region, 'intake');
  const stateMachineArn = `arn:aws:states:${place.region}:${hubAccountId}:stateMachine:${STATE_MACHINE}`;
  (sfn as unknown as { send: unknown }).send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    if (command.constructor.name !== 'StartExecutionCommand') return sfnSend(command);
    await clock.sleep(scenario.latencyMs);
    const name = String(command.input.name);
    started.push({ name, input: JSON.parse(String(command.input.input)), at: clock.millis() });
    return { executionArn: `arn:aws:states:${place.region}:${hubAccountId}:execution:${STATE_MACHINE}:${name}`, startDate: clock.now() };
  };
  const intakeFactory = simClientFactory({ world, net, hubAccountId, lambda: 'intake', memberAccounts: members });
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const decisions: IntakeSummary['decisions'] = [];

  const definition = loadDefinition(RESPONSE_ASL, (name) => functionArn(hub, name));
  const factories = new Map<string, ReturnType<typeof simClientFactory>>();
  const factoryFor = (lambda: string) => {
    let f = factories.get(lambda);
    if (!f) factories.set(lambda, (f = simClientFactory({ world, net, hubAccountId, lambda, memberAccounts: members })));
    return f;
  };
  const handlers = responseHandlers(hub, factoryFor, () => clock.now(), (ms) => clock.sleep(ms));
  const steps: Array<StepRecord & { execution: string }> = [];
  const runs = new Map<string, ExecutionRun>();

  const work = (async () => {
    const intakeRuns = events.map(async (e, n) => {
      for (const d of decideAll(e, policy)) {
        if (d.decision !== 'respond') continue;
        const t = d.request.target;
        if (t.accountId !== place.accountId || t.region !== place.region) continue;
        if (!instances.has(t.instanceId)) instances.set(t.instanceId, addWebInstance(estate, t.instanceId, n, start));
      }
      await clock.sleep(scenario.invokeOverheadMs);
      const summary = await runIntake(e, { sfn, stateMachineArn, policy, log, evidence: { s3: intakeFactory.hub().s3, bucket: hub.evidenceBucket } });
      decisions.push(...summary.decisions);
      return summary;
    });
    await Promise.all(intakeRuns);
    await Promise.all(
      started.map(async (s) => {
        const run = await runExecution(s.input, {
          definition,
          handlers,
          arnFor: (name) => functionArn(hub, name),
          executionId: `arn:aws:states:${place.region}:${hubAccountId}:execution:${STATE_MACHINE}:${s.name}`,
          clock,
          random,
          invokeOverheadMs: scenario.invokeOverheadMs,
          callbacks: world,
          onStep: (step) => steps.push({ ...step, execution: s.name }),
        });
        runs.set(s.name, run);
      }),
    );
  })();
  // Handler code jitters with Math.random (quarantine-role's read-back pause): seeded for the run, so runs repeat exactly.
  const mathRandom = Math.random;
  Math.random = seededRandom(scenario.seed ^ 0x5eed);
  try {
    await clock.run(work);
  } finally {
    Math.random = mathRandom;
  }

  const end = clock.millis();
  const executions: ExecutionReport[] = started.map((s) => {
    const run = runs.get(s.name) as ExecutionRun;
    const request = s.input as { requestId: string; target: Target };
    const built = instances.get(request.target.instanceId);
    return judgeExecution({ world, hub, request, run, built, start: start.getTime(), end, scenario, attempts, steps: steps.filter((x) => x.execution === s.name) });
  });
  const timeline = buildTimeline(steps, started, start.getTime());
  const report: SimulationReport = {
    startedAt: start.toISOString(),
    scenario,
    decisions,
    executions,
    timeline,
    totalSeconds: (end - start.getTime()) / 1000,
    calls,
    throttled,
    ok: executions.length > 0 && executions.every((e) => e.checks.every((c) => c.pass !== false)),
  };
  const release: Simulation['release'] = async (request) => {
    const definition = loadDefinition(RELEASE_ASL, (name) => functionArn(hub, name));
    const handlers = releaseHandlers(hub, factoryFor, () => clock.now(), (ms) => clock.sleep(ms));
    const saved = Math.random;
    Math.random = seededRandom(scenario.seed ^ 0x7e1ea5e);
    try {
      return await clock.run(
        runExecution(
          { ...request, source: 'manual' },
          {
            definition,
            handlers,
            arnFor: (name) => functionArn(hub, name),
            executionId: `arn:aws:states:${place.region}:${hubAccountId}:execution:cordon-release:${request.releaseId}`,
            clock,
            random,
            invokeOverheadMs: scenario.invokeOverheadMs,
            onStep: (step) => steps.push({ ...step, execution: request.releaseId }),
          },
        ),
      );
    } finally {
      Math.random = saved;
    }
  };
  return { report, world, estate, instances, hub, steps, clock, release };
}
