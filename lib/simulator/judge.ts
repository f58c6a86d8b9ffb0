/**
 * The after-checks of one simulated response (issue 4): ask the simulated account what matters
 * rather than which calls were made. Is every ENI isolated, and from when? Is each attacker flow
 * cut, under each connection-tracking assumption? Are the stolen credentials denied, and is the
 * neighbour sharing the role untouched? Are the snapshots in the hub, under the evidence key?
 * Does every evidence object carry its SHA-256, cited by the manifest? Was anything destroyed?
 */
import { createHash } from 'node:crypto';
import { incidentIdFor } from '../../lambdas/shared/ledger';
import { incidentPrefix } from '../../lambdas/shared/evidence';
import type { SimAccount } from './account';
import type { SimAttempt } from './clients';
import { ASSUMPTIONS, judgeFlow, type FlowVerdict } from './conntrack';
import type { HubSettings } from './handlers';
import type { BuiltInstance, Scenario, Target } from './scenario';
import { secs } from './timeline';
import type { ExecutionRun, StepRecord } from './workflow';

export interface Check {
  readonly name: string;
  /** true: passed; false: failed; null: reported, not judged (a documented limit). */
  readonly pass: boolean | null;
  readonly detail: string;
}


export interface ExecutionReport {
  readonly responseId: string;
  readonly instanceId: string;
  readonly status: ExecutionRun['status'];
  readonly outcome: string;
  readonly error?: { name: string; message: string };
  readonly transitions: number;
  /** Seconds from intake until every ENI was isolated and the stolen credentials were denied. */
  readonly timeToContainmentSeconds?: number;
  /** AWS calls (attempts, SDK retries included) made by the steps on the path to containment. */
  readonly criticalPathCalls?: number;
  readonly checks: Check[];
  readonly flows: FlowVerdict[];
}


export interface JudgeInput {
  world: SimAccount;
  hub: HubSettings;
  request: { requestId: string; target: Target };
  run: ExecutionRun;
  built?: BuiltInstance;
  start: number;
  end: number;
  scenario: Scenario;
  attempts: SimAttempt[];
  steps: StepRecord[];
}

/** The moment from which an ENI stayed without any rule (isolated), or undefined. */
function isolatedFrom(world: SimAccount, eniId: string): number | undefined {
  const history = world.eniHistory.get(eniId) ?? [];
  let from: number | undefined;
  for (const h of history) {
    if (h.rules.length === 0) from ??= h.at;
    else from = undefined;
  }
  return from;
}

/** Hub-owned, completed, under the evidence key, and descended from one of `volumes`. */
function hubSnapshotsOf(world: SimAccount, hub: HubSettings, volumes: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const s of world.snapshots.values()) {
    if (s.owner !== hub.hubAccountId || s.state !== 'completed' || s.kmsKeyId !== hub.evidenceKeyArn) continue;
    let origin = s;
    for (let hops = 0; origin.sourceSnapshotId && hops < 4; hops++) {
      const source = world.snapshots.get(origin.sourceSnapshotId) ?? world.deleted.get(origin.sourceSnapshotId);
      if (!source) break;
      origin = source;
    }
    if (volumes.includes(origin.volumeId) && !origin.sourceSnapshotId) found.set(origin.volumeId, s.id);
  }
  return found;
}

