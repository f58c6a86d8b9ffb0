/**
 * A ClientFactory for tests: plain SDK clients with static fake credentials,
 * which aws-sdk-client-mock (or FakeAws) intercepts. Nothing reaches AWS.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClientFactory } from '../../lambdas/shared/clients';
import type { Target } from '../../lambdas/shared/schemas';

const credentials = { accessKeyId: 'AKIATESTONLY', secretAccessKey: 'test-only' };

export function testClientFactory(hubRegion = 'us-east-1'): ClientFactory & { targets: Array<{ target: Target; sessionName: string }> } {
  const targets: Array<{ target: Target; sessionName: string }> = [];
  const config = { region: hubRegion, credentials, maxAttempts: 1 };
  return {
    targets,
    hub: () => ({
      s3: new S3Client(config),
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } }),
      sns: new SNSClient(config),
      sfn: new SFNClient(config),
    }),
    forTarget: async (target, sessionName) => {
      targets.push({ target, sessionName });
      const c = { region: target.region, credentials, maxAttempts: 1 };
      return { ec2: new EC2Client(c), iam: new IAMClient(c), autoScaling: new AutoScalingClient(c) };
    },
  };
}
