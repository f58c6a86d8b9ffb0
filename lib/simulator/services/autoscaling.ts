/** Auto Scaling: which group an instance is in, the group's target groups, and detaching (which drains them). */
import type * as asg from '@aws-sdk/client-auto-scaling';
import { awsError, type ServiceHandlers, type SimState } from '../core';

function describeAsgInstances(s: SimState, input: asg.DescribeAutoScalingInstancesCommandInput) {
  return {
    AutoScalingInstances: (input.InstanceIds ?? [])
      .filter((id) => s.autoScaling.has(id))
      .map((id) => ({ InstanceId: id, AutoScalingGroupName: s.autoScaling.get(id), LifecycleState: 'InService' })),
  };
}

function describeAsgs(s: SimState, input: asg.DescribeAutoScalingGroupsCommandInput) {
  return {
    AutoScalingGroups: (input.AutoScalingGroupNames ?? []).map((n) => ({ AutoScalingGroupName: n, TargetGroupARNs: s.asgTargetGroups.get(n) ?? [] })),
  };
}

function detachInstances(s: SimState, input: asg.DetachInstancesCommandInput) {
  for (const id of input.InstanceIds ?? []) {
    if (s.autoScaling.get(id) !== input.AutoScalingGroupName) throw awsError('ValidationError', `instance ${id} is not part of ${input.AutoScalingGroupName}`);
    s.autoScaling.delete(id);
    // Leaving the group deregisters the instance from the group's own target groups (it drains).
    for (const arn of s.asgTargetGroups.get(input.AutoScalingGroupName as string) ?? []) {
      for (const t of s.targetGroups.get(arn)?.targets ?? []) if (t.id === id) t.state = 'draining';
    }
  }
  return { Activities: [{ ActivityId: s.hexId('act') }] };
}

export function autoScalingHandlers(s: SimState): ServiceHandlers {
  return {
    DescribeAutoScalingInstances: (i: asg.DescribeAutoScalingInstancesCommandInput) => describeAsgInstances(s, i),
    DetachInstances: (i: asg.DetachInstancesCommandInput) => detachInstances(s, i),
    DescribeAutoScalingGroups: (i: asg.DescribeAutoScalingGroupsCommandInput) => describeAsgs(s, i),
  };
}