export function judgeExecution(j: JudgeInput): ExecutionReport {
  const { world, hub, request, run, built, start, scenario } = j;
  const incidentId = incidentIdFor(request.target);
  const incident = world.item(incidentId, 'INCIDENT');
  const response = world.item(incidentId, `RESPONSE#${request.requestId}`);
  const outcome = String(response?.outcome ?? incident?.status ?? 'unknown');
  const checks: Check[] = [];
  const flows: FlowVerdict[] = [];
  const instance = world.instances.get(request.target.instanceId);
  const live = instance && instance.state !== 'terminated';
  checks.push({
    name: 'outcome recorded',
    pass: live ? outcome === 'contained' : outcome === 'failed' && run.status === 'FAILED',
    detail: `${outcome} (execution ${run.status}${run.error ? `: ${run.error.name}` : ''})`,
  });
  let containedAt: number | undefined;
  if (built && live) {
    // Network: every ENI without a rule, from when.
    const isolated = built.enis.map((eni) => ({ eni, at: isolatedFrom(world, eni) }));
    const allIsolated = isolated.every((i) => i.at !== undefined);
    checks.push({
      name: 'every ENI isolated',
      pass: allIsolated,
      detail: isolated.map((i) => `${i.eni} ${i.at === undefined ? 'NOT isolated' : `at +${secs(i.at, start)} s`}`).join('; '),
    });
    // The attacker's connections, under each assumption.
    const horizon = j.end + 24 * 3600_000;
    for (const flow of built.flows) {
      const history = world.eniHistory.get(flow.eniId) ?? [];
      for (const assumption of ASSUMPTIONS) {
        const v = judgeFlow(flow, history, assumption, horizon);
        flows.push(v);
        const when = v.cutAt !== undefined ? `cut at +${secs(v.cutAt, start)} s: ${v.reason}` : `NOT cut: ${v.reason}`;
        checks.push({
          name: `attacker flow "${flow.name}" (${assumption} tracking)`,
          // The optimistic case is what the runbook promises: judged. The pessimistic case is a documented limit: reported.
          pass: assumption === 'optimistic' ? v.cutAt !== undefined : null,
          detail: when,
        });
      }
    }
    // Credentials.
    const propagation = scenario.iamPropagationSeconds * 1000;
    let deniedAt: number | undefined;
    if (built.roleName && built.stolenCredentialsIssuedAt) {
      deniedAt = world.credentialsDeniedFrom(built.roleName, built.instanceId, built.stolenCredentialsIssuedAt, propagation);
      checks.push({
        name: 'stolen credentials denied',
        pass: deniedAt !== undefined,
        detail: deniedAt !== undefined ? `denied from +${secs(deniedAt, start)} s (after ${scenario.iamPropagationSeconds} s of IAM propagation)` : 'still accepted',
      });
    }
    if (built.neighbourId && built.roleName && built.neighbourCredentialsIssuedAt) {
      const neighbourDenied = world.credentialsDenied(built.roleName, built.neighbourId, built.neighbourCredentialsIssuedAt);
      const untouched = built.neighbourEnis.every((eni) => {
        const h = world.eniHistory.get(eni) ?? [];
        return h.length > 0 && h.every((s) => JSON.stringify(s.groups) === JSON.stringify((h[0] as { groups: string[] }).groups));
      });
      const neighbourRevoked = world.credentialsDeniedFrom(built.roleName, built.neighbourId, built.neighbourCredentialsIssuedAt, 0) !== undefined;
      checks.push({
        name: 'neighbour sharing the role still works',
        pass: !neighbourDenied && untouched && !neighbourRevoked,
        detail: `${built.neighbourId}: credentials ${neighbourDenied ? 'DENIED' : 'accepted'}, network ${untouched ? 'untouched' : 'CHANGED'}`,
      });
    }
    const network = isolated.map((i) => i.at ?? Infinity);
    containedAt = Math.max(...network, deniedAt ?? (built.roleName ? Infinity : 0));
    if (!Number.isFinite(containedAt)) containedAt = undefined;
    // Evidence: snapshots in the hub.
    const inHub = hubSnapshotsOf(world, hub, built.volumes);
    checks.push({
      name: 'snapshots in the hub',
      pass: built.volumes.every((v) => inHub.has(v)),
      detail: built.volumes.map((v) => `${v} → ${inHub.get(v) ?? 'MISSING'}`).join('; '),
    });
  }
  if (built && !live) {
    const mutating = world.calls.filter((c) => (c.service === 'ec2' || c.service === 'iam' || c.service === 'autoscaling' || c.service === 'elasticloadbalancing') && !/^(Describe|Get|List)/.test(c.command));
    checks.push({
      name: 'nothing touched on a terminated instance',
      pass: mutating.length === 0,
      detail: mutating.length === 0 ? 'no mutating call made' : mutating.map((c) => c.command).join(', '),
    });
  }
  // Evidence hashes: every object carries S3's SHA-256 of its body, and the manifest cites the same.
  const prefix = incidentPrefix(incidentId);
  const objects = [...world.objects.entries()]
    .filter(([k]) => k.startsWith(`${hub.evidenceBucket}/${prefix}`))
    .map(([k, o]) => [k.slice(hub.evidenceBucket.length + 1), o] as const);
  const manifestEntry = objects.find(([k]) => k === `${prefix}manifest.json`);
  const manifest = manifestEntry ? (JSON.parse(manifestEntry[1].body.toString('utf8')) as { evidence: Array<{ key: string; sha256: string }> }) : undefined;
  const problems: string[] = [];
  for (const [key, o] of objects) {
    const actual = createHash('sha256').update(o.body).digest('base64');
    if (o.checksumSha256 !== actual) problems.push(`${key}: stored checksum ${o.checksumSha256 ?? 'missing'}`);
    if (manifest && key !== `${prefix}manifest.json`) {
      const cited = manifest.evidence.find((e) => e.key === key);
      if (!cited) problems.push(`${key}: not in the manifest`);
      else if (cited.sha256 !== Buffer.from(actual, 'base64').toString('hex')) problems.push(`${key}: manifest hash differs`);
    }
  }
  if (!manifest) problems.push('no manifest');
  checks.push({
    name: 'evidence carries its SHA-256, cited by the manifest',
    pass: problems.length === 0,
    detail: problems.length === 0 ? `${objects.length} objects, all hashes match` : problems.join('; '),
  });
  // Evidence is never destroyed: only cordon's own temporary copies may go, and the instance keeps its volumes.
  const wrongful = [...world.deleted.values()].filter((snap) => snap.tags['cordon:temporary'] !== 'true' || !snap.sourceSnapshotId);
  const volumesKept = !built || !instance || built.volumes.every((v) => instance.volumes.some((x) => x.volumeId === v));
  checks.push({
    name: 'nothing destroyed',
    pass: wrongful.length === 0 && volumesKept && (!live || instance?.state !== 'terminated'),
    detail:
      wrongful.length === 0
        ? `volumes kept; ${world.deleted.size} temporary snapshot cop${world.deleted.size === 1 ? 'y' : 'ies'} removed after the hub copied them`
        : `DELETED ${wrongful.map((x) => x.id).join(', ')}`,
  });

  const chain = criticalPath(j.steps, containedAt);
  const criticalPathCalls = chain.reduce(
    (n, step) => n + j.attempts.filter((a) => a.lambda === lambdaOf(step.state) && a.start >= step.start && a.end <= step.end).length,
    0,
  );
  return {
    responseId: request.requestId,
    instanceId: request.target.instanceId,
    status: run.status,
    outcome,
    ...(run.error ? { error: run.error } : {}),
    transitions: run.transitions,
    ...(containedAt !== undefined ? { timeToContainmentSeconds: (containedAt - start) / 1000, criticalPathCalls: criticalPathCalls + 2 } : {}),
    checks,
    flows,
  };
}

