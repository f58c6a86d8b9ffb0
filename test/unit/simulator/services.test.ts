/** Auto Scaling, ELBv2, S3, SNS and Step Functions callbacks in the simulated account. */
import { createHash } from 'node:crypto';
import { rejectionOf } from '../../support/clients';
import { account, send } from './support';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/1';

describe('Auto Scaling and ELBv2', () => {
  it('detaching an instance drains it from its group’s target groups; a stranger to the group is refused', async () => {
    const world = account();
    world.autoScaling.set('i-1', 'web-asg');
    world.asgTargetGroups.set('web-asg', [TG]);
    world.targetGroups.set(TG, { type: 'instance', targets: [{ id: 'i-1', port: 443, state: 'healthy' }, { id: 'i-2', port: 443, state: 'healthy' }] });
    const err = await rejectionOf(send(world, 'autoscaling', 'DetachInstances', { InstanceIds: ['i-2'], AutoScalingGroupName: 'web-asg' }));
    expect([err.name, err.message]).toEqual(['ValidationError', 'instance i-2 is not part of web-asg']);
    await send(world, 'autoscaling', 'DetachInstances', { InstanceIds: ['i-1'], AutoScalingGroupName: 'web-asg', ShouldDecrementDesiredCapacity: false });
    expect(world.autoScaling.has('i-1')).toBe(false);
    expect(await send(world, 'elasticloadbalancing', 'DescribeTargetHealth', { TargetGroupArn: TG })).toEqual({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-1', Port: 443 }, TargetHealth: { State: 'draining' } },
        { Target: { Id: 'i-2', Port: 443 }, TargetHealth: { State: 'healthy' } },
      ],
    });
    await send(world, 'elasticloadbalancing', 'DeregisterTargets', { TargetGroupArn: TG, Targets: [{ Id: 'i-2' }] });
    expect(world.targetGroups.get(TG)?.targets.map((t) => t.id)).toEqual(['i-1']);
  });
});

describe('S3', () => {
  it('stores an object with the SHA-256 it computed; refuses a missing or wrong checksum', async () => {
    const world = account();
    const body = Buffer.from('evidence');
    const digest = createHash('sha256').update(body).digest('base64');
    const none = await rejectionOf(send(world, 's3', 'PutObject', { Bucket: 'b', Key: 'k', Body: body }));
    expect([none.name, none.message]).toEqual(['InvalidRequest', 'Object Lock requires a checksum on PutObject']);
    const wrong = await rejectionOf(send(world, 's3', 'PutObject', { Bucket: 'b', Key: 'k', Body: body, ChecksumSHA256: 'AAAA' }));
    expect(wrong.name).toBe('BadDigest');
    expect(await send(world, 's3', 'PutObject', { Bucket: 'b', Key: 'k', Body: body, ChecksumAlgorithm: 'SHA256' })).toEqual({ VersionId: expect.stringMatching(/^v-/), ChecksumSHA256: digest });
    expect(await send(world, 's3', 'HeadObject', { Bucket: 'b', Key: 'k', ChecksumMode: 'ENABLED' })).toEqual({ ContentLength: 8, ContentType: undefined, ChecksumSHA256: digest });
    expect(await send(world, 's3', 'ListObjectsV2', { Bucket: 'b', Prefix: '' })).toEqual({ Contents: [{ Key: 'k' }], IsTruncated: false });
    expect((await rejectionOf(send(world, 's3', 'HeadObject', { Bucket: 'b', Key: 'missing' }))).name).toBe('NotFound');
  });
});

describe('SNS', () => {
  it('refuses a subject over 100 characters and keeps what it publishes', async () => {
    const world = account();
    const err = await rejectionOf(send(world, 'sns', 'Publish', { Subject: 'x'.repeat(101), Message: 'm' }));
    expect([err.name, err.message]).toEqual(['InvalidParameter', 'Subject too long']);
    await send(world, 'sns', 'Publish', { Subject: 'x'.repeat(100), Message: 'm' });
    expect(world.messages).toEqual([{ subject: 'x'.repeat(100), message: 'm', attributes: undefined }]);
  });
});

describe('Step Functions callbacks', () => {
  it('settles a waiting task once; later callbacks, or any after it closed, get TaskTimedOut', async () => {
    const world = account();
    const settled = world.openTask('tok-1');
    await send(world, 'states', 'SendTaskSuccess', { taskToken: 'tok-1', output: '{"decision":"approve"}' });
    await expect(settled).resolves.toEqual({ decision: 'approve' });
    const late = await rejectionOf(send(world, 'states', 'SendTaskFailure', { taskToken: 'tok-1', error: 'Rejected' }));
    expect([late.name, late.message]).toEqual(['TaskTimedOut', 'Task Timed Out']);
    const closing = world.openTask('tok-2');
    closing.catch(() => undefined);
    world.closeTask('tok-2');
    expect((await rejectionOf(send(world, 'states', 'SendTaskSuccess', { taskToken: 'tok-2', output: '{}' }))).name).toBe('TaskTimedOut');
    expect((await rejectionOf(send(world, 'states', 'SendTaskSuccess', { taskToken: 'nope', output: '{}' }))).name).toBe('InvalidToken');
  });

  it('fails a task with the error and cause given; refuses output that is not JSON', async () => {
    const world = account();
    const settled = world.openTask('tok');
    const bad = await rejectionOf(send(world, 'states', 'SendTaskSuccess', { taskToken: 'tok', output: 'not json' }));
    expect([bad.name, bad.message]).toEqual(['InvalidOutput', 'The provided JSON output data is not valid']);
    await send(world, 'states', 'SendTaskFailure', { taskToken: 'tok', error: 'Rejected', cause: 'no' });
    const err = await rejectionOf(settled);
    expect([err.name, err.message]).toEqual(['Rejected', 'no']);
  });
});
