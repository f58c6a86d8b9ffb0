/**
 * The simulated account (lib/simulator/account.ts) wired into every SDK client
 * through aws-sdk-client-mock, so handlers that build their own clients (the
 * test client factory, production factories) reach the model unchanged.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { SimAccount } from '../../lib/simulator/account';
import { ACCOUNT, addFixtureInstance, REGION, type FixtureOptions } from '../../lib/simulator/scenario';

export type { Call, FakeEni, FakeGroup, FakeInstance, FakeRule, FakeSnapshot } from '../../lib/simulator/account';

const CLIENTS: Array<[string, unknown]> = [
  ['ec2', EC2Client],
  ['elasticloadbalancing', ElasticLoadBalancingV2Client],
  ['iam', IAMClient],
  ['autoscaling', AutoScalingClient],
  ['dynamodb', DynamoDBDocumentClient],
  ['s3', S3Client],
  ['sns', SNSClient],
  ['states', SFNClient],
];

type Credentials = () => Promise<{ accountId?: string }>;

export class FakeAws extends SimAccount {
  private stubs: Array<{ restore(): void }> = [];

  install(): this {
    for (const [service, client] of CLIENTS) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const stub = mockClient(client as never) as any;
      stub.callsFake(async (input: Record<string, unknown>, getClient: () => { config: { credentials: Credentials } }) => {
        const command = stub.send.lastCall?.args?.[0]?.constructor?.name?.replace(/Command$/, '') ?? '';
        const creds = await getClient().config.credentials();
        return this.dispatch(service, command, input, creds.accountId ?? this.accountId);
      });
      this.stubs.push(stub);
    }
    return this;
  }

  restore(): void {
    for (const s of this.stubs) s.restore();
    this.stubs = [];
  }
}

/** The installed account holding the fixture instance (lib/simulator/scenario.ts), and its app security group. */
export interface WebInstance {
  fake: FakeAws;
  appSg: string;
}

/** The fixture instance, in `options.fake` or in a new FakeAws installed behind every SDK client (restore it after). */
export function webInstance(options: FixtureOptions & { fake?: FakeAws } = {}): WebInstance {
  const fake = options.fake ?? new FakeAws(ACCOUNT, REGION).install();
  const { appSg } = addFixtureInstance(fake, options);
  return { fake, appSg };
}
