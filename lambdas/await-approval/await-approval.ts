/**
 * AwaitApproval (docs/approval.md): the Lambda behind the approval gate's callback task
 * (`lambda:invoke.waitForTaskToken`). It stores the task token on the response in the ledger,
 * holds the incident's claim for as long as the wait may last, tells the responders how to decide,
 * and returns at once: the workflow then waits, in Step Functions, for `submitApprovalDecision`
 * (lambdas/shared/approval.ts) or for the timeout.
 *
 * The token is stored and nowhere else: not in the result, not in a log line, not in the notification.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { ACTION_SPECS, actionSpec, GATED_ACTIONS, isAction, type ActionKey } from '../shared/actions';
import { storePendingApproval, type ApprovalEntry } from '../shared/approval';
import type { ClientFactory } from '../shared/clients';
import { ApprovalAlreadyDecidedError, InvalidRequestError } from '../shared/errors';
import type { Log } from '../shared/handler';
import { holdClaim } from '../shared/ledger';
import { ResponseRequest } from '../shared/schemas';
import { ApprovalPlan, IncidentId, Plan } from '../shared/workflow';

export const AwaitApprovalInput = z.object({
  /** `$$.Task.Token`: Step Functions' callback token for this wait. Secret. */
  taskToken: z.string().min(1).max(2048),
  executionArn: z.string().min(1).max(2048),
  request: ResponseRequest,
  incidentId: IncidentId,
  plan: Plan,
  approval: ApprovalPlan,
});
export type AwaitApprovalInput = z.infer<typeof AwaitApprovalInput>;

export interface AwaitApprovalConfig {
  readonly ledgerTable: string;
  readonly topicArn: string;
}

export interface AwaitApprovalDeps {
  readonly factory: ClientFactory;
  readonly config: AwaitApprovalConfig;
  readonly log: Log;
  readonly now?: () => Date;
}

export interface AwaitApprovalResult {
  status: 'pending';
  expiresAt: string;
  /** What waits for the decision. */
  actions: string[];
  notificationId: string | undefined;
}

/** Workflow steps that are not actions (docs/approval.md): they wait at the gate because an action does. */
type Companion = 'protect' | 'leaveTargetGroups';

/**
 * The steps that run with a gated action once it is approved: isolation first takes the instance out of
 * its Auto Scaling group and protects it from termination (ProtectAfterApproval), and afterwards leaves
 * its target groups (LeaveTargetGroups). A gated action without an entry waits alone.
 */
const COMPANIONS: Partial<Record<ActionKey, { readonly before: readonly Companion[]; readonly after: readonly Companion[] }>> = {
  isolate: { before: ['protect'], after: ['leaveTargetGroups'] },
};

const COMPANION_DESCRIBE: Record<Companion, string> = {
  protect: 'leave its Auto Scaling group (capacity kept) and turn termination protection on',
  leaveTargetGroups: 'deregister it from the load-balancer target groups it is registered in directly',
};

/** What waits for the decision, in the order it will run once approved: each planned gated action with its companions. */
export function gatedActions(plan: Plan): string[] {
  return GATED_ACTIONS.filter((a) => plan[a]).flatMap((a) => [...(COMPANIONS[a]?.before ?? []), a, ...(COMPANIONS[a]?.after ?? [])]);
}

/** What a waiting step does, in the approver's words: the action's own description, or its companion's. */
export function describeWaiting(step: string): string {
  if (isAction(step)) return actionSpec(step).describe;
  return Object.prototype.hasOwnProperty.call(COMPANION_DESCRIBE, step) ? COMPANION_DESCRIBE[step as Companion] : step;
}

/** The actions that never wait (evidence), by label: they run while the gate is closed. */
const NOT_WAITING = ACTION_SPECS.filter((a) => !a.gated).map((a) => a.label);

/** SNS subjects: ASCII, at most 100 characters. */
function subject(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

export async function requestApproval(input: AwaitApprovalInput, deps: AwaitApprovalDeps): Promise<AwaitApprovalResult> {
  const { request, incidentId, approval } = input;
  if (!approval.required) throw new InvalidRequestError('approval.required: must be true: this response does not wait for a decision');
  const now = (deps.now ?? (() => new Date()))();
  const requestedAt = now.toISOString();
  const expiresAt = new Date(now.getTime() + approval.timeoutSeconds * 1000).toISOString();
  const actions = gatedActions(input.plan);
  const { ddb, sns } = deps.factory.hub();

  const entry: ApprovalEntry & { status: 'pending'; taskToken: string } = {
    status: 'pending',
    requestedAt,
    expiresAt,
    matchedTag: approval.matchedTag,
    timeoutSeconds: approval.timeoutSeconds,
    onTimeout: approval.onTimeout,
    actions,
    executionArn: input.executionArn,
    taskToken: input.taskToken,
  };
  const stored = await storePendingApproval(ddb, deps.config.ledgerTable, incidentId, request.requestId, entry, requestedAt);
  if (!stored) {
    throw new ApprovalAlreadyDecidedError(
      `response ${request.requestId} already holds a decided approval: a new approval request can't replace it`,
      'decided',
      undefined,
    );
  }
  // A repeat finding during the wait is a duplicate, not an abandoned claim to take over.
  await holdClaim(ddb, deps.config.ledgerTable, incidentId, request.requestId, expiresAt);

  const { target } = request;
  const id = request.requestId;
  const tag = approval.matchedTag ? `${approval.matchedTag.key}=${approval.matchedTag.value}` : 'a configured tag';
  // A hub selector (approval.requiredFor) is named first: it is what decides the timeout policy.
  const why = approval.matchedHub
    ? `hub configuration approval.requiredFor.${approval.matchedHub.field} names ${approval.matchedHub.value}: containment waits for a human decision`
    : `the instance is tagged ${tag}: containment waits for a human decision (a tag-selected gate always goes ahead on timeout)`;
  const out = await sns.send(
    new PublishCommand({
      TopicArn: deps.config.topicArn,
      Subject: subject(`[cordon] approval needed: ${target.instanceId} in ${target.accountId}/${target.region}`),
      Message: JSON.stringify(
        {
          approvalNeeded: true,
          responseId: id,
          incidentId,
          executionArn: input.executionArn,
          target,
          finding: request.finding ?? null,
          reason: request.reason,
          requestedBy: request.requestedBy,
          why,
          waiting: actions.map((a) => `${a}: ${describeWaiting(a)}`),
          notWaiting: `${NOT_WAITING.join(', ')}, preservation (shutdown behaviour, volumes kept on termination) and evidence collection are already running`,
          expiresAt,
          onTimeout:
            approval.onTimeout === 'approve'
              ? `no decision by ${expiresAt}: containment goes ahead (onTimeout=approve)`
              : `no decision by ${expiresAt}: the instance is left in service, evidence still collected (onTimeout=deny)`,
          approve: {
            cli: `cordon approve ${id} --reason "<why>"`,
            api: `POST /v1/responses/${id}/approval {"decision":"approve","reason":"<why>"}`,
          },
          deny: {
            cli: `cordon deny ${id} --reason "<why>"`,
            api: `POST /v1/responses/${id}/approval {"decision":"deny","reason":"<why>"}`,
          },
          requestedAt,
        },
        null,
        2,
      ),
      MessageAttributes: { outcome: { DataType: 'String', StringValue: 'approval-needed' } },
    }),
  );
  deps.log.info('approval requested', { incidentId, requestId: id, expiresAt, matchedTag: tag, actions });
  return { status: 'pending', expiresAt, actions, notificationId: out.MessageId };
}
