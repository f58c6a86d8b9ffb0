import { DescribeInstancesCommand, DisassociateIamInstanceProfileCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListInstanceProfilesForRoleCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { createHandler } from '../../../lambdas/quarantine-role/handler';
import {
  QuarantinePolicyTooLargeError,
  quarantineRole,
  type QuarantineDeps,
  type QuarantineInput,
  type RevokeSessionsMode,
} from '../../../lambdas/quarantine-role/quarantine-role';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const iamMock = mockClient(IAMClient);
const ec2Mock = mockClient(EC2Client);

const ACCOUNT = '111122223333';
const INSTANCE = 'i-0123456789abcdef0';
const OTHER_INSTANCE = 'i-0fedcba9876543210';
const TARGET = { accountId: ACCOUNT, region: 'eu-west-1', instanceId: INSTANCE };
const INSTANCE_ARN = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${INSTANCE}`;
const EARLIER_ARN = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-00000000000000001`;
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;
const ASSOCIATION = 'iip-assoc-0123456789abcdef0';
const ROLE = 'web-role';
const NOW = new Date('2025-06-01T12:00:00.000Z');

const input = (profile: QuarantineInput['profile'] = { associationId: ASSOCIATION, arn: PROFILE_ARN }): QuarantineInput => ({
  target: TARGET,
  incidentId: `inc-${ACCOUNT}-eu-west-1-${INSTANCE}`,
  requestId: 'req-1',
  instanceArn: INSTANCE_ARN,
  profile,
});

interface Statement {
  Sid?: string;
  Effect: string;
  Action: unknown;
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function putPolicy(): { Version: string; Statement: Statement[] } {
  const calls = iamMock.commandCalls(PutRolePolicyCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0]?.args[0].input.PolicyDocument ?? 'null') as { Version: string; Statement: Statement[] };
}

const tokenIssueTimeStatements = (doc: { Statement: Statement[] }) =>
  doc.Statement.filter((s) => s.Condition?.DateLessThan?.['aws:TokenIssueTime'] !== undefined);

function roleTrusting(principal: unknown, lastUsedRegion?: string) {
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] };
  return {
    Role: {
      Path: '/',
      RoleName: ROLE,
      RoleId: 'AROAEXAMPLE',
      Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
      CreateDate: new Date('2024-01-01T00:00:00Z'),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
      ...(lastUsedRegion ? { RoleLastUsed: { Region: lastUsedRegion } } : {}),
    },
  };
}

function iamHasRole(): void {
  iamMock.on(GetInstanceProfileCommand).resolves({
    InstanceProfile: {
      Path: '/',
      InstanceProfileName: 'web-profile',
      InstanceProfileId: 'AIPAEXAMPLE',
      Arn: PROFILE_ARN,
      CreateDate: new Date('2024-01-01T00:00:00Z'),
      Roles: [{ Path: '/', RoleName: ROLE, RoleId: 'AROAEXAMPLE', Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, CreateDate: new Date('2024-01-01T00:00:00Z') }],
    },
  });
  iamMock.on(GetRoleCommand).resolves(roleTrusting({ Service: 'ec2.amazonaws.com' }, 'eu-west-1'));
  // Stateful: GetRolePolicy returns what the last PutRolePolicy wrote (the read-back confirms the deny).
  iamMock.on(GetRolePolicyCommand).callsFake(async () => {
    if (storedPolicy === undefined) throw awsError('NoSuchEntityException', { status: 404 });
    return { RoleName: ROLE, PolicyName: 'cordon-quarantine', PolicyDocument: encodeURIComponent(storedPolicy) };
  });
  iamMock.on(PutRolePolicyCommand).callsFake(async (put: { PolicyDocument: string }) => {
    storedPolicy = put.PolicyDocument;
    return {};
  });
  iamMock.on(ListInstanceProfilesForRoleCommand).resolves({
    InstanceProfiles: [{ Path: '/', InstanceProfileName: 'web-profile', InstanceProfileId: 'AIPAEXAMPLE', Arn: PROFILE_ARN, CreateDate: new Date(), Roles: [] }],
    IsTruncated: false,
  });
  ec2Mock.on(DisassociateIamInstanceProfileCommand).resolves({});
}

