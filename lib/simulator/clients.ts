/**
 * The simulation's `ClientFactory` (docs/design.md §6): real SDK v3 client objects
 * whose `send` reaches the simulated account instead of the network. Every call
 * takes the configured latency on the simulated clock, EC2 calls draw from the
 * throttling token buckets, and the SDK's own retry of throttling and 5xx
 * errors (standard mode: exponential backoff with full jitter) is reproduced,
 * so what surfaces to a handler is what production would see.
 *
 * Each Lambda gets its own factory, as each function has its own containers:
 * it assumes `CordonResponder` once per target account, like a warm container.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClientFactory, HubClients, TargetClients } from '../../lambdas/shared/clients';
import { journaled } from '../../lambdas/shared/journal';
import type { Target } from '../../lambdas/shared/schemas';
import type { SimAccount } from './account';
import type { SimClock } from './clock';
import type { TokenBuckets } from './throttle';

export interface SimNetwork {
  readonly clock: SimClock;
  /** Round-trip latency of every AWS call, in simulated ms. */
  readonly latencyMs: number;
  /** EC2 throttling; none when undefined. */
  readonly buckets?: TokenBuckets;
  /** Jitter source (seeded: runs are reproducible). */
  readonly random: () => number;
  /** SDK attempts per call (production clients use 3). */
  readonly sdkMaxAttempts: number;
  /** Called for every attempt the network carries (the bench counts them). */
  readonly onAttempt?: (attempt: SimAttempt) => void;
}

export interface SimAttempt {
  readonly service: string;
  readonly command: string;
  readonly account: string;
  readonly lambda: string;
  readonly start: number;
  readonly end: number;
  readonly error?: string;
}

const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'SlowDown']);
const FAKE_SECRET = { accessKeyId: 'ASIASIMULATEDACCESS', secretAccessKey: 'simulated', sessionToken: 'simulated' };

type Send = (command: { input: Record<string, unknown>; constructor: { name: string } }) => Promise<unknown>;

/** How the SDK's standard retry mode would retry `err` (throttling and 5xx only), or false. */
function retryDelayMs(err: Error & { $metadata?: { httpStatusCode?: number } }, attempt: number, random: () => number): number | false {
  const throttled = THROTTLING.has(err.name);
  const server = (err.$metadata?.httpStatusCode ?? 0) >= 500;
  if (!throttled && !server) return false;
  const base = throttled ? 500 : 100;
  return Math.floor(random() * Math.min(20_000, base * 2 ** attempt));
}

export function simSend(world: SimAccount, net: SimNetwork, service: string, caller: string, region: string, lambda: string): Send {
  return async (command) => {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    for (let attempt = 0; ; attempt++) {
      const start = net.clock.millis();
      // Half the round trip to reach the service, where the request is admitted and applied.
      await net.clock.sleep(net.latencyMs / 2);
      let result: Record<string, unknown> | undefined;
      let error: (Error & { $metadata?: { httpStatusCode?: number } }) | undefined;
      if (region !== world.region) {
        error = Object.assign(new Error(`simulated account has no region ${region}`), { name: 'UnrecognizedClientException' });
      } else if (service === 'ec2' && net.buckets && !net.buckets.take(caller, region, name, input, net.clock.millis())) {
        error = Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded', $fault: 'client', $metadata: { httpStatusCode: 503 } });
      } else {
        try {
          result = await world.dispatch(service, name, input, caller);
        } catch (err) {
          error = err as Error;
        }
      }
      await net.clock.sleep(net.latencyMs / 2);
      net.onAttempt?.({ service, command: name, account: caller, lambda, start, end: net.clock.millis(), ...(error ? { error: error.name } : {}) });
      // As the SDK's retry middleware does: how many attempts the call took.
      if (!error) return { ...result, $metadata: { ...((result?.$metadata as object | undefined) ?? {}), attempts: attempt + 1 } };
      const delay = attempt + 1 < net.sdkMaxAttempts ? retryDelayMs(error, attempt, net.random) : false;
      if (delay === false) {
        Object.assign(error, { $metadata: { ...(error.$metadata ?? {}), attempts: attempt + 1 } });
        throw error;
      }
      await net.clock.sleep(delay);
    }
  };
}

function simClient<T extends object>(client: T, send: Send): T {
  (client as unknown as { send: Send }).send = send;
  return client;
}

export interface SimFactoryOptions {
  readonly world: SimAccount;
  readonly net: SimNetwork;
  readonly hubAccountId: string;
  /** The Lambda this factory serves (attempts are attributed to it). */
  readonly lambda: string;
  /** Accounts where `CordonResponder` is deployed (AssumeRole into any other is denied). */
  readonly memberAccounts: readonly string[];
}

export function simClientFactory(o: SimFactoryOptions): ClientFactory {
  const { world, net, lambda } = o;
  const region = world.region;
  const config = (account: string) => ({ region, credentials: { ...FAKE_SECRET, accountId: account }, maxAttempts: 1 });
  let hubClients: HubClients | undefined;
  const assumed = new Set<string>();
  // A warm container keeps its clients; building SDK clients is the costliest part of a simulated call.
  const targetClients = new Map<string, TargetClients>();
  const sts = async (target: Target) => {
    if (assumed.has(target.accountId)) return;
    // One AssumeRole per target account for the function's warm container.
    await net.clock.sleep(net.latencyMs);
    net.onAttempt?.({ service: 'sts', command: 'AssumeRole', account: o.hubAccountId, lambda, start: net.clock.millis() - net.latencyMs, end: net.clock.millis() });
    if (!o.memberAccounts.includes(target.accountId)) {
      throw Object.assign(new Error(`User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${target.accountId}:role/CordonResponder`), {
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      });
    }
    assumed.add(target.accountId);
  };
  return {
    hub: () => {
      const hub = o.hubAccountId;
      hubClients ??= {
        s3: journaled(simClient(new S3Client(config(hub)), simSend(world, net, 's3', hub, region, lambda)), 's3'),
        ddb: simClient(
          DynamoDBDocumentClient.from(new DynamoDBClient(config(hub)), { marshallOptions: { removeUndefinedValues: true } }),
          simSend(world, net, 'dynamodb', hub, region, lambda),
        ),
        sns: journaled(simClient(new SNSClient(config(hub)), simSend(world, net, 'sns', hub, region, lambda)), 'sns'),
        sfn: journaled(simClient(new SFNClient(config(hub)), simSend(world, net, 'states', hub, region, lambda)), 'states'),
      };
      return hubClients;
    },
    forTarget: async (target: Target): Promise<TargetClients> => {
      await sts(target);
      const account = target.accountId;
      const cached = targetClients.get(`${account}/${target.region}`);
      if (cached) return cached;
      const c = config(account);
      const made: TargetClients = {
        ec2: journaled(simClient(new EC2Client({ ...c, region: target.region }), simSend(world, net, 'ec2', account, target.region, lambda)), 'ec2'),
        iam: journaled(simClient(new IAMClient(c), simSend(world, net, 'iam', account, target.region, lambda)), 'iam'),
        autoScaling: journaled(
          simClient(new AutoScalingClient({ ...c, region: target.region }), simSend(world, net, 'autoscaling', account, target.region, lambda)),
          'autoscaling',
        ),
        elb: journaled(
          simClient(new ElasticLoadBalancingV2Client({ ...c, region: target.region }), simSend(world, net, 'elasticloadbalancing', account, target.region, lambda)),
          'elasticloadbalancing',
        ),
      };
      targetClients.set(`${account}/${target.region}`, made);
      return made;
    },
  };
}
