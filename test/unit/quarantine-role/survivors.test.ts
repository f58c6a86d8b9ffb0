/**
 * Issue 16: the role-quarantine paths mutation testing found untested. A policy that already revokes
 * older sessions (an earlier incident on the same role), GetRolePolicy errors other than "no policy",
 * the read-back of the revoke statement, the size quota at its exact boundary, and paging through the
 * other users of a shared role.
 */
import { DescribeInstancesCommand, DisassociateIamInstanceProfileCommand, EC2Client, type DescribeInstancesCommandInput } from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListInstanceProfilesForRoleCommand,
  PutRolePolicyCommand,
  type ListInstanceProfilesForRoleCommandInput,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/quarantine-role/handler';
import {
  INLINE_POLICY_QUOTA,
  mergePolicy,
  QuarantineInput,
  QuarantinePolicyTooLargeError,
  quarantineRole,
  type QuarantineDeps,

  type RevokeSessionsMode,
} from '../../../lambdas/quarantine-role/quarantine-role';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { awsError, rejectionOf, testClientFactory } from '../../support/clients';

const iamMock = mockClient(IAMClient);
const ec2Mock = mockClient(EC2Client);

const ACCOUNT = '111122223333';
const INSTANCE = 'i-0123456789abcdef0';
const TARGET = { accountId: ACCOUNT, region: 'eu-west-1', instanceId: INSTANCE };
const arnOf = (id: string) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${id}`;
const INSTANCE_ARN = arnOf(INSTANCE);
const EARLIER_ARN = arnOf('i-00000000000000001');
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;
const ROLE = 'web-role';
const NOW = '2025-06-01T12:00:00.000Z';
const EARLIER_REVOKE = '2025-05-01T08:00:00.000Z';
const LIMITS = [
  'IAM changes take effect within seconds to a few minutes (eventual consistency)',
  'sessions the attacker chained into another role (sts:AssumeRole from these credentials) are not covered by the ec2:SourceInstanceARN deny',
];

const input = (profile: QuarantineInput['profile'] = { associationId: 'iip-assoc-0123456789abcdef0', arn: PROFILE_ARN }): QuarantineInput => ({
  target: TARGET,
  incidentId: `inc-${ACCOUNT}-eu-west-1-${INSTANCE}`,
  requestId: 'req-1',
  instanceArn: INSTANCE_ARN,
  profile,
});

const denyOf = (arns: string[] | string) => ({
  Sid: 'CordonDenyCompromisedInstances',
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  Condition: { StringEquals: { 'ec2:SourceInstanceARN': arns } },
});
const revokeOf = (at: string) => ({
  Sid: 'CordonRevokeOlderSessions',
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  Condition: { DateLessThan: { 'aws:TokenIssueTime': at } },
});
const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });

let stored: string | undefined;
let sleeps: number[];

function deps(revokeSessions: RevokeSessionsMode, onSleep: () => void = () => undefined): QuarantineDeps {
  return {
    factory: testClientFactory(),
    config: { revokeSessions },
    now: () => new Date(NOW),
    sleep: async (ms) => {
      sleeps.push(ms);
      onSleep();
    },
  };
}

/** A role trusted by EC2 only, last used here, in one profile; the policy is stateful like IAM's. */
function iamHasRole(trust: unknown = { Service: 'ec2.amazonaws.com' }): void {
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
  iamMock.on(GetRoleCommand).resolves({
    Role: {
      Path: '/',
      RoleName: ROLE,
      RoleId: 'AROAEXAMPLE',
      Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
      CreateDate: new Date('2024-01-01T00:00:00Z'),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(doc({ Effect: 'Allow', Principal: trust, Action: 'sts:AssumeRole' }))),
    },
  });
  iamMock.on(GetRolePolicyCommand).callsFake(async () => {
    if (stored === undefined) throw awsError('NoSuchEntityException', { status: 404 });
    return { RoleName: ROLE, PolicyName: 'cordon-quarantine', PolicyDocument: encodeURIComponent(stored) };
  });
  iamMock.on(PutRolePolicyCommand).callsFake(async (put: { PolicyDocument: string }) => {
    stored = put.PolicyDocument;
    return {};
  });
  iamMock.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [{ Path: '/', InstanceProfileName: 'web-profile', InstanceProfileId: 'AIPAEXAMPLE', Arn: PROFILE_ARN, CreateDate: new Date(), Roles: [] }], IsTruncated: false });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE }] }] });
  ec2Mock.on(DisassociateIamInstanceProfileCommand).resolves({});
}

const puts = () => iamMock.commandCalls(PutRolePolicyCommand).map((c) => JSON.parse(c.args[0].input.PolicyDocument ?? 'null') as unknown);

beforeEach(() => {
  iamMock.reset();
  ec2Mock.reset();
  stored = undefined;
  sleeps = [];
  jest.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(() => jest.restoreAllMocks());

describe('a second instance on a role whose policy already revokes older sessions', () => {
  it('"never": keeps the earlier incident\'s revoke statement and its time, adds this instance to the deny', async () => {
    iamHasRole();
    stored = JSON.stringify(doc(denyOf([EARLIER_ARN]), revokeOf(EARLIER_REVOKE)));

    const result = await quarantineRole(input(), deps('never'));

    expect(puts()).toEqual([doc(denyOf([EARLIER_ARN, INSTANCE_ARN]), revokeOf(EARLIER_REVOKE))]);
    expect(result).toEqual({
      action: 'quarantineRole',
      status: 'succeeded',
      roleName: ROLE,
      policyName: 'cordon-quarantine',
      deniedInstanceArn: INSTANCE_ARN,
      sessionsRevoked: { status: 'skipped', reason: 'revokeSessions is "never"' },
      profileDisassociated: 'disassociated',
      limits: LIMITS,
    });
  });

  it('"always": one revoke statement, moved to the later time; unrelated statements stay first and unchanged', async () => {
    iamHasRole();
    const mine = { Sid: 'OperatorDeny', Effect: 'Deny', Action: 's3:*', Resource: '*' };
    stored = JSON.stringify(doc(mine, denyOf(EARLIER_ARN), revokeOf(EARLIER_REVOKE)));

    const result = await quarantineRole(input(), deps('always'));

    expect(puts()).toEqual([doc(mine, denyOf([EARLIER_ARN, INSTANCE_ARN]), revokeOf(NOW))]);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW } });
  });

  it('never moves a revoke time backwards (an earlier statement later than this clock)', () => {
    const later = '2025-07-01T00:00:00.000Z';
    expect(mergePolicy(doc(denyOf([EARLIER_ARN]), revokeOf(later)) as never, INSTANCE_ARN, NOW)).toEqual(
      doc(denyOf([EARLIER_ARN, INSTANCE_ARN]), revokeOf(later)),
    );
    expect(mergePolicy(undefined, INSTANCE_ARN)).toEqual(doc(denyOf([INSTANCE_ARN])));
    expect(mergePolicy(doc(denyOf([INSTANCE_ARN])) as never, INSTANCE_ARN)).toEqual(doc(denyOf([INSTANCE_ARN])));
  });
});

describe('reading the current policy', () => {
  it.each(['AccessDenied', 'ServiceFailure'])('a GetRolePolicy %s is not "no policy": nothing is written, the error propagates', async (name) => {
    iamHasRole();
    stored = JSON.stringify(doc(denyOf([EARLIER_ARN])));
    iamMock.on(GetRolePolicyCommand).rejects(awsError(name));

    const err = await rejectionOf(quarantineRole(input(), deps('never')));

    expect(err.name).toBe(name);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
  });

  it('a throttled GetRolePolicy is a TransientAwsError through the handler (retried), with nothing written', async () => {
    iamHasRole();
    iamMock.on(GetRolePolicyCommand).rejects(awsError('Throttling'));

    const err = await rejectionOf(createHandler(() => deps('never'))(input()));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  it('NoSuchEntity (the older error name) is "no policy yet"', async () => {
    iamHasRole();
    iamMock.on(GetRolePolicyCommand).rejectsOnce(awsError('NoSuchEntity')).callsFake(async () => ({ PolicyDocument: encodeURIComponent(stored ?? '') }));

    await quarantineRole(input(), deps('never'));

    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN]))]);
  });

  it('a GetRolePolicy answer without a document is "no policy yet"', async () => {
    iamHasRole();
    iamMock.on(GetRolePolicyCommand).resolvesOnce({}).callsFake(async () => ({ PolicyDocument: encodeURIComponent(stored ?? '') }));

    await quarantineRole(input(), deps('never'));

    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN]))]);
  });
});

describe('the read-back', () => {
  it('pauses 250-750 ms with jitter between the write and the read-back', async () => {
    iamHasRole();

    await quarantineRole(input(), deps('never'));

    expect(sleeps).toEqual([500]);
  });

  it('writes again when the deny is there but the revoke statement did not land', async () => {
    iamHasRole();
    let raced = false;
    // A concurrent quarantine (revokeSessions never) overwrote ours, keeping our deny but no revoke.
    const racer = () => {
      if (raced) return;
      raced = true;
      stored = JSON.stringify(doc(denyOf([EARLIER_ARN, INSTANCE_ARN])));
    };

    await quarantineRole(input(), deps('always', racer));

    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN]), revokeOf(NOW)), doc(denyOf([EARLIER_ARN, INSTANCE_ARN]), revokeOf(NOW))]);
  });

  it('writes again when the revoke statement read back is older than this one', async () => {
    iamHasRole();
    let raced = false;
    const racer = () => {
      if (raced) return;
      raced = true;
      stored = JSON.stringify(doc(denyOf([INSTANCE_ARN]), revokeOf(EARLIER_REVOKE)));
    };

    await quarantineRole(input(), deps('always', racer));

    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 2);
    expect(JSON.parse(stored ?? '')).toEqual(doc(denyOf([INSTANCE_ARN]), revokeOf(NOW)));
  });

  it('a revoke statement at exactly this time, and a deny naming this instance as a plain string, both count as landed', async () => {
    iamHasRole();
    const racer = () => {
      stored = JSON.stringify(doc(denyOf(INSTANCE_ARN), revokeOf(NOW)));
    };

    await quarantineRole(input(), deps('always', racer));

    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });

  it('a deny naming another instance as a plain string does not count', async () => {
    iamHasRole();
    let raced = false;
    const racer = () => {
      if (raced) return;
      raced = true;
      stored = JSON.stringify(doc(denyOf(EARLIER_ARN)));
    };

    await quarantineRole(input(), deps('never', racer));

    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN])), doc(denyOf([EARLIER_ARN, INSTANCE_ARN]))]);
  });

  it('a retried task on a policy that already denies this instance still writes on its first attempt', async () => {
    iamHasRole();
    stored = JSON.stringify(doc(denyOf([INSTANCE_ARN])));

    await quarantineRole(input(), deps('never'));

    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN]))]);
  });

  it('on a later attempt, a concurrent writer that already merged this instance is enough: no second write', async () => {
    iamHasRole();
    const reads = [undefined, doc(denyOf([EARLIER_ARN])), doc(denyOf([EARLIER_ARN, INSTANCE_ARN]))];
    let n = 0;
    iamMock.on(GetRolePolicyCommand).callsFake(async () => {
      const d = reads[Math.min(n++, reads.length - 1)];
      if (!d) throw awsError('NoSuchEntityException', { status: 404 });
      return { PolicyDocument: encodeURIComponent(JSON.stringify(d)) };
    });

    const result = await quarantineRole(input(), deps('never'));

    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(GetRolePolicyCommand, 3);
    expect(result.status).toBe('succeeded');
  });

  it('gives up after exactly four writes, naming the instance and the role', async () => {
    iamHasRole();
    const racer = () => {
      stored = JSON.stringify(doc(denyOf([EARLIER_ARN])));
    };

    const err = await rejectionOf(quarantineRole(input(), deps('never', racer)));

    expect(err.message).toBe(`the deny for ${INSTANCE_ARN} is not in ${ROLE}'s cordon-quarantine policy after 4 attempts`);
    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 4);
  });
});

