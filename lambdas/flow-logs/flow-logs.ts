/**
 * EnableFlowLogs (DESIGN.md §3.3): idempotent. An active ALL-traffic flow log
 * on the VPC is reused; otherwise one is created to the hub evidence bucket
 * (custom v2–v5 format, 60 s aggregation). A VPC carries at most two flow
 * logs: when both slots hold non-ALL logs, the instance's ENIs get their own.
 */
import { createHash } from 'node:crypto';
import { CreateFlowLogsCommand, DescribeFlowLogsCommand, type EC2Client, type FlowLog } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { CordonError } from '../shared/errors';
import { InterfaceSummary, TaskBase } from '../shared/workflow';

export const FLOW_LOG_FIELDS = [
  // v2
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol',
  'packets', 'bytes', 'start', 'end', 'action', 'log-status',
  // v3
  'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr',
  // v4
  'region', 'az-id', 'sublocation-type', 'sublocation-id',
  // v5
  'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path',
] as const;
export const FLOW_LOG_FORMAT = FLOW_LOG_FIELDS.map((f) => `\${${f}}`).join(' ');
export const MAX_FLOW_LOGS_PER_RESOURCE = 2;

export class FlowLogCreationError extends CordonError {
  constructor(message: string) {
    super('FlowLogCreationError', message);
  }
}

export const FlowLogsInput = TaskBase.extend({ interfaces: z.array(InterfaceSummary).min(1) });
export type FlowLogsInput = z.infer<typeof FlowLogsInput>;

export interface FlowLogsDeps {
  readonly factory: ClientFactory;
  /** Evidence bucket ARN, e.g. arn:aws:s3:::cordon-evidence-… */
  readonly config: { readonly bucketArn: string };
}

export interface ResourceFlowLog {
  resourceId: string;
  resourceType: 'VPC' | 'NetworkInterface';
  flowLogId: string;
  status: 'reused' | 'created';
  destination: string | undefined;
}

export interface FlowLogsResult {
  action: 'flowLogs';
  status: 'succeeded';
  flowLogs: ResourceFlowLog[];
}

const isUsable = (f: FlowLog): boolean =>
  f.TrafficType === 'ALL' && f.FlowLogStatus === 'ACTIVE' && (f.DeliverLogsStatus ?? 'SUCCESS') === 'SUCCESS';

async function describe(ec2: EC2Client, resourceIds: string[]): Promise<FlowLog[]> {
  const logs: FlowLog[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: resourceIds }], NextToken }),
    );
    logs.push(...(out.FlowLogs ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return logs;
}

/** ClientToken makes a retried create idempotent (at most 64 ASCII characters). */
function clientToken(incidentId: string, resourceId: string): string {
  return createHash('sha256').update(`${incidentId}/${resourceId}`).digest('hex').slice(0, 64);
}

async function create(
  ec2: EC2Client,
  input: FlowLogsInput,
  deps: FlowLogsDeps,
  resourceType: 'VPC' | 'NetworkInterface',
  resourceId: string,
): Promise<ResourceFlowLog> {
  const destination = `${deps.config.bucketArn}/flow-logs/`;
  const out = await ec2.send(
    new CreateFlowLogsCommand({
      ResourceIds: [resourceId],
      ResourceType: resourceType,
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: destination,
      LogFormat: FLOW_LOG_FORMAT,
      MaxAggregationInterval: 60,
      DestinationOptions: { FileFormat: 'plain-text', HiveCompatiblePartitions: false, PerHourPartition: true },
      ClientToken: clientToken(input.incidentId, resourceId),
      TagSpecifications: [
        {
          ResourceType: 'vpc-flow-log',
          Tags: [
            { Key: 'cordon:managed', Value: 'true' },
            { Key: 'cordon:incident', Value: input.incidentId },
          ],
        },
      ],
    }),
  );
  const failed = out.Unsuccessful?.find((u) => u.ResourceId === resourceId) ?? out.Unsuccessful?.[0];
  const id = out.FlowLogIds?.[0];
  if (failed || !id) {
    throw new FlowLogCreationError(
      `CreateFlowLogs on ${resourceId} failed: ${failed?.Error?.Code ?? 'NoFlowLogId'}: ${failed?.Error?.Message ?? 'no flow log id returned'}`,
    );
  }
  return { resourceId, resourceType, flowLogId: id, status: 'created', destination };
}

export async function enableFlowLogs(input: FlowLogsInput, deps: FlowLogsDeps): Promise<FlowLogsResult> {
  const { ec2 } = await deps.factory.forTarget(input.target, `cordon-${input.requestId}`);
  const results: ResourceFlowLog[] = [];
  const vpcIds = [...new Set(input.interfaces.map((i) => i.vpcId))].sort();
  for (const vpcId of vpcIds) {
    const existing = await describe(ec2, [vpcId]);
    const usable = existing.find(isUsable);
    if (usable?.FlowLogId) {
      results.push({ resourceId: vpcId, resourceType: 'VPC', flowLogId: usable.FlowLogId, status: 'reused', destination: usable.LogDestination });
      continue;
    }
    if (existing.length < MAX_FLOW_LOGS_PER_RESOURCE) {
      results.push(await create(ec2, input, deps, 'VPC', vpcId));
      continue;
    }
    // Both VPC slots are taken by logs that don't capture ALL traffic: log this instance's ENIs instead.
    const enis = input.interfaces.filter((i) => i.vpcId === vpcId).map((i) => i.networkInterfaceId);
    const eniLogs = await describe(ec2, enis);
    for (const eni of enis) {
      const own = eniLogs.filter((f) => f.ResourceId === eni);
      const reuse = own.find(isUsable);
      if (reuse?.FlowLogId) {
        results.push({ resourceId: eni, resourceType: 'NetworkInterface', flowLogId: reuse.FlowLogId, status: 'reused', destination: reuse.LogDestination });
      } else if (own.length < MAX_FLOW_LOGS_PER_RESOURCE) {
        results.push(await create(ec2, input, deps, 'NetworkInterface', eni));
      } else {
        throw new FlowLogCreationError(
          `${vpcId} and ${eni} each already carry ${MAX_FLOW_LOGS_PER_RESOURCE} flow logs, none capturing ALL traffic`,
        );
      }
    }
  }
  return { action: 'flowLogs', status: 'succeeded', flowLogs: results };
}