function instancesUsingProfile(ids: string[]): void {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: ids.map((InstanceId) => ({ InstanceId })) }] });
}

let storedPolicy: string | undefined;

function existingPolicy(document: unknown): void {
  // Served URL-encoded by the stateful GetRolePolicy mock above, as IAM does.
  storedPolicy = JSON.stringify(document);
}

let factory: TestClientFactory;
const depsWith = (revokeSessions: RevokeSessionsMode, sleep: (ms: number) => Promise<void> = async () => undefined): QuarantineDeps => ({
  factory,
  config: { revokeSessions },
  now: () => NOW,
  sleep,
});

beforeEach(() => {
  iamMock.reset();
  ec2Mock.reset();
  storedPolicy = undefined;
  factory = testClientFactory();
});

describe('quarantineRole "auto": revocation only when nothing else can use the role', () => {
  it('does not revoke sessions of a role that other services may assume', async () => {
    iamHasRole();
    instancesUsingProfile([INSTANCE]);
    iamMock.on(GetRoleCommand).resolves(roleTrusting({ Service: ['ec2.amazonaws.com', 'lambda.amazonaws.com'] }, 'eu-west-1'));

    const result = await quarantineRole(input(), depsWith('auto'));

    expect(result).toMatchObject({ sessionsRevoked: { status: 'skipped', reason: expect.stringContaining('Service:lambda.amazonaws.com') } });
    expect(storedPolicy).not.toContain('aws:TokenIssueTime');
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand);
  });

  it('does not revoke sessions of a role last used in another region (instances this region cannot see)', async () => {
    iamHasRole();
    instancesUsingProfile([INSTANCE]);
    iamMock.on(GetRoleCommand).resolves(roleTrusting({ Service: 'ec2.amazonaws.com' }, 'ap-southeast-2'));

    const result = await quarantineRole(input(), depsWith('auto'));

    expect(result).toMatchObject({ sessionsRevoked: { status: 'skipped', reason: expect.stringContaining('last used in ap-southeast-2') } });
    expect(storedPolicy).not.toContain('aws:TokenIssueTime');
    // The instance's own deny is in place all the same.
    expect(storedPolicy).toContain(`instance/${INSTANCE}`);
  });
});

