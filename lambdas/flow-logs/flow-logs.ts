/**
 * EnableFlowLogs (docs/design.md §3.3): idempotent. A flow log is reused only when it
 * is one cordon would have created: active, ALL traffic, delivering to the hub
 * evidence bucket's flow-logs/ prefix in cordon's format at 60 s aggregation.
 * Any other flow log on the VPC (a member's own, or one to a bucket in another
 * account) is recorded as found and never counts: the member account can create
 * and point flow logs anywhere, so their mere presence proves nothing reaches the
 * evidence bucket. A VPC carries at most two flow logs: when both slots hold
 * logs cordon can't reuse, the instance's ENIs get their own.
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

/** A flow log that was already there and that cordon did not reuse: recorded, never relied on. */
export interface FoundFlowLog {
  resourceId: string;
  flowLogId: string;
  trafficType: string | null;
  status: string | null;
  destination: string | null;
}

export interface FlowLogsResult {
  action: 'flowLogs';
  status: 'succeeded';
  flowLogs: ResourceFlowLog[];
  /** Pre-existing flow logs on the resources looked at, which cordon did not reuse. */
  found: FoundFlowLog[];
}

/** Where cordon delivers flow logs: the evidence bucket's flow-logs/ prefix. */
export const flowLogDestination = (bucketArn: string): string => `${bucketArn}/flow-logs/`;

/**
 * True only for a flow log that delivers what cordon needs to where cordon keeps evidence. Every field is
 * checked, because the member account may create flow logs itself (to any bucket, in any format).
 */
function isOurs(f: FlowLog, destination: string): boolean {
  return (
    f.TrafficType === 'ALL' &&
    f.FlowLogStatus === 'ACTIVE' &&
    (f.DeliverLogsStatus ?? 'SUCCESS') === 'SUCCESS' &&
    f.LogDestinationType === 's3' &&
    f.LogDestination === destination &&
    f.LogFormat === FLOW_LOG_FORMAT &&
    f.MaxAggregationInterval === 60
  );
}

function found(f: FlowLog): FoundFlowLog {
  return {
    resourceId: f.ResourceId ?? '',
    flowLogId: f.FlowLogId ?? '',
    trafficType: f.TrafficType ?? null,
    status: f.FlowLogStatus ?? null,
    destination: f.LogDestination ?? null,
  };
}

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
  const destination = flowLogDestination(deps.config.bucketArn);
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
  const foundLogs: FoundFlowLog[] = [];
  const destination = flowLogDestination(deps.config.bucketArn);
  const usable = (logs: FlowLog[]): FlowLog | undefined => {
    const ours = logs.find((f) => f.FlowLogId && isOurs(f, destination));
    foundLogs.push(...logs.filter((f) => f !== ours).map(found));
    return ours;
  };
  const vpcIds = [...new Set(input.interfaces.map((i) => i.vpcId))].sort();
  for (const vpcId of vpcIds) {
    const existing = await describe(ec2, [vpcId]);
    const reuseVpc = usable(existing);
    if (reuseVpc?.FlowLogId) {
      results.push({ resourceId: vpcId, resourceType: 'VPC', flowLogId: reuseVpc.FlowLogId, status: 'reused', destination: reuseVpc.LogDestination });
      continue;
    }
    if (existing.length < MAX_FLOW_LOGS_PER_RESOURCE) {
      results.push(await create(ec2, input, deps, 'VPC', vpcId));
      continue;
    }
    // Both VPC slots are taken by logs cordon can't reuse: log this instance's ENIs instead.
    const enis = input.interfaces.filter((i) => i.vpcId === vpcId).map((i) => i.networkInterfaceId);
    const eniLogs = await describe(ec2, enis);
    for (const eni of enis) {
      const own = eniLogs.filter((f) => f.ResourceId === eni);
      const reuse = usable(own);
      if (reuse?.FlowLogId) {
        results.push({ resourceId: eni, resourceType: 'NetworkInterface', flowLogId: reuse.FlowLogId, status: 'reused', destination: reuse.LogDestination });
      } else if (own.length < MAX_FLOW_LOGS_PER_RESOURCE) {
        results.push(await create(ec2, input, deps, 'NetworkInterface', eni));
      } else {
        throw new FlowLogCreationError(
          `${vpcId} and ${eni} each already carry ${MAX_FLOW_LOGS_PER_RESOURCE} flow logs, none of them cordon's (ALL traffic to the evidence bucket): delete one, or let cordon log elsewhere`,
        );
      }
    }
  }
  return { action: 'flowLogs', status: 'succeeded', flowLogs: results, found: foundLogs };
}
