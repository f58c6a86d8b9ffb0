/**
 * The test `ClientFactory` (unit and workflow tests alike): plain SDK clients in the
 * target's region with static fake credentials, so that `mockClient(EC2Client)` and
 * FakeAws intercept every call; journaled like production's. No STS, no network.
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

export const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAFAKEFORUNITTESTS',
  secretAccessKey: 'fake-secret-for-unit-tests',
  sessionToken: 'fake-session-token',
} as const;

export const HUB_REGION = 'us-east-1';

export interface TestClientFactory extends ClientFactory {
  /** Every `forTarget` call, in order: which account/region and session name the logic asked for. */
  readonly targetCalls: Array<{ target: Target; sessionName: string }>;
}

export function testClientFactory(): TestClientFactory {
  const targetCalls: TestClientFactory['targetCalls'] = [];
  let hubClients: HubClients | undefined;
  return {
    targetCalls,
    hub: () => {
      hubClients ??= {
        s3: journaled(new S3Client({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }), 's3'),
        ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }), {
          marshallOptions: { removeUndefinedValues: true },
        }),
        sns: journaled(new SNSClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }), 'sns'),
        sfn: new SFNClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }),
      };
      return hubClients;
    },
    forTarget: async (target: Target, sessionName: string): Promise<TargetClients> => {
      targetCalls.push({ target, sessionName });
      // The account id rides on the credentials, so the multi-account FakeAws can tell whose call it is.
      const config = { region: target.region, credentials: { ...FAKE_CREDENTIALS, accountId: target.accountId } };
      return {
        ec2: journaled(new EC2Client(config), 'ec2'),
        iam: journaled(new IAMClient(config), 'iam'),
        autoScaling: journaled(new AutoScalingClient(config), 'autoscaling'),
        elb: journaled(new ElasticLoadBalancingV2Client(config), 'elasticloadbalancing'),
      };
    },
  };
}

/** An error shaped like an AWS SDK v3 service exception (name, $fault, $metadata). */
export function awsError(
  name: string,
  options: { message?: string; fault?: 'client' | 'server'; status?: number } = {},
): Error {
  const fault = options.fault ?? 'client';
  const status = options.status ?? (fault === 'server' ? 500 : 400);
  return Object.assign(new Error(options.message ?? `${name} (test)`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status, requestId: 'test-request-id', attempts: 1, totalRetryDelay: 0 },
  });
}

/** Await a promise expected to reject and hand back the error, so tests can assert on its class and fields. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
