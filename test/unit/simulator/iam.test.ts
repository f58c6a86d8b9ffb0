/** IAM in the simulated account: inline policies, their history, and whether stolen credentials are denied. */
import { SimAccount } from '../../../lib/simulator/account';
import { rejectionOf } from '../../support/clients';
import { account, send } from './support';

const ISSUED = new Date('2026-03-02T08:00:00.000Z');

function sharedRole(world: SimAccount): void {
  for (const id of ['i-1', 'i-2']) {
    world.addInstance({
      id,
      enis: [{ vpcId: 'vpc-1', subnetId: 'subnet-1', groups: [], ipv6: [], privateIp: '10.0.0.1' }],
      profile: { name: 'web-profile', roleName: 'web-role' },
    });
  }
}

const denyInstance = (arn: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'ec2:SourceInstanceARN': arn } } }] });
const denyIssuedBefore = (iso: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': iso } } }] });

describe('IAM', () => {
  it('denies the quarantined instance’s credentials and not its neighbour’s, from the change plus propagation', async () => {
    const world = account();
    sharedRole(world);
    world.now = () => new Date(10_000);
    await send(world, 'iam', 'PutRolePolicy', { RoleName: 'web-role', PolicyName: 'cordon-quarantine', PolicyDocument: denyInstance(world.instanceArn('i-1')) });
    expect(world.credentialsDenied('web-role', 'i-1', ISSUED)).toBe(true);
    expect(world.credentialsDenied('web-role', 'i-2', ISSUED)).toBe(false);
    expect(world.credentialsDeniedFrom('web-role', 'i-1', ISSUED, 5_000)).toBe(15_000);
    expect(world.credentialsDeniedFrom('web-role', 'i-2', ISSUED, 5_000)).toBeUndefined();
  });

  it('denies every session issued before a cutoff, and none issued after', async () => {
    const world = account();
    sharedRole(world);
    await send(world, 'iam', 'PutRolePolicy', { RoleName: 'web-role', PolicyName: 'revoke', PolicyDocument: denyIssuedBefore('2026-03-02T09:00:00.000Z') });
    expect(world.credentialsDenied('web-role', 'i-2', ISSUED)).toBe(true);
    expect(world.credentialsDenied('web-role', 'i-2', new Date('2026-03-02T09:00:00.000Z'))).toBe(false);
  });

  it('lifts the denial when the policy is deleted, while the history still says when it began', async () => {
    const world = account();
    sharedRole(world);
    world.now = () => new Date(1_000);
    await send(world, 'iam', 'PutRolePolicy', { RoleName: 'web-role', PolicyName: 'q', PolicyDocument: denyInstance(world.instanceArn('i-1')) });
    world.now = () => new Date(2_000);
    await send(world, 'iam', 'DeleteRolePolicy', { RoleName: 'web-role', PolicyName: 'q' });
    expect(world.credentialsDenied('web-role', 'i-1', ISSUED)).toBe(false);
    expect(world.credentialsDeniedFrom('web-role', 'i-1', ISSUED, 0)).toBe(1_000);
    expect(world.policyHistory.map((c) => [c.at, c.policyName, c.document === null])).toEqual([
      [1_000, 'q', false],
      [2_000, 'q', true],
    ]);
    const again = await rejectionOf(send(world, 'iam', 'DeleteRolePolicy', { RoleName: 'web-role', PolicyName: 'q' }));
    expect(again.name).toBe('NoSuchEntityException');
  });

  it('reads back a policy URL-encoded, as IAM does, and lists the role’s profiles', async () => {
    const world = account();
    sharedRole(world);
    const doc = denyInstance(world.instanceArn('i-1'));
    await send(world, 'iam', 'PutRolePolicy', { RoleName: 'web-role', PolicyName: 'q', PolicyDocument: doc });
    expect(await send(world, 'iam', 'GetRolePolicy', { RoleName: 'web-role', PolicyName: 'q' })).toEqual({
      RoleName: 'web-role',
      PolicyName: 'q',
      PolicyDocument: encodeURIComponent(doc),
    });
    expect(await send(world, 'iam', 'ListInstanceProfilesForRole', { RoleName: 'web-role' })).toEqual({
      InstanceProfiles: [{ Arn: `arn:aws:iam::${world.accountId}:instance-profile/web-profile` }],
      IsTruncated: false,
    });
    const missing = await rejectionOf(send(world, 'iam', 'PutRolePolicy', { RoleName: 'ghost', PolicyName: 'q', PolicyDocument: doc }));
    expect(missing.name).toBe('NoSuchEntityException');
  });
});