const STATE_LAMBDA: Record<string, string> = {
  CaptureBeforeState: 'capture-state',
  ProtectInstance: 'protect',
  PrepareIsolationGroups: 'isolate',
  UntrackInterface: 'isolate',
  MoveToIsolationGroup: 'isolate',
  SecureInterface: 'isolate',
  QuarantineRole: 'quarantine-role',
};
const lambdaOf = (state: string) => STATE_LAMBDA[state] ?? '';

/**
 * The steps containment waited on: the serial prefix (capture, protect), then whichever branch
 * finished last of network isolation (prepare, and the slowest ENI's untrack → settle → move) and
 * role quarantine. Intake's StartExecution and the finding's storage add two calls (counted by the caller).
 */
function criticalPath(steps: readonly StepRecord[], containedAt: number | undefined): StepRecord[] {
  if (containedAt === undefined) return [];
  const ok = steps.filter((s) => s.kind === 'task' && s.end <= containedAt + 1);
  const serial = ok.filter((s) => s.state === 'CaptureBeforeState' || s.state === 'ProtectInstance');
  const network = ok.filter((s) => s.state === 'PrepareIsolationGroups');
  const moves = ok.filter((s) => s.state === 'MoveToIsolationGroup');
  const lastMove = moves.sort((a, b) => b.end - a.end)[0];
  const eniOf = (s: StepRecord) => (s.input as { interface?: { networkInterfaceId?: string } }).interface?.networkInterfaceId;
  const eni = lastMove ? eniOf(lastMove) : undefined;
  const perEni = ok.filter((s) => (s.state === 'UntrackInterface' || s.state === 'MoveToIsolationGroup') && eniOf(s) === eni);
  const quarantine = ok.filter((s) => s.state === 'QuarantineRole');
  const networkEnd = lastMove?.end ?? 0;
  const quarantineEnd = Math.max(0, ...quarantine.map((q) => q.end));
  return [...serial, ...(networkEnd >= quarantineEnd ? [...network, ...perEni] : quarantine)];
}
