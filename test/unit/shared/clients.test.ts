import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createClientFactory, sessionName } from '../../../lambdas/shared/clients';
import { AssumeRoleError, TransientAwsError } from '../../../lambdas/shared/errors';
import type { Target } from '../../../lambdas/shared/schemas';
import { awsError, rejectionOf } from '../../support/clients';

const stsMock = mockClient(STSClient);

const TARGET: Target = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const OTHER_ACCOUNT: Target = { ...TARGET, accountId: '444455556666' };
const OTHER_REGION: Target = { ...TARGET, region: 'us-west-2' };

function credentials(suffix: string, expiresInMs = 15 * 60_000) {
  return {
    Credentials: {
      AccessKeyId: `ASIA${suffix}`,
      SecretAccessKey: `secret-${suffix}`,
      SessionToken: `token-${suffix}`,
      Expiration: new Date(Date.now() + expiresInMs),
    },
  };
}

const CLIENTS = {
  EC2Client,
  IAMClient,
  AutoScalingClient,
  ElasticLoadBalancingV2Client,
  S3Client,
  SNSClient,
  SFNClient,
  DynamoDBClient,
  DynamoDBDocumentClient,
};

function factory() {
  return createClientFactory({ clients: CLIENTS, partition: 'aws', responderRoleName: 'CordonResponder' });
}

beforeEach(() => {
  stsMock.reset();
});

describe('createClientFactory().forTarget', () => {
  it('assumes CordonResponder in the target account with a sanitized session name', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(credentials('ONE'));

    // Act
    await factory().forTarget(TARGET, 'cordon-gd:finding/1 with spaces');

    // Assess
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111122223333:role/CordonResponder',
      RoleSessionName: 'cordon-gd-finding-1-with-spaces',
      DurationSeconds: 900,
    });
  });

  it('builds target clients in the target region with the assumed credentials', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials('ONE'));

    const clients = await factory().forTarget(TARGET, 'cordon-req-1');

    expect(await clients.ec2.config.region()).toBe('eu-west-1');
    expect(await clients.iam.config.region()).toBe('eu-west-1');
    expect(await clients.autoScaling.config.region()).toBe('eu-west-1');
    const creds = await clients.ec2.config.credentials();
    expect(creds).toMatchObject({ accessKeyId: 'ASIAONE', secretAccessKey: 'secret-ONE', sessionToken: 'token-ONE' });
  });

  it('caches credentials per account, region and session: one session per request', async () => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .resolvesOnce(credentials('ONE'))
      .resolvesOnce(credentials('TWO'))
      .resolvesOnce(credentials('THREE'))
      .resolvesOnce(credentials('FOUR'));
    const f = factory();

    // Act
    const first = await f.forTarget(TARGET, 'cordon-req-1');
    const again = await f.forTarget(TARGET, 'cordon-req-1');
    const otherRequest = await f.forTarget(TARGET, 'cordon-req-2');
    const otherAccount = await f.forTarget(OTHER_ACCOUNT, 'cordon-req-1');
    const otherRegion = await f.forTarget(OTHER_REGION, 'cordon-req-1');

    // Assess: one AssumeRole per (account, region, session), in that order; request 2 never runs on request 1's session
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 4);
    expect(stsMock).toHaveReceivedNthCommandWith(1, AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111122223333:role/CordonResponder',
      RoleSessionName: 'cordon-req-1',
    });
    expect(stsMock).toHaveReceivedNthCommandWith(2, AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111122223333:role/CordonResponder',
      RoleSessionName: 'cordon-req-2',
    });
    expect(stsMock).toHaveReceivedNthCommandWith(3, AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::444455556666:role/CordonResponder',
      RoleSessionName: 'cordon-req-1',
    });
    expect(stsMock).toHaveReceivedNthCommandWith(4, AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111122223333:role/CordonResponder',
      RoleSessionName: 'cordon-req-1',
    });
    expect((await first.ec2.config.credentials()).accessKeyId).toBe('ASIAONE');
    expect((await again.ec2.config.credentials()).accessKeyId).toBe('ASIAONE');
    expect((await otherRequest.ec2.config.credentials()).accessKeyId).toBe('ASIATWO');
    expect((await otherAccount.ec2.config.credentials()).accessKeyId).toBe('ASIATHREE');
    expect((await otherRegion.ec2.config.credentials()).accessKeyId).toBe('ASIAFOUR');
    expect(await otherRegion.ec2.config.region()).toBe('us-west-2');
  });

  it('re-assumes when the cached credentials expire within five minutes', async () => {
    stsMock
      .on(AssumeRoleCommand)
      .resolvesOnce(credentials('SHORT', 2 * 60_000))
      .resolvesOnce(credentials('FRESH'));
    const f = factory();

    await f.forTarget(TARGET, 'cordon-req-1');
    const second = await f.forTarget(TARGET, 'cordon-req-1');

    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect((await second.ec2.config.credentials()).accessKeyId).toBe('ASIAFRESH');
  });

  it('turns AccessDenied into AssumeRoleError naming the role', async () => {
    stsMock.on(AssumeRoleCommand).rejects(awsError('AccessDenied', { status: 403, message: 'not authorized to perform sts:AssumeRole' }));

    const err = await rejectionOf(factory().forTarget(TARGET, 'cordon-req-1'));

    expect(err).toBeInstanceOf(AssumeRoleError);
    expect(err.name).toBe('AssumeRoleError');
    expect(err.message).toContain('arn:aws:iam::111122223333:role/CordonResponder');
    expect(err.message).toContain('AccessDenied');
  });

  it('turns STS throttling into TransientAwsError (retried by Step Functions)', async () => {
    stsMock.on(AssumeRoleCommand).rejects(awsError('Throttling', { message: 'Rate exceeded' }));

    const err = await rejectionOf(factory().forTarget(TARGET, 'cordon-req-1'));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.name).toBe('TransientAwsError');
  });

  it('turns a response without credentials into AssumeRoleError and caches nothing', async () => {
    stsMock.on(AssumeRoleCommand).resolvesOnce({}).resolvesOnce(credentials('LATER'));
    const f = factory();

    const err = await rejectionOf(f.forTarget(TARGET, 'cordon-req-1'));
    const later = await f.forTarget(TARGET, 'cordon-req-1');

    expect(err).toBeInstanceOf(AssumeRoleError);
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect((await later.ec2.config.credentials()).accessKeyId).toBe('ASIALATER');
  });

  it('uses the configured partition in the role ARN', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials('GOV'));
    const gov = createClientFactory({ clients: CLIENTS, partition: 'aws-us-gov', responderRoleName: 'CordonResponder' });

    await gov.forTarget({ ...TARGET, region: 'us-gov-west-1' }, 'cordon-req-1');

    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws-us-gov:iam::111122223333:role/CordonResponder',
    });
  });
});

