/**
 * The one client factory (DESIGN.md §6, STYLE.md "Inject SDK clients").
 * Handlers get every SDK client from here; the logic receives them as arguments.
 * Tests and the simulator hand in their own factory.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { AssumeRoleError, classify } from './errors';
import { journaled } from './journal';
import type { Target } from './schemas';

/** Clients acting in the target account and region (through `CordonResponder`). */
export interface TargetClients {
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly autoScaling: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
}

/** Clients acting on the hub's own resources, with the Lambda's own role. */
export interface HubClients {
  readonly s3: S3Client;
  readonly ddb: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly sfn: SFNClient;
}

export interface ClientFactory {
  readonly hub: () => HubClients;
  readonly forTarget: (target: Target, sessionName: string) => Promise<TargetClients>;
}

export interface ClientFactoryOptions {
  readonly partition: string;
  readonly responderRoleName: string;
  /** SDK retry attempts before the error surfaces to Step Functions' own Retry. */
  readonly maxAttempts?: number;
  /** Instrument each client (Powertools Tracer's captureAWSv3Client in Lambda). */
  readonly instrument?: <T>(client: T) => T;
}

const SESSION_SECONDS = 900;

/** Role session names allow `[\w+=,.@-]`, 2–64 characters. */
export function sessionName(raw: string): string {
  const cleaned = raw.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `cordon-${cleaned}`;
}

export function responderRoleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/**
 * Production factory. Every target-account action goes through `CordonResponder`,
 * in single-account mode too: the hub Lambdas' own roles hold no EC2 or IAM write
 * permissions, so one role per account carries them (see docs/iam.md).
 */
export function createClientFactory(options: ClientFactoryOptions): ClientFactory {
  const maxAttempts = options.maxAttempts ?? 3;
  const instrument = options.instrument ?? (<T>(client: T) => client);
  const wrap = <T>(client: T, service: string): T => journaled(instrument(client), service);
  let hubClients: HubClients | undefined;
  const credentialCache = new Map<string, AwsCredentialIdentity>();

  const hub = (): HubClients => {
    if (!hubClients) {
      hubClients = {
        s3: wrap(new S3Client({ maxAttempts }), 's3'),
        ddb: DynamoDBDocumentClient.from(instrument(new DynamoDBClient({ maxAttempts })), {
          marshallOptions: { removeUndefinedValues: true },
        }),
        sns: wrap(new SNSClient({ maxAttempts }), 'sns'),
        sfn: wrap(new SFNClient({ maxAttempts }), 'states'),
      };
    }
    return hubClients;
  };

  const credentialsFor = async (target: Target, name: string): Promise<AwsCredentialIdentity> => {
    const key = `${target.accountId}/${target.region}`;
    const cached = credentialCache.get(key);
    // Refresh five minutes before expiry so a long task never runs on dying credentials.
    if (cached?.expiration && cached.expiration.getTime() - Date.now() > 5 * 60_000) return cached;
    const roleArn = responderRoleArn(options.partition, target.accountId, options.responderRoleName);
    const sts = wrap(new STSClient({ region: target.region, maxAttempts }), 'sts');
    try {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName(name), DurationSeconds: SESSION_SECONDS }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
        throw new AssumeRoleError(`AssumeRole ${roleArn} returned no credentials`);
      }
      const creds: AwsCredentialIdentity = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      credentialCache.set(key, creds);
      return creds;
    } catch (err) {
      const classified = classify(err);
      if (classified !== err) throw classified;
      if (err instanceof AssumeRoleError) throw err;
      const e = err as Error;
      throw new AssumeRoleError(`Cannot assume ${roleArn}: ${e.name}: ${e.message}`, { cause: err });
    }
  };

  const forTarget = async (target: Target, name: string): Promise<TargetClients> => {
    const credentials = await credentialsFor(target, name);
    const config = { region: target.region, credentials, maxAttempts };
    return {
      ec2: wrap(new EC2Client(config), 'ec2'),
      iam: wrap(new IAMClient(config), 'iam'),
      autoScaling: wrap(new AutoScalingClient(config), 'autoscaling'),
      elb: wrap(new ElasticLoadBalancingV2Client(config), 'elasticloadbalancing'),
    };
  };

  return { hub, forTarget };
}
