/**
 * RecordRefusal (docs/design.md §3.5): LoadContainment refused (or failed) before anything in the
 * target account was changed. Record who asked and why it was refused (a RELEASE item that never
 * overwrites a release that ran), give back the incident's release lock if this release took it,
 * and notify.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { awsErrorName } from '../shared/handler';
import { findResponse, INCIDENT_SK } from '../shared/ledger';
import { REFUSAL_ERRORS, ReleaseRequest, releaseSk } from '../shared/release';
import { notify, type RecordReleaseDeps, type RecordReleaseInput } from './deps';
import { causeMessage } from './outcome';

export interface RefusalResult {
  outcome: 'refused' | 'failed';
  error: string;
  cause: string;
}

/** LoadContainment refused (or failed) before anything in the target account was changed: record who asked, and why it was refused. */
export async function recordRefusal(input: Extract<RecordReleaseInput, { step: 'refused' }>, deps: RecordReleaseDeps): Promise<RefusalResult> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const error = input.failure.Error ?? 'Error';
  const cause = causeMessage(input.failure.Cause);
  const outcome: RefusalResult['outcome'] = REFUSAL_ERRORS.has(error) ? 'refused' : 'failed';
  const parsed = ReleaseRequest.safeParse(input.release);
  const { ddb } = deps.factory.hub();

  let incidentId: string | null = null;
  if (parsed.success) {
    const release = parsed.data;
    const found = await findResponse(ddb, deps.config.ledgerTable, release.responseId);
    if (found) {
      incidentId = found.incidentId;
      try {
        await ddb.send(
          new PutCommand({
            TableName: deps.config.ledgerTable,
            Item: {
              pk: incidentId,
              sk: releaseSk(release.releaseId),
              releaseId: release.releaseId,
              releasedResponseId: release.responseId,
              request: release,
              status: outcome,
              outcome,
              error,
              cause,
              summary: `${outcome}: ${error}: nothing was changed`,
              executionArn: input.executionArn,
              recordedAt: now,
            },
            // Never overwrite a release that ran (a reused release id is refused, and stays what it was).
            ConditionExpression: 'attribute_not_exists(pk) OR #status = :inProgress',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':inProgress': 'in-progress' },
          }),
        );
      } catch (err) {
        if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
      }
      try {
        // Give the lock back if this release took it; another release's lock is left alone.
        await ddb.send(
          new UpdateCommand({
            TableName: deps.config.ledgerTable,
            Key: { pk: incidentId, sk: INCIDENT_SK },
            UpdateExpression: 'SET updatedAt = :now REMOVE activeReleaseId',
            ConditionExpression: 'activeReleaseId = :rel',
            ExpressionAttributeValues: { ':now': now, ':rel': release.releaseId },
          }),
        );
      } catch (err) {
        if (awsErrorName(err) !== 'ConditionalCheckFailedException') throw err;
      }
    }
  }
  const responseId = parsed.success ? parsed.data.responseId : null;
  await notify(
    deps,
    `[cordon] release ${outcome}: ${responseId ?? 'invalid request'}`,
    {
      outcome,
      error,
      cause,
      incidentId,
      releaseId: parsed.success ? parsed.data.releaseId : null,
      responseId,
      requestedBy: parsed.success ? parsed.data.requestedBy : null,
      reason: parsed.success ? parsed.data.reason : null,
      executionArn: input.executionArn,
      changed: 'nothing: the release stopped before acting on the instance',
    },
    `release-${outcome}`,
  );
  deps.log.warn('release not started', { incidentId, error, outcome });
  return { outcome, error, cause };
}
