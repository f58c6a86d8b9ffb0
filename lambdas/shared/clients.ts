/**
 * The one client factory (docs/design.md §6 and §11.3, "Inject SDK clients").
 * Handlers get every SDK client from here; the logic receives them as arguments.
 * Tests and the simulator hand in their own factory.
 */
// Types only: each handler passes the client classes it uses (ClientClasses), so esbuild bundles
// those and no others. A Lambda that bundled every SDK client was 2.7 MB minified.
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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

/** The SDK client classes a Lambda uses. Asking for a client whose class wasn't given is an error. */
export interface ClientClasses {
  readonly EC2Client?: typeof EC2Client;
  readonly IAMClient?: typeof IAMClient;
  readonly AutoScalingClient?: typeof AutoScalingClient;
  readonly ElasticLoadBalancingV2Client?: typeof ElasticLoadBalancingV2Client;
  readonly S3Client?: typeof S3Client;
  readonly SNSClient?: typeof SNSClient;
  readonly SFNClient?: typeof SFNClient;
  readonly DynamoDBClient?: typeof DynamoDBClient;
  readonly DynamoDBDocumentClient?: typeof DynamoDBDocumentClient;
}

export interface ClientFactoryOptions {
  /** The client classes this Lambda uses (see ClientClasses). */
  readonly clients: ClientClasses;
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

  const need = <K extends keyof ClientClasses>(name: K): NonNullable<ClientClasses[K]> => {
    const cls = options.clients[name];
    if (!cls) throw new Error(`this Lambda was built without ${name}: add it to the clients its handler passes to the factory`);
    return cls as NonNullable<ClientClasses[K]>;
  };
  /** Make each client on first use, once. */
  const lazy = <T extends object>(makers: { [K in keyof T]: () => T[K] }): T => {
    const made: Partial<T> = {};
    const out = {} as T;
    for (const key of Object.keys(makers) as Array<keyof T>) {
      Object.defineProperty(out, key, {
        enumerable: true,
        get: () => (made[key] ??= makers[key]()),
      });
    }
    return out;
  };

  const hub = (): HubClients => {
    hubClients ??= lazy<HubClients>({
      s3: () => wrap(new (need('S3Client'))({ maxAttempts }), 's3'),
      ddb: () =>
        need('DynamoDBDocumentClient').from(instrument(new (need('DynamoDBClient'))({ maxAttempts })), {
          marshallOptions: { removeUndefinedValues: true },
        }),
      sns: () => wrap(new (need('SNSClient'))({ maxAttempts }), 'sns'),
      sfn: () => wrap(new (need('SFNClient'))({ maxAttempts }), 'states'),
    });
    return hubClients;
  };

  /** Refresh five minutes before expiry so a long task never runs on dying credentials. */
  const fresh = (c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity =>
    c?.expiration !== undefined && c.expiration.getTime() - Date.now() > 5 * 60_000;

  const credentialsFor = async (target: Target, name: string): Promise<AwsCredentialIdentity> => {
    // One session per request (the session name is `cordon-<requestId>`): CloudTrail attributes every call in a
    // member account to the request that made it, never to an earlier request served by the same warm Lambda.
    const session = sessionName(name);
    const key = `${target.accountId}/${target.region}/${session}`;
    const cached = credentialCache.get(key);
    if (fresh(cached)) return cached;
    const roleArn = responderRoleArn(options.partition, target.accountId, options.responderRoleName);
    const sts = wrap(new STSClient({ region: target.region, maxAttempts }), 'sts');
    try {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session, DurationSeconds: SESSION_SECONDS }),
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
      // Sessions of finished requests are dropped once they would no longer be used anyway.
      for (const [k, c] of credentialCache) if (!fresh(c)) credentialCache.delete(k);
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
    return lazy<TargetClients>({
      ec2: () => wrap(new (need('EC2Client'))(config), 'ec2'),
      iam: () => wrap(new (need('IAMClient'))(config), 'iam'),
      autoScaling: () => wrap(new (need('AutoScalingClient'))(config), 'autoscaling'),
      elb: () => wrap(new (need('ElasticLoadBalancingV2Client'))(config), 'elasticloadbalancing'),
    });
  };

  return { hub, forTarget };
}
