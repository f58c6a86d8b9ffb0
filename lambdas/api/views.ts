/**
 * What `GET /v1/responses/{id}` returns (docs/openapi.yaml, `Response`): the response as the
 * ledger records it and as Step Functions runs it, in named fields only. Pure: the route reads,
 * these shape. An approval's task token is never in a view.
 */
import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { withoutTaskToken } from '../shared/approval';
import { ResponseRequest } from '../shared/schemas';

/** Lower-case, hyphenated Step Functions execution status; `unknown` once its history has expired. */
export type ResponseStatus = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'aborted' | 'pending-redrive' | 'unknown';

export function statusOf(execution: DescribeExecutionCommandOutput | undefined): ResponseStatus {
  const status = execution?.status;
  if (!status) return 'unknown';
  return status.toLowerCase().replace(/_/g, '-') as ResponseStatus;
}

function executionView(execution: DescribeExecutionCommandOutput | undefined): Record<string, unknown> | null {
  if (!execution?.executionArn) return null;
  return {
    executionArn: execution.executionArn,
    status: execution.status ?? null,
    startDate: execution.startDate?.toISOString() ?? null,
    stopDate: execution.stopDate?.toISOString() ?? null,
  };
}

/** The named `keys` of `source` that are set; `{}` when it is not an object. */
export function pick(source: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!source || typeof source !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (source as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const REQUEST_FIELDS = ['source', 'target', 'finding', 'actions', 'reason', 'requestedBy'] as const;

/** What GET shows of a response's approval (docs/approval.md): named fields only, never its task token. */
const APPROVAL_FIELDS = [
  'status',
  'requestedAt',
  'expiresAt',
  'matchedTag',
  'timeoutSeconds',
  'onTimeout',
  'actions',
  'decision',
  'decidedBy',
  'reason',
  'decidedAt',
  'applied',
  'closedAt',
] as const;

/** The approval gate's entry on a RESPONSE item, without its task token; null when no approval was asked. */
function approvalView(item: Record<string, unknown>): Record<string, unknown> | null {
  const { approval } = withoutTaskToken(item);
  if (!approval || typeof approval !== 'object') return null;
  return pick(approval, APPROVAL_FIELDS);
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A response started a moment ago and not in the ledger's `byResponseId` index yet: its execution
 * alone answers (`running`, with the request it was started with).
 */
export function unrecordedResponseView(id: string, execution: DescribeExecutionCommandOutput): Record<string, unknown> {
  const request = ResponseRequest.safeParse(parseJson(execution.input));
  return {
    responseId: id,
    status: statusOf(execution),
    recorded: false,
    outcome: null,
    summary: null,
    incident: null,
    request: request.success ? pick(request.data, REQUEST_FIELDS) : null,
    approval: null,
    actions: [],
    failures: [],
    evidence: {},
    snapshotIds: [],
    execution: executionView(execution),
  };
}

/** A response the ledger records: its RESPONSE item, its incident's status, and its execution if still described. */
export function recordedResponseView(
  id: string,
  incidentId: string,
  item: Record<string, unknown>,
  incidentStatus: unknown,
  execution: DescribeExecutionCommandOutput | undefined,
): Record<string, unknown> {
  return {
    responseId: id,
    status: statusOf(execution),
    recorded: true,
    outcome: item.outcome ?? null,
    summary: item.summary ?? null,
    incident: { incidentId, status: incidentStatus ?? null },
    request: pick(item.request, REQUEST_FIELDS),
    approval: approvalView(item),
    actions: Array.isArray(item.actions) ? item.actions : [],
    failures: Array.isArray(item.failures) ? item.failures : [],
    evidence: item.evidence && typeof item.evidence === 'object' ? item.evidence : {},
    snapshotIds: Array.isArray(item.snapshotIds) ? item.snapshotIds : [],
    startedAt: item.startedAt ?? null,
    recordedAt: item.recordedAt ?? null,
    execution: executionView(execution),
  };
}
