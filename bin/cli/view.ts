/**
 * What `cordon status` (and `contain --wait` at its end) shows about one response, built from the
 * ledger's INCIDENT and RESPONSE items and DescribeExecution. Pure: the items come in as they are
 * stored (lambdas/shared/ledger.ts, lambdas/record/record.ts) and are read defensively, since a
 * response still in progress has only some of its fields.
 *
 * This shape is what `--json` prints (docs/cli.md): keep it stable.
 */
import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { incidentPrefix } from '../../lambdas/shared/evidence';
import type { Target } from '../../lambdas/shared/schemas';

export interface IncidentView {
  readonly incidentId: string;
  readonly status: string;
  readonly deliveries: number | null;
  readonly lastRequestId: string | null;
  readonly activeRequestId: string | null;
  /** The before-state taken before cordon first touched the instance: what release restores. */
  readonly originalBeforeStateKey: string | null;
}

export interface InterfaceView {
  readonly networkInterfaceId: string;
  readonly status: string;
  readonly groupIds: readonly string[];
  readonly note: string;
}

export interface ActionView {
  readonly action: string;
  /** succeeded | failed | not-applicable | skipped */
  readonly status: string;
  readonly note: string | null;
  readonly interfaces?: readonly InterfaceView[];
}

export interface SnapshotView {
  readonly snapshotId: string;
  readonly volumeId: string | null;
  readonly state: string | null;
  /** How the copy into the security account went: shared | kept | failed | not-shared, or null before it ran. */
  readonly copy: string | null;
  readonly hubCopyId: string | null;
  readonly note: string | null;
}

export interface FlowLogView {
  readonly resourceId: string;
  readonly flowLogId: string;
  readonly status: string;
  readonly destination: string | null;
}

export interface EvidenceView {
  readonly name: string;
  readonly bucket: string | null;
  readonly key: string;
  readonly sha256: string | null;
}

export interface ExecutionView {
  readonly executionArn: string;
  readonly status: string;
  readonly startDate: string | null;
  readonly stopDate: string | null;
  readonly error: string | null;
  readonly cause: string | null;
}

export interface ResponseView {
  readonly responseId: string;
  readonly incidentId: string | null;
  readonly target: Target | null;
  readonly request: {
    readonly source: string | null;
    readonly requestedBy: string | null;
    readonly reason: string | null;
    readonly actions: readonly string[];
    readonly findingType: string | null;
  } | null;
  /**
   * The response's own status: in-progress, contained, partially-contained, failed, exempt,
   * duplicate; `not-recorded` when the execution exists but the ledger has nothing yet.
   */
  readonly status: string;
  readonly summary: string | null;
  readonly startedAt: string | null;
  readonly recordedAt: string | null;
  readonly incident: IncidentView | null;
  readonly actions: readonly ActionView[];
  readonly failures: ReadonlyArray<{ readonly action: string; readonly error: string; readonly cause: string }>;
  readonly snapshots: readonly SnapshotView[];
  /** completed | incomplete once the evidence step ran, else null. */
  readonly snapshotStatus: string | null;
  readonly snapshotFailures: readonly string[];
  readonly flowLogs: readonly FlowLogView[];
  readonly evidence: readonly EvidenceView[];
  /** Whose before-state a release of this response restores (an S3 key), or null when none is known. */
  readonly restoreFrom: string | null;
  readonly execution: ExecutionView | null;
}

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const rec = (v: unknown): Rec => (isRec(v) ? v : {});
const recs = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function incidentView(item: Rec): IncidentView {
  return {
    incidentId: String(item.pk),
    status: str(item.status) ?? 'unknown',
    deliveries: num(item.deliveryCount),
    lastRequestId: str(item.lastRequestId),
    activeRequestId: str(item.activeRequestId),
    originalBeforeStateKey: str(item.originalBeforeStateKey),
  };
}

