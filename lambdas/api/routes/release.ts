/** `POST /v1/responses/{id}/release`: start a release (202 `{releaseId, responseId, executionArn}`). */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { findResponse, INCIDENT_SK } from '../../shared/ledger';
import { ReleaseRequest } from '../../shared/schemas';
import { failure, invalidBody, parseId, ReleaseBody, type ApiDeps, type ApiResult } from '../contract';
import { describeExecution, startExecution } from '../executions';
import { statusOf } from '../views';

/** Incident states a release may start from. */
export const RELEASABLE_STATUSES: readonly string[] = ['contained', 'partially-contained'];

/**
 * Pre-check the incident (contained or partially contained, with the before-state release
 * restores), then start the release workflow with a `ReleaseRequest`. The release workflow
 * checks again under its own conditions: this answers the caller early and plainly.
 */
export async function startRelease(rawId: string | undefined, body: unknown, caller: string, deps: ApiDeps): Promise<ApiResult> {
  const idCheck = parseId(rawId);
  if ('failure' in idCheck) return idCheck.failure;
  const { id } = idCheck;
  const parsed = ReleaseBody.safeParse(body);
  if (!parsed.success) return invalidBody(parsed.error);
  const { config, ddb } = deps;

  const found = await findResponse(ddb, config.ledgerTable, id);
  if (!found) {
    const execution = await describeExecution(deps, config.responseStateMachineArn, id);
    if (!execution) return failure(404, 'NOT_FOUND', `id: no response ${id}`);
    return failure(
      409,
      'NOT_RELEASABLE',
      `response ${id} is ${statusOf(execution)} and not recorded in the ledger yet; release it once it has contained the instance`,
    );
  }

  const { incidentId } = found;
  const incident = (
    await ddb.send(new GetCommand({ TableName: config.ledgerTable, Key: { pk: incidentId, sk: INCIDENT_SK }, ConsistentRead: true }))
  ).Item;
  const status = typeof incident?.status === 'string' ? incident.status : 'unrecorded';
  if (!RELEASABLE_STATUSES.includes(status)) {
    return failure(
      409,
      'NOT_RELEASABLE',
      `incident ${incidentId} is ${status}; only a contained or partially-contained instance can be released`,
    );
  }
  // The same sources, in the same order, as the release workflow (lambdas/release-load): the incident's
  // original before-state, else the response's own.
  const beforeStateKey = [incident?.originalBeforeStateKey, found.item.restoreFrom].find((k) => typeof k === 'string' && k !== '');
  if (beforeStateKey === undefined) {
    return failure(
      409,
      'NOT_RELEASABLE',
      `neither incident ${incidentId} (originalBeforeStateKey) nor response ${id} (restoreFrom) names a before-state: there is nothing to restore from`,
    );
  }

  const releaseId = (deps.newId ?? randomUUID)();
  const request = ReleaseRequest.parse({ releaseId, responseId: id, source: 'api', reason: parsed.data.reason, requestedBy: caller });
  const { stateMachineArn, executionArn } = await startExecution(deps, config.releaseStateMachineArn, releaseId, request);
  deps.log.info('api: release started', { releaseId, responseId: id, incidentId, stateMachineArn, executionArn, requestedBy: caller });
  return { statusCode: 202, body: { releaseId, responseId: id, executionArn } };
}
