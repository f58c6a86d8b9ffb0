/** EC2 token-bucket throttling (lib/simulator/throttle.ts) and the simulated network that applies it. */
import { ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { simSend } from '../../../lib/simulator/clients';
import { SimClock } from '../../../lib/simulator/clock';
import { BUCKETS, bucketFor, TokenBuckets, tokenBucketLowerBoundSeconds } from '../../../lib/simulator/throttle';
import { rejectionOf } from '../../support/clients';
import { account, MEMBER } from './support';

describe('bucketFor', () => {
  it('sorts actions into the published families', () => {
    expect(bucketFor('ModifyNetworkInterfaceAttribute', {})).toBe(BUCKETS.containment);
    expect(bucketFor('CopySnapshot', {})).toBe(BUCKETS.mutating);
    expect(bucketFor('DescribeInstances', { InstanceIds: ['i-1'] })).toBe(BUCKETS.describe);
    expect(bucketFor('DescribeInstances', {})).toBe(BUCKETS.unfiltered);
    expect(bucketFor('DescribeInstances', { Filters: undefined })).toBe(BUCKETS.unfiltered);
  });
});

describe('TokenBuckets', () => {
  it('admits a full bucket, refuses the next request, and refills at the family rate', () => {
    const b = new TokenBuckets();
    const take = (at: number, account = MEMBER) => b.take(account, 'us-east-1', 'ModifyNetworkInterfaceAttribute', {}, at);
    for (let i = 0; i < 100; i++) expect(take(0)).toBe(true);
    expect(take(0)).toBe(false);
    expect(take(100)).toBe(false); // 0.5 token after 100 ms at 5/s
    expect(take(200)).toBe(true); // 1 token after 200 ms
    expect(take(200)).toBe(false);
    // Another account has its own bucket.
    expect(take(200, '444455556666')).toBe(true);
    expect(b.stats.admitted.get('ModifyNetworkInterfaceAttribute')).toBe(102);
    expect(b.stats.throttled.get('ModifyNetworkInterfaceAttribute')).toBe(3);
  });

  it('keeps one bucket per action: exhausting one leaves another untouched', () => {
    const b = new TokenBuckets();
    for (let i = 0; i < 50; i++) b.take(MEMBER, 'us-east-1', 'CopySnapshot', {}, 0);
    expect(b.take(MEMBER, 'us-east-1', 'CopySnapshot', {}, 0)).toBe(false);
    expect(b.take(MEMBER, 'us-east-1', 'CreateTags', {}, 0)).toBe(true);
  });

  it('bounds the time a burst needs: (requests − bucket) / refill, the slowest action', () => {
    const demand = new Map([
      ['ModifyNetworkInterfaceAttribute', { count: 600, spec: BUCKETS.containment }],
      ['CopySnapshot', { count: 60, spec: BUCKETS.mutating }],
    ]);
    expect(tokenBucketLowerBoundSeconds(demand)).toEqual({ seconds: 100, action: 'ModifyNetworkInterfaceAttribute' });
  });
});

describe('simSend', () => {
  it('retries a throttled call as the SDK would, then surfaces RequestLimitExceeded with the attempts it took', async () => {
    const world = account();
    world.addVpc('vpc-1');
    world.addInstance({ id: 'i-1', enis: [{ id: 'eni-a', vpcId: 'vpc-1', subnetId: 's', groups: [], ipv6: [], privateIp: '10.0.0.1' }] });
    const clock = new SimClock(new Date(0));
    world.now = () => clock.now();
    const buckets = new TokenBuckets();
    for (let i = 0; i < 100; i++) buckets.take(MEMBER, 'us-east-1', 'ModifyNetworkInterfaceAttribute', {}, 0);
    const attempts: string[] = [];
    const send = simSend(
      world,
      { clock, latencyMs: 0, buckets, random: () => 0, sdkMaxAttempts: 3, onAttempt: (a) => attempts.push(a.error ?? 'ok') },
      'ec2',
      MEMBER,
      'us-east-1',
      'isolate',
    );
    const command = new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-a', Groups: [] });
    const err = await rejectionOf(clock.run(send(command as never)));
    expect(err.name).toBe('RequestLimitExceeded');
    expect((err as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(3);
    expect(attempts).toEqual(['RequestLimitExceeded', 'RequestLimitExceeded', 'RequestLimitExceeded']);
    expect(world.calls).toEqual([]); // refused at the door: the model never saw it
    // A second later, the bucket holds 5 tokens: the call goes through.
    await clock.run(clock.sleep(1_000));
    await expect(clock.run(send(command as never))).resolves.toMatchObject({ $metadata: { attempts: 1, httpStatusCode: 200 } });
    expect(world.enis.get('eni-a')?.groups).toEqual([]);
  });
});