export function executionView(out: Pick<DescribeExecutionCommandOutput, 'executionArn' | 'status' | 'startDate' | 'stopDate' | 'error' | 'cause'>): ExecutionView {
  return {
    executionArn: out.executionArn ?? '',
    status: out.status ?? 'UNKNOWN',
    startDate: out.startDate ? out.startDate.toISOString() : null,
    stopDate: out.stopDate ? out.stopDate.toISOString() : null,
    error: out.error ?? null,
    cause: out.cause ?? null,
  };
}

function interfaceNote(i: Rec): string {
  if (i.status === 'isolated') {
    const g = rec(i.guarantees);
    const idle = num(g.trackedFlowIdleTimeoutSeconds);
    const recovered = isRec(i.recoveredFrom) ? ` (after ${str(i.recoveredFrom.error) ?? 'an error'}, secured on retry)` : '';
    return `isolated${recovered}; untracked flows cut${idle !== null ? `, tracked flows expire after ${idle} s idle` : ''}`;
  }
  const error = `${str(i.error) ?? 'Error'}: ${str(i.cause) ?? ''}`.trim();
  if (i.leftIn === 'original-groups') return `NOT isolated, original groups put back (${error})`;
  if (typeof i.leftIn === 'string') return `NOT isolated, MAY BE OPEN (${i.leftIn}); check it now (${error})`;
  return `not isolated (${error})`;
}

function actionNote(action: string, status: string, d: Rec): string | null {
  if (status === 'failed' && action !== 'isolate') {
    const error = str(d.error);
    return error ? `${error}: ${str(d.cause) ?? ''}`.trim() : null;
  }
  if (status === 'skipped' || status === 'not-applicable') return str(d.reason);
  switch (action) {
    case 'isolate': {
      const ifs = recs(d.interfaces);
      const isolated = ifs.filter((i) => i.status === 'isolated').length;
      return ifs.length ? `${isolated} of ${ifs.length} network interface(s) isolated` : str(d.error);
    }
    case 'quarantineRole': {
      const sessions = rec(d.sessionsRevoked);
      const sessionNote = sessions.status === 'revoked' ? 'earlier sessions revoked' : `sessions not revoked (${str(sessions.reason) ?? 'skipped'})`;
      return `deny on role ${str(d.roleName) ?? '?'}; ${sessionNote}; profile ${str(d.profileDisassociated) ?? '?'}`;
    }
    case 'flowLogs': {
      const logs = recs(d.flowLogs);
      return `${logs.length} flow log(s): ${logs.map((l) => `${str(l.flowLogId) ?? '?'} ${str(l.status) ?? ''} on ${str(l.resourceId) ?? '?'}`).join(', ')}`;
    }
    case 'snapshot':
      return `${recs(d.snapshots).length} snapshot(s) started`;
    case 'collectEvidence': {
      const objects = Object.entries(rec(d.objects));
      const stored = objects.filter(([, o]) => rec(o).status === 'stored').map(([k]) => k);
      return `${stored.length} of ${objects.length} stored${stored.length ? `: ${stored.join(', ')}` : ''}`;
    }
    default:
      return null;
  }
}

function actionViews(item: Rec): ActionView[] {
  return recs(item.actions).map((a) => {
    const action = str(a.action) ?? '?';
    const status = str(a.status) ?? 'unknown';
    const detail = rec(a.detail);
    const view: ActionView = { action, status, note: actionNote(action, status, detail) };
    if (action !== 'isolate' || !Array.isArray(detail.interfaces)) return view;
    return {
      ...view,
      interfaces: recs(detail.interfaces).map((i) => ({
        networkInterfaceId: str(i.networkInterfaceId) ?? '?',
        status: str(i.status) ?? 'unknown',
        groupIds: strs(i.groupIds),
        note: interfaceNote(i),
      })),
    };
  });
}

