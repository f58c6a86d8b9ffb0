/** `GET /v1/responses/{id}`: a response's status, actions and evidence (views.ts shapes the answer). */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { findResponse, INCIDENT_SK } from '../../shared/ledger';
import { failure, parseId, type ApiDeps, type ApiResult } from '../contract';
import { describeExecution } from '../executions';
import { recordedResponseView, unrecordedResponseView } from '../views';

/**
 * The response as the ledger records it (its RESPONSE item and its incident's status) and
 * as Step Functions runs it. A response started a moment ago is not in the `byResponseId`
 * index yet: its execution alone answers (`running`, with the request it was started with).
 */
export async function getResponse(rawId: string | undefined, deps: ApiDeps): Promise<ApiResult> {
  const idCheck = parseId(rawId);
  if ('failure' in idCheck) return idCheck.failure;
  const { id } = idCheck;
  const { config, ddb } = deps;

  const [found, execution] = await Promise.all([
    findResponse(ddb, config.ledgerTable, id),
    describeExecution(deps, config.responseStateMachineArn, id),
  ]);

  if (!found) {
    if (!execution) return failure(404, 'NOT_FOUND', `id: no response ${id}`);
    return { statusCode: 200, body: unrecordedResponseView(id, execution) };
  }

  const { incidentId, item } = found;
  const incident = await ddb.send(new GetCommand({ TableName: config.ledgerTable, Key: { pk: incidentId, sk: INCIDENT_SK } }));
  return { statusCode: 200, body: recordedResponseView(id, incidentId, item, incident.Item?.status, execution) };
}
