import { AssociateIamInstanceProfileCommand, DescribeIamInstanceProfileAssociationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DeleteRolePolicyCommand, GetInstanceProfileCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/release-restore/handler';
import { restore, type RestoreDeps } from '../../../lambdas/release-restore/release-restore';
import { withoutInstance, type RoleInput } from '../../../lambdas/release-restore/role';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { ReleasePolicyNotConfirmedError } from '../../../lambdas/shared/release';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const iamMock = mockClient(IAMClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };
const ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`;
const NEIGHBOUR_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0fedcba9876543210`;
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;
const ROLE = 'web-role';
const OURS = '2025-06-01T12:00:01.000Z';

const input = (extra: Partial<RoleInput> = {}): RoleInput => ({
  step: 'role',
  target: TARGET,
  incidentId: `inc-${ACCOUNT}-${REGION}-${INSTANCE}`,
  releaseId: 'rel-1',
  instanceArn: ARN,
  profile: { arn: PROFILE_ARN },
  roleNames: [ROLE],
  sessionRevocations: [OURS],
  ...extra,
});

const deny = (arns: string[]) => ({ Sid: 'CordonDenyCompromisedInstances', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'ec2:SourceInstanceARN': arns } } });
const revoke = (at: string) => ({ Sid: 'CordonRevokeOlderSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': at } } });
const policy = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });

let stored: string | undefined;
/** Mutating calls across both clients, in the order they were made. */
let order: string[] = [];
/** IAM as a store: GetRolePolicy returns what the last Put wrote (URL-encoded, as IAM does); Delete removes it. */
function iamHolds(document: unknown): void {
  stored = document === undefined ? undefined : JSON.stringify(document);
  iamMock.on(GetInstanceProfileCommand).resolves({
    InstanceProfile: { Path: '/', InstanceProfileName: 'web-profile', InstanceProfileId: 'AIPA1', Arn: PROFILE_ARN, CreateDate: new Date(), Roles: [{ Path: '/', RoleName: ROLE, RoleId: 'AROA1', Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, CreateDate: new Date() }] },
  });
  iamMock.on(GetRolePolicyCommand).callsFake(async () => {
    if (stored === undefined) throw awsError('NoSuchEntityException', { status: 404 });
    return { RoleName: ROLE, PolicyName: 'cordon-quarantine', PolicyDocument: encodeURIComponent(stored) };
  });
  iamMock.on(PutRolePolicyCommand).callsFake(async (put: { PolicyDocument: string }) => {
    order.push('PutRolePolicy');
    stored = put.PolicyDocument;
    return {};
  });
  iamMock.on(DeleteRolePolicyCommand).callsFake(async () => {
    order.push('DeleteRolePolicy');
    stored = undefined;
    return {};
  });
}

function associations(current: Array<{ arn: string }> = []): void {
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
    IamInstanceProfileAssociations: current.map((a, i) => ({ AssociationId: `iip-assoc-${i}`, InstanceId: INSTANCE, IamInstanceProfile: { Arn: a.arn }, State: 'associated' })),
  });
  ec2Mock.on(AssociateIamInstanceProfileCommand).callsFake(async () => {
    order.push('AssociateIamInstanceProfile');
    return { IamInstanceProfileAssociation: { AssociationId: 'iip-assoc-new', State: 'associating' } };
  });
}

let factory: TestClientFactory;
const deps = (): RestoreDeps => ({ factory, sleep: async () => undefined });

beforeEach(() => {
  ec2Mock.reset();
  iamMock.reset();
  order = [];
  factory = testClientFactory();
});

