/** The simulated account's dispatch: what is modelled, what fails loudly, injected failures, request ids. */
import { rejectionOf } from '../../support/clients';
import { account, MEMBER, send } from './support';

describe('SimAccount dispatch', () => {
  it('fails loudly on a command no service module models, and records nothing', async () => {
    const world = account();
    const err = await rejectionOf(world.dispatch('ec2', 'TerminateInstances', { InstanceIds: ['i-1'] }, MEMBER));
    expect(err.message).toBe('FakeAws: ec2 command not modelled: TerminateInstances {"InstanceIds":["i-1"]}');
    expect(err.name).toBe('Error');
    expect((err as { $metadata?: unknown }).$metadata).toBeUndefined();
    expect(world.calls).toEqual([]);
  });

  it('fails loudly on a service it does not model at all', async () => {
    const world = account();
    const err = await rejectionOf(world.dispatch('kms', 'CreateGrant', {}, MEMBER));
    expect(err.message).toBe('FakeAws: kms command not modelled: CreateGrant {}');
    expect(world.models('kms', 'CreateGrant')).toBe(false);
    expect(world.models('ec2', 'CreateSnapshots')).toBe(true);
    expect(world.models('states', 'SendTaskSuccess')).toBe(true);
  });

  it('fails loudly, without a request id, on a modelled command used in a way it does not model', async () => {
    const world = account();
    const err = await rejectionOf(send(world, 'ec2', 'DescribeInstances', { Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }] }));
    expect(err.message).toBe('FakeAws: DescribeInstances filter vpc-id not modelled');
    expect((err as { $metadata?: unknown }).$metadata).toBeUndefined();
  });

  it('answers with a request id and HTTP 200, and records the call with its caller and time', async () => {
    const world = account();
    world.now = () => new Date('2026-03-02T09:15:00.000Z');
    const out = await world.dispatch('sns', 'Publish', { Message: 'hello' }, '444455556666');
    expect(out).toEqual({ MessageId: 'msg-00000000000000002', $metadata: { requestId: 'req-00000001', httpStatusCode: 200 } });
    expect(world.calls).toEqual([{ service: 'sns', command: 'Publish', input: { Message: 'hello' }, account: '444455556666', at: Date.parse('2026-03-02T09:15:00.000Z') }]);
  });

  it('gives a modelled AWS error the request id, with HTTP 400', async () => {
    const world = account();
    const err = await rejectionOf(world.dispatch('iam', 'GetRole', { RoleName: 'nobody' }, MEMBER));
    expect(err.name).toBe('NoSuchEntityException');
    expect((err as { $metadata?: unknown }).$metadata).toEqual({ requestId: 'req-00000001', httpStatusCode: 400 });
  });

  it('throws injected failures in order, then handles the command again', async () => {
    const world = account();
    world.failNext('Publish', 'Throttling', 2, 'Rate exceeded');
    for (let i = 0; i < 2; i++) {
      const err = await rejectionOf(send(world, 'sns', 'Publish', { Message: 'x' }));
      expect([err.name, err.message]).toEqual(['Throttling', 'Rate exceeded']);
    }
    await expect(send(world, 'sns', 'Publish', { Message: 'x' })).resolves.toEqual({ MessageId: 'msg-00000000000000004' });
    expect(world.messages).toHaveLength(1);
    expect(world.callsOf('Publish')).toHaveLength(3);
  });

  it('throws a conditional failure only on the calls whose input matches', async () => {
    const world = account();
    world.failWhen('Publish', (input) => input.Subject === 'boom', 'InternalError');
    await expect(send(world, 'sns', 'Publish', { Message: 'x', Subject: 'fine' })).resolves.toHaveProperty('MessageId');
    const err = await rejectionOf(send(world, 'sns', 'Publish', { Message: 'x', Subject: 'boom' }));
    expect([err.name, err.message]).toEqual(['InternalError', 'InternalError (injected)']);
    await expect(send(world, 'sns', 'Publish', { Message: 'x', Subject: 'boom' })).resolves.toHaveProperty('MessageId');
    expect(world.indexOf('Publish', (i) => i.Subject === 'boom')).toBe(1);
  });

  it('hands out ids from one counter per account: the same run makes the same ids', () => {
    const a = account();
    const b = account();
    for (const world of [a, b]) {
      world.addVpc('vpc-1', true);
      world.addGroup('vpc-1', 'web');
    }
    // The group, then its IPv4 and IPv6 allow-all egress rules.
    expect([...a.groups.values()].map((g) => [g.id, ...g.rules.map((r) => r.id)])).toEqual([['sg-00000000000000001', 'sgr-00000000000000002', 'sgr-00000000000000003']]);
    expect([...b.groups.keys()]).toEqual([...a.groups.keys()]);
  });
});