describe('createClientFactory().hub', () => {
  it('makes the hub clients once and never calls STS', () => {
    const f = factory();

    const a = f.hub();
    const b = f.hub();

    expect(a).toBe(b);
    expect(stsMock).not.toHaveReceivedAnyCommand();
  });
});

describe('createClientFactory: only the client classes a Lambda names', () => {
  it('makes clients lazily, once each, with the assumed credentials and the target region', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials('LAZY'));
    const clients = await factory().forTarget(TARGET, 'cordon-req-1');

    const ec2 = clients.ec2;

    expect(ec2).toBeInstanceOf(EC2Client);
    expect(clients.ec2).toBe(ec2);
    expect(await ec2.config.region()).toBe('eu-west-1');
    expect((await ec2.config.credentials()).accessKeyId).toBe('ASIALAZY');
  });

  it('fails loudly when a Lambda asks for a client it was not built with', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials('NONE'));
    const isolateOnly = createClientFactory({ clients: { EC2Client }, partition: 'aws', responderRoleName: 'CordonResponder' });
    const clients = await isolateOnly.forTarget(TARGET, 'cordon-req-1');

    expect(clients.ec2).toBeInstanceOf(EC2Client);
    expect(() => clients.autoScaling).toThrow(/built without AutoScalingClient/);
    expect(() => isolateOnly.hub().sns).toThrow(/built without SNSClient/);
  });
});

describe('sessionName', () => {
  it('replaces characters IAM does not allow and keeps the allowed ones', () => {
    expect(sessionName('cordon-a:b/c d')).toBe('cordon-a-b-c-d');
    expect(sessionName('ok_+=,.@-name')).toBe('ok_+=,.@-name');
  });

  it('caps the name at 64 characters', () => {
    const name = sessionName(`cordon-${'x'.repeat(100)}`);

    expect(name).toHaveLength(64);
  });

  it('pads a name shorter than 2 characters', () => {
    expect(sessionName('a')).toBe('cordon-a');
    expect(sessionName('')).toBe('cordon-');
  });
});