describe("IAM's inline-policy quota, at its exact boundary", () => {
  /** An existing policy whose merge with this instance is exactly `size` characters. */
  function policyOfMergedSize(size: number): unknown {
    const pad = (n: number) => doc({ Sid: 'Pad', Effect: 'Deny', Action: 'x'.repeat(n), Resource: '*' }, denyOf([EARLIER_ARN]));
    const base = JSON.stringify(mergePolicy(pad(0) as never, INSTANCE_ARN)).length;
    const padded = pad(size - base);
    expect(JSON.stringify(mergePolicy(padded as never, INSTANCE_ARN))).toHaveLength(size);
    return padded;
  }

  it(`writes a policy of exactly ${INLINE_POLICY_QUOTA} characters`, async () => {
    iamHasRole();
    stored = JSON.stringify(policyOfMergedSize(INLINE_POLICY_QUOTA));

    await quarantineRole(input(), deps('never'));

    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });

  it(`refuses one of ${INLINE_POLICY_QUOTA + 1} characters, saying why`, async () => {
    iamHasRole();
    stored = JSON.stringify(policyOfMergedSize(INLINE_POLICY_QUOTA + 1));

    const err = await rejectionOf(quarantineRole(input(), deps('never')));

    expect(err).toBeInstanceOf(QuarantinePolicyTooLargeError);
    expect(err.message).toBe(
      `the cordon-quarantine policy on ${ROLE} would be 10241 characters, over IAM's 10240; release earlier incidents on this role or quarantine by detaching it`,
    );
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });
});