describe('RestoreRole', () => {
  it("associates the profile again, then takes this instance out of the deny, keeping a neighbour's", async () => {
    iamHolds(policy(deny([ARN, NEIGHBOUR_ARN].sort())));
    associations();

    const result = await restore(input(), deps());

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeIamInstanceProfileAssociationsCommand, {
      Filters: [
        { Name: 'instance-id', Values: [INSTANCE] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    });
    expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: INSTANCE, IamInstanceProfile: { Arn: PROFILE_ARN } },
    ]);
    expect(iamMock.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: ROLE, PolicyName: 'cordon-quarantine', PolicyDocument: JSON.stringify(policy(deny([NEIGHBOUR_ARN]))) },
    ]);
    expect(iamMock).not.toHaveReceivedCommand(DeleteRolePolicyCommand);
    // Quarantine in reverse: associate before the deny goes.
    expect(order).toEqual(['AssociateIamInstanceProfile', 'PutRolePolicy']);
    expect(result).toEqual({
      action: 'restoreRole',
      status: 'succeeded',
      profile: { status: 'associated', arn: PROFILE_ARN, associationId: 'iip-assoc-new' },
      policies: [{ roleName: ROLE, policyName: 'cordon-quarantine', status: 'restored', deny: 'removed', otherInstancesDenied: 1, sessionRevocation: 'none', policy: 'updated' }],
      limits: expect.arrayContaining([expect.stringContaining('stay usable until they expire')]),
    });
  });

  it("deletes the policy when this instance's deny and its own revocation were all there was", async () => {
    iamHolds(policy(deny([ARN]), revoke(OURS)));
    associations();

    const result = await restore(input(), deps());

    expect(iamMock.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: ROLE, PolicyName: 'cordon-quarantine' }]);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(result).toMatchObject({ status: 'succeeded', policies: [{ deny: 'removed', sessionRevocation: 'removed', policy: 'deleted' }] });
  });

  it.each([
    ['another incident wrote its cut-off', policy(deny([ARN]), revoke('2025-06-01T13:00:00.000Z')), /not written by this incident/],
    ['other instances are still denied', policy(deny([ARN, NEIGHBOUR_ARN].sort()), revoke(OURS)), /1 other instance/],
  ])('keeps the session revocation when %s', async (_why, document, reason) => {
    iamHolds(document);
    associations();

    const result = await restore(input(), deps());

    const written = JSON.parse(iamMock.commandCalls(PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? '{}') as { Statement: Array<{ Sid: string }> };
    expect(written.Statement.map((s) => s.Sid)).toContain('CordonRevokeOlderSessions');
    expect(JSON.stringify(written)).not.toContain(ARN);
    expect(result).toMatchObject({ status: 'succeeded', policies: [{ deny: 'removed', sessionRevocation: 'kept', keptBecause: expect.stringMatching(reason) }] });
  });

  it('changes nothing when the deny is already gone and the profile already associated (a retried step)', async () => {
    iamHolds(policy(deny([NEIGHBOUR_ARN])));
    associations([{ arn: PROFILE_ARN }]);

    const result = await restore(input(), deps());

    expect(ec2Mock).not.toHaveReceivedCommand(AssociateIamInstanceProfileCommand);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(DeleteRolePolicyCommand);
    expect(result).toMatchObject({
      status: 'succeeded',
      profile: { status: 'already-associated', associationId: 'iip-assoc-0' },
      policies: [{ deny: 'not-present', policy: 'unchanged' }],
    });
  });

  it('never replaces a profile associated since containment, and still removes the deny (partial)', async () => {
    iamHolds(policy(deny([ARN])));
    associations([{ arn: `arn:aws:iam::${ACCOUNT}:instance-profile/forensics` }]);

    const result = await restore(input(), deps());

    expect(ec2Mock).not.toHaveReceivedCommand(AssociateIamInstanceProfileCommand);
    expect(iamMock).toHaveReceivedCommand(DeleteRolePolicyCommand);
    expect(result).toMatchObject({ status: 'failed', error: 'ProfileConflictError', cause: expect.stringContaining('forensics'), profile: { status: 'failed' } });
  });

  it('records an association AWS refuses, and still removes the deny (partial)', async () => {
    iamHolds(policy(deny([ARN])));
    associations();
    ec2Mock.on(AssociateIamInstanceProfileCommand).rejects(awsError('UnauthorizedOperation', { message: 'not authorized to perform iam:PassRole' }));

    const result = await restore(input(), deps());

    expect(iamMock).toHaveReceivedCommand(DeleteRolePolicyCommand);
    expect(result).toMatchObject({ status: 'failed', error: 'UnauthorizedOperation', cause: expect.stringContaining('instance profile: UnauthorizedOperation') });
  });

  it('reads back after writing, and writes again when a concurrent quarantine put this instance back', async () => {
    iamHolds(policy(deny([ARN, NEIGHBOUR_ARN].sort())));
    associations();
    let puts = 0;
    iamMock.on(PutRolePolicyCommand).callsFake(async (put: { PolicyDocument: string }) => {
      puts += 1;
      // The first write is overwritten at once by a neighbour's quarantine that read the policy before it.
      stored = puts === 1 ? JSON.stringify(policy(deny([ARN, NEIGHBOUR_ARN, 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa9'].sort()))) : put.PolicyDocument;
      return {};
    });

    const result = await restore(input(), deps());

    expect(puts).toBe(2);
    expect(JSON.parse(stored ?? '{}').Statement[0].Condition.StringEquals['ec2:SourceInstanceARN']).toEqual(
      [NEIGHBOUR_ARN, 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa9'].sort(),
    );
    expect(result).toMatchObject({ status: 'succeeded', policies: [{ deny: 'removed', otherInstancesDenied: 2 }] });
  });

  it('gives up with a named error when the deny keeps coming back', async () => {
    iamHolds(policy(deny([ARN])));
    associations();
    iamMock.on(DeleteRolePolicyCommand).resolves({}); // deleted… but read-back still shows it

    const err = await rejectionOf(restore(input(), deps()));

    expect(err).toBeInstanceOf(ReleasePolicyNotConfirmedError);
    expect(iamMock.commandCalls(DeleteRolePolicyCommand)).toHaveLength(4);
  });

  it('cleans the roles quarantine recorded even when the profile itself is gone', async () => {
    iamHolds(policy(deny([ARN])));
    associations();
    iamMock.on(GetInstanceProfileCommand).rejects(awsError('NoSuchEntityException', { status: 404 }));
    ec2Mock.on(AssociateIamInstanceProfileCommand).rejects(awsError('InvalidParameterValue', { message: 'Value for parameter iamInstanceProfile.arn is invalid' }));

    const result = await restore(input(), deps());

    expect(iamMock).toHaveReceivedCommandWith(DeleteRolePolicyCommand, { RoleName: ROLE, PolicyName: 'cordon-quarantine' });
    expect(result).toMatchObject({ status: 'failed', error: 'InvalidParameterValue', policies: [{ roleName: ROLE, deny: 'removed' }] });
  });

  it('has nothing to do for an instance that had no profile', async () => {
    const result = await restore(input({ profile: null, roleNames: [] }), deps());

    expect(ec2Mock.calls()).toHaveLength(0);
    expect(iamMock.calls()).toHaveLength(0);
    expect(result).toMatchObject({ status: 'not-applicable', profile: { status: 'not-applicable' } });
  });

  it('throws throttling for the state machine to retry (handler: TransientAwsError)', async () => {
    iamHolds(policy(deny([ARN])));
    associations();
    iamMock.on(GetRolePolicyCommand).rejects(awsError('Throttling'));

    const err = await rejectionOf(createHandler(deps)(input()));

    expect(err).toBeInstanceOf(TransientAwsError);
  });
});

describe('withoutInstance (pure)', () => {
  it('keeps statements cordon did not write, and their order', () => {
    const other = { Sid: 'SomethingElse', Effect: 'Deny', Action: 's3:*', Resource: '*' };

    const plan = withoutInstance(policy(other, deny([ARN]), revoke(OURS)) as never, ARN, [OURS]);

    expect(plan).toEqual({ changed: true, document: policy(other), deny: 'removed', otherInstancesDenied: 0, sessionRevocation: 'removed' });
  });

  it('handles a deny naming one instance as a string, as IAM may return it', () => {
    const plan = withoutInstance(policy({ ...deny([]), Condition: { StringEquals: { 'ec2:SourceInstanceARN': ARN } } }) as never, ARN, []);

    expect(plan).toMatchObject({ changed: true, document: null, deny: 'removed' });
  });
});
