/**
 * A ClientFactory for tests: plain SDK clients with static fake credentials,
 * which aws-sdk-client-mock (or FakeAws) intercepts. Nothing reaches AWS.
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
import type { ClientFactory } from '../../lambdas/shared/clients';
import { journaled } from '../../lambdas/shared/journal';
import type { Target } from '../../lambdas/shared/schemas';

const credentials = { accessKeyId: 'AKIATESTONLY', secretAccessKey: 'test-only' };

export function testClientFactory(hubRegion = 'us-east-1'): ClientFactory & { targets: Array<{ target: Target; sessionName: string }> } {
  const targets: Array<{ target: Target; sessionName: string }> = [];
  const config = { region: hubRegion, credentials, maxAttempts: 1 };
  return {
    targets,
    hub: () => ({
      s3: journaled(new S3Client(config), 's3'),
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } }),
      sns: journaled(new SNSClient(config), 'sns'),
      sfn: new SFNClient(config),
    }),
    forTarget: async (target, sessionName) => {
      targets.push({ target, sessionName });
      // The account id rides on the credentials, so a multi-account fake can tell whose call it is.
      const c = { region: target.region, credentials: { ...credentials, accountId: target.accountId }, maxAttempts: 1 };
      return {
        ec2: journaled(new EC2Client(c), 'ec2'),
        iam: journaled(new IAMClient(c), 'iam'),
        autoScaling: journaled(new AutoScalingClient(c), 'autoscaling'),
        elb: journaled(new ElasticLoadBalancingV2Client(c), 'elasticloadbalancing'),
      };
    },
  };
}