describe('"auto": other users of the role, across pages', () => {
  const OTHER = 'i-0fedcba9876543210';
  const SECOND_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile-2`;
  const profile = (Arn: string) => ({ Path: '/', InstanceProfileName: Arn.split('/').pop() ?? '', InstanceProfileId: 'AIPA2', Arn, CreateDate: new Date(), Roles: [] });

  it('finds a profile of the role on the second page of ListInstanceProfilesForRole, and its instance: no revocation', async () => {
    iamHasRole();
    iamMock.on(ListInstanceProfilesForRoleCommand).callsFake(async (i: ListInstanceProfilesForRoleCommandInput) =>
      i.Marker === 'm2' ? { InstanceProfiles: [profile(SECOND_PROFILE)], IsTruncated: false } : { InstanceProfiles: [profile(PROFILE_ARN)], IsTruncated: true, Marker: 'm2' },
    );
    ec2Mock.on(DescribeInstancesCommand).callsFake(async (i: DescribeInstancesCommandInput) => ({
      Reservations: [{ Instances: (i.Filters?.[0]?.Values ?? []).includes(SECOND_PROFILE) ? [{ InstanceId: INSTANCE }, { InstanceId: OTHER }] : [{ InstanceId: INSTANCE }] }],
    }));

    const result = await quarantineRole(input(), deps('auto'));

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'iam-instance-profile.arn', Values: [PROFILE_ARN, SECOND_PROFILE] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    });
    expect(result).toMatchObject({
      sessionsRevoked: {
        status: 'skipped',
        reason: `role ${ROLE} is shared with 1 other instance(s) (${OTHER}); revoking its sessions would cut them off until they refresh credentials`,
      },
    });
    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN]))]);
  });

  it('a Marker without IsTruncated ends the listing', async () => {
    iamHasRole();
    iamMock.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [profile(PROFILE_ARN)], IsTruncated: false, Marker: 'm2' });

    const result = await quarantineRole(input(), deps('auto'));

    expect(iamMock).toHaveReceivedCommandTimes(ListInstanceProfilesForRoleCommand, 1);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW } });
  });

  it('finds another instance on the second page of DescribeInstances: no revocation', async () => {
    iamHasRole();
    ec2Mock.on(DescribeInstancesCommand).callsFake(async (i: DescribeInstancesCommandInput) =>
      i.NextToken === 't2' ? { Reservations: [{ Instances: [{ InstanceId: OTHER }] }] } : { Reservations: [{ Instances: [{ InstanceId: INSTANCE }] }], NextToken: 't2' },
    );

    const result = await quarantineRole(input(), deps('auto'));

    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'skipped', reason: expect.stringContaining(`(${OTHER})`) } });
    expect(puts()).toEqual([doc(denyOf([INSTANCE_ARN]))]);
  });

  it('lists five other instances in full, and the first five of more followed by an ellipsis', async () => {
    iamHasRole();
    const ids = Array.from({ length: 6 }, (_, i) => `i-0000000000000010${i}`);
    let call = 0;
    ec2Mock.on(DescribeInstancesCommand).callsFake(async () => ({
      Reservations: [{ Instances: (call++ === 0 ? ids.slice(0, 5) : [...ids, INSTANCE]).map((InstanceId) => ({ InstanceId })) }],
    }));

    const five = await quarantineRole(input(), deps('auto'));
    const six = await quarantineRole(input(), deps('auto'));

    expect(five).toMatchObject({ sessionsRevoked: { reason: `role ${ROLE} is shared with 5 other instance(s) (${ids.slice(0, 5).join(', ')}); revoking its sessions would cut them off until they refresh credentials` } });
    expect(six).toMatchObject({ sessionsRevoked: { reason: `role ${ROLE} is shared with 6 other instance(s) (${ids.slice(0, 5).join(', ')}, …); revoking its sessions would cut them off until they refresh credentials` } });
  });

  it('a role in no instance profile has no other instance users: no DescribeInstances, sessions revoked', async () => {
    iamHasRole();
    iamMock.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [], IsTruncated: false });

    const result = await quarantineRole(input(), deps('auto'));

    expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(result).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW } });
  });

  it.each([
    ['a principal given as a string', '*', 'is also trusted by *'],
    ['more than three principals (the first three named)', { AWS: ['arn:aws:iam::1:root', 'arn:aws:iam::2:root', 'arn:aws:iam::3:root', 'arn:aws:iam::4:root'] }, 'is also trusted by AWS:arn:aws:iam::1:root, AWS:arn:aws:iam::2:root, AWS:arn:aws:iam::3:root'],
  ])('a trust policy with %s: no revocation', async (_label, principal, why) => {
    iamHasRole(principal);

    const result = await quarantineRole(input(), deps('auto'));

    expect(result).toMatchObject({ sessionsRevoked: { status: 'skipped', reason: `role ${ROLE} ${why}; revoking its sessions could cut off other users` } });
    expect(iamMock).not.toHaveReceivedCommand(ListInstanceProfilesForRoleCommand);
  });

  it('a Deny statement in the trust policy admits nobody', async () => {
    iamHasRole();
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        Path: '/', RoleName: ROLE, RoleId: 'AROAEXAMPLE', Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, CreateDate: new Date(),
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }, { Effect: 'Deny', Principal: '*' }))),
        RoleLastUsed: { Region: 'eu-west-1' },
      },
    });

    const result = await quarantineRole(input(), deps('auto'));

    expect(result).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW } });
  });

  it.each([
    ['cannot be described', {}, 'could not be described'],
    ['has an unreadable trust policy', { Role: { Path: '/', RoleName: ROLE, RoleId: 'R', Arn: 'arn:aws:iam::1:role/r', CreateDate: new Date(), AssumeRolePolicyDocument: '%7Bnot-json' } }, 'has a trust policy cordon could not read'],
  ])('a role that %s: no revocation', async (_label, answer, why) => {
    iamHasRole();
    iamMock.on(GetRoleCommand).resolves(answer);

    const result = await quarantineRole(input(), deps('auto'));

    expect(result).toMatchObject({ sessionsRevoked: { status: 'skipped', reason: `role ${ROLE} ${why}; revoking its sessions could cut off other users` } });
  });
});

describe('profiles', () => {
  it('an instance profile that holds no role: nothing to deny, the profile is still disassociated', async () => {
    iamHasRole();
    iamMock.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { Path: '/', InstanceProfileName: 'web-profile', InstanceProfileId: 'A', Arn: PROFILE_ARN, CreateDate: new Date(), Roles: [] } });

    const result = await quarantineRole(input(), deps('always'));

    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(result).toEqual({
      action: 'quarantineRole',
      status: 'succeeded',
      roleName: null,
      policyName: null,
      deniedInstanceArn: INSTANCE_ARN,
      sessionsRevoked: { status: 'skipped', reason: 'the instance profile holds no role' },
      profileDisassociated: 'disassociated',
      limits: LIMITS,
    });
  });

  it('no profile: not-applicable, and says why', async () => {
    expect(await quarantineRole(input(null), deps('auto'))).toEqual({
      action: 'quarantineRole',
      status: 'not-applicable',
      reason: 'the instance has no instance profile: no role credentials to deny',
    });
  });

  it('a profile ARN without a name is refused before any IAM call', async () => {
    iamHasRole();

    const err = await rejectionOf(quarantineRole(input({ associationId: 'iip-assoc-1', arn: 'arn:aws:iam::1:instance-profile/' }), deps('never')));

    expect(err.name).toBe('InvalidProfileArnError');
    expect(err.message).toBe('cannot read an instance-profile name from arn:aws:iam::1:instance-profile/');
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });
});

describe('malformed statements read back or merged', () => {
  const foreign = { Sid: 'OperatorDeny', Effect: 'Deny', Action: 's3:*', Resource: '*' };
  const racerWrites = (written: unknown) => {
    let raced = false;
    return () => {
      if (raced) return;
      raced = true;
      stored = written === undefined ? undefined : JSON.stringify(written);
    };
  };

  it.each([
    ['no policy at all', undefined],
    ['only a statement of someone else', doc(foreign)],
    ['a deny statement without StringEquals', doc({ ...denyOf([]), Condition: { StringLike: { 'ec2:SourceInstanceARN': INSTANCE_ARN } } })],
  ])('read back %s: the deny did not land, written again', async (_label, written) => {
    iamHasRole();

    await quarantineRole(input(), deps('never', racerWrites(written)));

    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 2);
    expect(JSON.parse(stored ?? '')).toEqual(written === undefined || _label.startsWith('a deny') ? doc(denyOf([INSTANCE_ARN])) : doc(foreign, denyOf([INSTANCE_ARN])));
  });

  it('read back a revoke statement without DateLessThan: the revoke did not land, written again', async () => {
    iamHasRole();

    await quarantineRole(input(), deps('always', racerWrites(doc(denyOf([INSTANCE_ARN]), { ...revokeOf(NOW), Condition: {} }))));

    expect(iamMock).toHaveReceivedCommandTimes(PutRolePolicyCommand, 2);
    expect(JSON.parse(stored ?? '')).toEqual(doc(denyOf([INSTANCE_ARN]), revokeOf(NOW)));
  });

  it('mergePolicy tolerates statements it cannot read, and drops a revoke time that is not a string', () => {
    expect(mergePolicy(doc(foreign) as never, INSTANCE_ARN)).toEqual(doc(foreign, denyOf([INSTANCE_ARN])));
    expect(mergePolicy(doc({ ...denyOf([]), Condition: {} }) as never, INSTANCE_ARN)).toEqual(doc(denyOf([INSTANCE_ARN])));
    expect(mergePolicy(doc(denyOf([EARLIER_ARN]), { ...revokeOf(NOW), Condition: {} }) as never, INSTANCE_ARN)).toEqual(doc(denyOf([EARLIER_ARN, INSTANCE_ARN])));
    const arrayTime = { ...revokeOf(NOW), Condition: { DateLessThan: { 'aws:TokenIssueTime': [NOW] } } };
    expect(mergePolicy(doc(denyOf([EARLIER_ARN]), arrayTime) as never, INSTANCE_ARN)).toEqual(doc(denyOf([EARLIER_ARN, INSTANCE_ARN])));
  });
});

describe('answers with fields missing', () => {
  it('acts in the target account with a session named after the request, and reads the role by name', async () => {
    iamHasRole();
    const d = deps('auto');

    await quarantineRole(input(), d);

    expect((d.factory as ReturnType<typeof testClientFactory>).targetCalls).toEqual([{ target: TARGET, sessionName: 'cordon-req-1' }]);
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: ROLE });
  });

  it.each([
    ['no InstanceProfile', {}],
    ['a profile without Roles', { InstanceProfile: { Path: '/', InstanceProfileName: 'p', InstanceProfileId: 'A', Arn: PROFILE_ARN, CreateDate: new Date() } }],
  ])('GetInstanceProfile with %s: no role, nothing written', async (_label, answer) => {
    iamHasRole();
    iamMock.on(GetInstanceProfileCommand).resolves(answer as never);

    const result = await quarantineRole(input(), deps('always'));

    expect(result).toMatchObject({ roleName: null, policyName: null, sessionsRevoked: { status: 'skipped', reason: 'the instance profile holds no role' } });
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  it('ListInstanceProfilesForRole without a list, and a profile without an Arn, name no profile', async () => {
    iamHasRole();
    iamMock.on(ListInstanceProfilesForRoleCommand).resolvesOnce({}).resolves({ InstanceProfiles: [{ InstanceProfileName: 'x' } as never, { Arn: PROFILE_ARN } as never] });

    const none = await quarantineRole(input(), deps('auto'));
    await quarantineRole(input(), deps('auto'));

    expect(none).toMatchObject({ sessionsRevoked: { status: 'revoked', issuedBefore: NOW } });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters?.[0])).toEqual([{ Name: 'iam-instance-profile.arn', Values: [PROFILE_ARN] }]);
  });

  it('DescribeInstances without reservations or instances finds no other user; others are listed sorted', async () => {
    iamHasRole();
    ec2Mock.on(DescribeInstancesCommand).resolvesOnce({}).resolvesOnce({ Reservations: [{}] }).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-0000000000000000c' }, {}] }, { Instances: [{ InstanceId: 'i-0000000000000000a' }, { InstanceId: INSTANCE }] }],
    });

    const empty = await quarantineRole(input(), deps('auto'));
    const noInstances = await quarantineRole(input(), deps('auto'));
    const two = await quarantineRole(input(), deps('auto'));

    expect(empty).toMatchObject({ sessionsRevoked: { status: 'revoked' } });
    expect(noInstances).toMatchObject({ sessionsRevoked: { status: 'revoked' } });
    expect(two).toMatchObject({
      sessionsRevoked: {
        reason: `role ${ROLE} is shared with 2 other instance(s) (i-0000000000000000a, i-0000000000000000c); revoking its sessions would cut them off until they refresh credentials`,
      },
    });
  });
});

describe('the instance ARN the handler accepts', () => {
  it.each([
    [`x${INSTANCE_ARN}`],
    [`${INSTANCE_ARN}; rm -rf /`],
    ['arn:aws:ec2:eu-west-1:111122223333:instance/i-'],
  ])('rejects %s', (arn) => {
    expect(QuarantineInput.safeParse({ ...input(), instanceArn: arn }).success).toBe(false);
  });

  it('accepts the other partitions', () => {
    expect(QuarantineInput.safeParse({ ...input(), instanceArn: 'arn:aws-us-gov:ec2:us-gov-west-1:111122223333:instance/i-0123456789abcdef0' }).success).toBe(true);
  });
});

describe('the production clock and pause', () => {
  it('without injected now and sleep: revokes before the real time, and waits 250 ms at least before reading back', async () => {
    iamHasRole();
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const started = Date.now();

    const result = await quarantineRole(input(), { factory: testClientFactory(), config: { revokeSessions: 'always' } });

    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(245);
    if (result.status !== 'succeeded' || result.sessionsRevoked.status !== 'revoked') throw new Error('expected revoked');
    expect(Date.parse(result.sessionsRevoked.issuedBefore)).toBeGreaterThanOrEqual(started);
    expect(Date.parse(result.sessionsRevoked.issuedBefore)).toBeLessThanOrEqual(Date.now());
  });
});