describe('quarantineRole under a concurrent writer on the same role', () => {
  const NEIGHBOUR_ARN = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0ddddddddddddddd4`;
  const neighbourOnly = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'CordonDenyCompromisedInstances', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'ec2:SourceInstanceARN': [NEIGHBOUR_ARN] } } }],
  });

  it('reads back after writing, and merges again when another quarantine overwrote the policy', async () => {
    iamHasRole();
    instancesUsingProfile([INSTANCE, OTHER_INSTANCE]);
    let raced = false;
    // Another execution writes its own document (without this instance) right after our first write.
    const racer = async () => {
      if (!raced) {
        raced = true;
        storedPolicy = neighbourOnly;
      }
    };

    await quarantineRole(input(), depsWith('auto', racer));

    const arns = JSON.parse(storedPolicy ?? '{}').Statement[0].Condition.StringEquals['ec2:SourceInstanceARN'];
    expect(arns).toEqual([NEIGHBOUR_ARN, `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${INSTANCE}`].sort());
    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 2);
  });

  it('fails with QuarantineNotConfirmedError, never reporting success, when the deny never sticks', async () => {
    iamHasRole();
    instancesUsingProfile([INSTANCE, OTHER_INSTANCE]);
    const alwaysOverwritten = async () => {
      storedPolicy = neighbourOnly;
    };

    const err = await rejectionOf(quarantineRole(input(), depsWith('auto', alwaysOverwritten)));

    expect(err.name).toBe('QuarantineNotConfirmedError');
    expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
  });
});

describe('quarantineRole', () => {
  it('is not-applicable for an instance without a profile, and makes no IAM or EC2 call', async () => {
    const result = await quarantineRole(input(null), depsWith('auto'));

    expect(result).toMatchObject({ action: 'quarantineRole', status: 'not-applicable' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('puts the deny policy BEFORE disassociating the profile', async () => {
    // Prepare
    iamHasRole();
    instancesUsingProfile([INSTANCE, OTHER_INSTANCE]);

    // Act
    const result = await quarantineRole(input(), depsWith('auto'));

    // Assess
    expect(iamMock).toHaveReceivedCommandWith(GetInstanceProfileCommand, { InstanceProfileName: 'web-profile' });
    expect(iamMock).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: ROLE, PolicyName: 'cordon-quarantine' });
    expect(ec2Mock).toHaveReceivedCommandTimes(DisassociateIamInstanceProfileCommand, 1);
    expect(ec2Mock.commandCalls(DisassociateIamInstanceProfileCommand)[0]?.args[0].input).toEqual({ AssociationId: ASSOCIATION });
    const put = iamMock.commandCalls(PutRolePolicyCommand)[0];
    const disassociate = ec2Mock.commandCalls(DisassociateIamInstanceProfileCommand)[0];
    expect(put && disassociate && put.calledBefore(disassociate)).toBe(true);
    expect(result).toMatchObject({
      status: 'succeeded',
      roleName: ROLE,
      policyName: 'cordon-quarantine',
      deniedInstanceArn: INSTANCE_ARN,
      profileDisassociated: 'disassociated',
    });
  });

  it('denies everything from this instance with StringEquals ec2:SourceInstanceARN', async () => {
    iamHasRole();
    instancesUsingProfile([INSTANCE, OTHER_INSTANCE]);

    await quarantineRole(input(), depsWith('auto'));

    const doc = putPolicy();
    expect(doc.Version).toBe('2012-10-17');
    expect(doc.Statement).toEqual([
      {
        Sid: 'CordonDenyCompromisedInstances',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'ec2:SourceInstanceARN': [INSTANCE_ARN] } },
      },
    ]);
  });

  it('merges into an existing cordon policy: both instance ARNs sorted, unrelated statements preserved', async () => {
    // Prepare: an earlier incident already denies another instance; an operator added a note statement
    iamHasRole();
    instancesUsingProfile([INSTANCE, OTHER_INSTANCE]);
    const unrelated = { Sid: 'OperatorDenyS3Delete', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' };
    existingPolicy({
      Version: '2012-10-17',
      Statement: [
        unrelated,
        {
          Sid: 'CordonDenyCompromisedInstances',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'ec2:SourceInstanceARN': EARLIER_ARN } },
        },
      ],
    });

    // Act
    await quarantineRole(input(), depsWith('auto'));

    // Assess
    expect(iamMock).toHaveReceivedCommandWith(GetRolePolicyCommand, { RoleName: ROLE, PolicyName: 'cordon-quarantine' });
    const doc = putPolicy();
    expect(doc.Statement).toContainEqual(unrelated);
    const deny = doc.Statement.filter((s) => s.Sid === 'CordonDenyCompromisedInstances');
    expect(deny).toHaveLength(1);
    expect(deny[0]?.Condition).toEqual({ StringEquals: { 'ec2:SourceInstanceARN': [EARLIER_ARN, INSTANCE_ARN].sort() } });
    expect(doc.Statement).toHaveLength(2);
  });

  it('"auto" with a role shared by another running instance: no session revocation, and says which instance', async () => {
    // Prepare
    iamHasRole();
    instancesUsingProfile([INSTANCE, OTHER_INSTANCE]);

    // Act
    const result = await quarantineRole(input(), depsWith('auto'));

    // Assess
    expect(iamMock).toHaveReceivedCommandWith(ListInstanceProfilesForRoleCommand, { RoleName: ROLE });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'iam-instance-profile.arn', Values: [PROFILE_ARN] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    });
    expect(tokenIssueTimeStatements(putPolicy())).toHaveLength(0);
    expect(result).toMatchObject({ status: 'succeeded', sessionsRevoked: { status: 'skipped' } });
    if (result.status !== 'succeeded' || result.sessionsRevoked.status !== 'skipped') throw new Error('unexpected result shape');
    expect(result.sessionsRevoked.reason).toContain(OTHER_INSTANCE);
    expect(result.sessionsRevoked.reason).toContain('1 other instance');
    expect(result.sessionsRevoked.reason).not.toContain(INSTANCE);
  });

  it('"auto" when this instance is the role\'s sole user: revokes sessions issued before now', async () => {
    iamHasRole();
    instancesUsingProfile([INSTANCE]);

    const result = await quarantineRole(input(), depsWith('auto'));

    const revoke = tokenIssueTimeStatements(putPolicy());
    expect(revoke).toEqual([
      {
        Sid: 'CordonRevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': NOW.toISOString() } },
      },
    ]);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW.toISOString() } });
  });

  it('"never": no revocation and no ListInstanceProfilesForRole call', async () => {
    iamHasRole();

    const result = await quarantineRole(input(), depsWith('never'));

    expect(iamMock).not.toHaveReceivedCommand(ListInstanceProfilesForRoleCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(tokenIssueTimeStatements(putPolicy())).toHaveLength(0);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'skipped' } });
    expect(ec2Mock).toHaveReceivedCommandTimes(DisassociateIamInstanceProfileCommand, 1);
  });

  it('"always": revokes even when the role is shared, without looking for other users', async () => {
    iamHasRole();

    const result = await quarantineRole(input(), depsWith('always'));

    expect(iamMock).not.toHaveReceivedCommand(ListInstanceProfilesForRoleCommand);
    expect(tokenIssueTimeStatements(putPolicy())).toHaveLength(1);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW.toISOString() } });
  });

  it('throws QuarantinePolicyTooLargeError over IAM\'s 10240-character quota, and puts nothing', async () => {
    // Prepare: an existing cordon policy listing hundreds of instances
    iamHasRole();
    const many = Array.from({ length: 200 }, (_, i) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-${i.toString(16).padStart(17, '0')}`);
    existingPolicy({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'CordonDenyCompromisedInstances', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'ec2:SourceInstanceARN': many } } },
      ],
    });

    // Act
    const err = await rejectionOf(quarantineRole(input(), depsWith('never')));

    // Assess
    expect(err).toBeInstanceOf(QuarantinePolicyTooLargeError);
    expect(err.name).toBe('QuarantinePolicyTooLargeError');
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
  });

  it('treats InvalidAssociationID.NotFound on disassociate as already-disassociated', async () => {
    iamHasRole();
    ec2Mock.on(DisassociateIamInstanceProfileCommand).rejects(awsError('InvalidAssociationID.NotFound'));

    const result = await quarantineRole(input(), depsWith('never'));

    expect(result).toMatchObject({ status: 'succeeded', profileDisassociated: 'already-disassociated' });
    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });

  it('lets other disassociate errors propagate (the deny policy is already in place)', async () => {
    iamHasRole();
    ec2Mock.on(DisassociateIamInstanceProfileCommand).rejects(awsError('UnauthorizedOperation'));

    const err = await rejectionOf(quarantineRole(input(), depsWith('never')));

    expect(err.name).toBe('UnauthorizedOperation');
    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });
});

describe('quarantine-role handler', () => {
  it('classifies IAM Throttling as TransientAwsError', async () => {
    iamHasRole();
    iamMock.on(PutRolePolicyCommand).rejects(awsError('Throttling', { message: 'Rate exceeded' }));
    const handler = createHandler(() => depsWith('never'));

    const err = await rejectionOf(handler(input()));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
  });

  it('rejects an instance ARN that is not an EC2 instance ARN, before any AWS call', async () => {
    const handler = createHandler(() => depsWith('never'));

    const err = await rejectionOf(handler({ ...input(), instanceArn: 'arn:aws:iam::111122223333:role/*' }));

    expect(err.name).toBe('InvalidRequestError');
    expect(iamMock).not.toHaveReceivedAnyCommand();
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});
