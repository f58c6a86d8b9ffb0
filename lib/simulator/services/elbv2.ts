/** Elastic Load Balancing v2: target groups, their targets' health, and deregistration. */
import type * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsError, type ServiceHandlers, type SimState } from '../core';

function describeTargetGroups(s: SimState) {
  return {
    TargetGroups: [...s.targetGroups.entries()].map(([arn, tg]) => ({ TargetGroupArn: arn, TargetType: tg.type })),
  };
}

function describeTargetHealth(s: SimState, input: elb.DescribeTargetHealthCommandInput) {
  const tg = s.targetGroups.get(input.TargetGroupArn as string);
  if (!tg) throw awsError('TargetGroupNotFound');
  return {
    TargetHealthDescriptions: tg.targets.map((t) => ({ Target: { Id: t.id, Port: t.port }, TargetHealth: { State: t.state } })),
  };
}

function deregisterTargets(s: SimState, input: elb.DeregisterTargetsCommandInput) {
  const tg = s.targetGroups.get(input.TargetGroupArn as string);
  if (!tg) throw awsError('TargetGroupNotFound');
  for (const t of input.Targets ?? []) tg.targets = tg.targets.filter((x) => !(x.id === t.Id && (t.Port === undefined || x.port === t.Port)));
  return {};
}

export function elbv2Handlers(s: SimState): ServiceHandlers {
  return {
    DescribeTargetGroups: () => describeTargetGroups(s),
    DescribeTargetHealth: (i: elb.DescribeTargetHealthCommandInput) => describeTargetHealth(s, i),
    DeregisterTargets: (i: elb.DeregisterTargetsCommandInput) => deregisterTargets(s, i),
  };
}