function snapshotViews(item: Rec, actions: Rec[]): SnapshotView[] {
  const started = recs(rec(actions.find((a) => a.action === 'snapshot')?.detail).snapshots);
  const recorded = recs(item.snapshots);
  const ids = [
    ...new Set([...recorded.map((s) => str(s.snapshotId)), ...strs(item.snapshotIds), ...started.map((s) => str(s.snapshotId))]),
  ].filter((id): id is string => id !== null);
  const shares = recs(item.shares);
  return ids.map((snapshotId) => {
    const s = recorded.find((r) => r.snapshotId === snapshotId) ?? started.find((r) => r.snapshotId === snapshotId) ?? {};
    const share = shares.find((r) => r.snapshotId === snapshotId);
    let note: string | null = null;
    if (share?.status === 'failed') note = `${str(share.error) ?? 'Error'}: ${str(share.cause) ?? ''}`.trim();
    else if (share?.status === 'kept') note = `evidence copy ${str(share.evidenceCopyId) ?? '?'} under the evidence key (single account)`;
    else if (share?.temporaryCopy === 'kept') note = `temporary copy ${str(share.memberCopyId) ?? '?'} not removed`;
    return {
      snapshotId,
      volumeId: str(s.volumeId),
      state: str(s.state),
      copy: share ? str(share.status) : null,
      hubCopyId: share ? str(share.hubCopyId) : null,
      note,
    };
  });
}

function evidenceViews(item: Rec, actions: Rec[], incidentId: string | null): EvidenceView[] {
  const views: EvidenceView[] = [];
  const add = (name: string, o: unknown): void => {
    const e = rec(o);
    const key = str(e.key);
    if (key) views.push({ name, bucket: str(e.bucket), key, sha256: str(e.sha256) });
  };
  for (const [name, o] of Object.entries(rec(item.evidence))) add(name, o);
  const collected = rec(rec(actions.find((a) => a.action === 'collectEvidence')?.detail).objects);
  for (const [name, o] of Object.entries(collected)) if (rec(o).status === 'stored') add(name, o);
  if (incidentId) {
    // The manifest is rewritten per incident (lambdas/shared/manifest.ts); it lives beside the responses.
    views.push({ name: 'manifest', bucket: views.find((v) => v.bucket)?.bucket ?? null, key: `${incidentPrefix(incidentId)}manifest.json`, sha256: null });
  }
  return views;
}

/** Build the view. `item` is the RESPONSE item (undefined when the ledger has none yet). */
export function responseView(
  responseId: string,
  item: Rec | undefined,
  incident: Rec | undefined,
  execution: ExecutionView | null,
): ResponseView {
  const r = item ?? {};
  const request = isRec(r.request) ? r.request : undefined;
  const target = isRec(request?.target) ? (request.target as Target) : isRec(incident?.target) ? (incident.target as Target) : null;
  const incidentId = str(r.pk) ?? str(incident?.pk);
  const actions = recs(r.actions);
  return {
    responseId,
    incidentId,
    target,
    request: request
      ? {
          source: str(request.source),
          requestedBy: str(request.requestedBy),
          reason: str(request.reason),
          actions: strs(request.actions),
          findingType: str(rec(request.finding).type),
        }
      : null,
    status: item ? (str(r.outcome) ?? str(r.status) ?? 'unknown') : 'not-recorded',
    summary: str(r.summary),
    startedAt: str(r.startedAt),
    recordedAt: str(r.recordedAt),
    incident: incident ? incidentView(incident) : null,
    actions: actionViews(r),
    failures: recs(r.failures).map((f) => ({ action: str(f.action) ?? '?', error: str(f.error) ?? 'Error', cause: str(f.cause) ?? '' })),
    snapshots: snapshotViews(r, actions),
    snapshotStatus: str(r.snapshotStatus),
    snapshotFailures: strs(r.snapshotFailures),
    flowLogs: recs(rec(actions.find((a) => a.action === 'flowLogs')?.detail).flowLogs).map((l) => ({
      resourceId: str(l.resourceId) ?? '?',
      flowLogId: str(l.flowLogId) ?? '?',
      status: str(l.status) ?? '?',
      destination: str(l.destination),
    })),
    evidence: evidenceViews(r, actions, incidentId),
    restoreFrom: str(r.restoreFrom) ?? str(incident?.originalBeforeStateKey),
    execution,
  };
}
