import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DEFAULT_INTAKE_POLICY, IntakePolicy } from '../../../lambdas/intake/decide';
import { runIntake, type IntakeDeps } from '../../../lambdas/intake/intake';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { awsError, FAKE_CREDENTIALS, rejectionOf } from '../../support/clients';
import { loadEvent } from './fixtures';

const sfnMock = mockClient(SFNClient);
const s3Mock = mockClient(S3Client);

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:CordonResponse';
const BUCKET = 'cordon-evidence-123456789012';
const GD_EVENT_ID = '0b7c1d2e-3f40-4a51-8b62-c73d84e95fa1';
const GD_INCIDENT = 'inc-111122223333-us-east-1-i-0123456789abcdef0';

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

function deps(policy: IntakePolicy = DEFAULT_INTAKE_POLICY): IntakeDeps {
  return {
    sfn: new SFNClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS }),
    evidence: { s3: new S3Client({ region: 'us-east-1', credentials: FAKE_CREDENTIALS }), bucket: BUCKET },
    stateMachineArn: STATE_MACHINE_ARN,
    policy,
    log: quietLog,
  };
}

/** The order in which S3 and Step Functions were called, across both clients. */
let order: string[];

beforeEach(() => {
  sfnMock.reset();
  s3Mock.reset();
  order = [];
  s3Mock.on(PutObjectCommand).callsFake((input: { Key?: string }) => {
    order.push(`PutObject ${input.Key ?? ''}`);
    return { VersionId: 'v1' };
  });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name?: string }) => {
    order.push(`StartExecution ${input.name ?? ''}`);
    return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:CordonResponse:${input.name ?? ''}`, startDate: new Date(0) };
  });
});

describe('runIntake with an evidence bucket', () => {
  it('stores the raw GuardDuty event, with its SHA-256, under the incident before starting the workflow', async () => {
    // Prepare
    const event = loadEvent('gd-backdoor-cc-activity-dns.json');
    const key = `incidents/${GD_INCIDENT}/findings/${GD_EVENT_ID}.json`;

    // Act
    const summary = await runIntake(event, deps());

    // Assess: the order across the two clients
    expect(order).toEqual([`PutObject ${key}`, `StartExecution ${GD_EVENT_ID}`]);
    // The object: the event exactly as delivered, checksummed
    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    const body = Buffer.from(put?.Body as Buffer);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(put).toEqual({
      Bucket: BUCKET,
      Key: key,
      Body: expect.any(Buffer),
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
    });
    expect(JSON.parse(body.toString('utf8'))).toEqual(loadEvent('gd-backdoor-cc-activity-dns.json'));
    expect(summary.executions.map((e) => e.status)).toEqual(['started']);
  });

  it('stores a Security Hub action once per instance, under each instance’s incident', async () => {
    const id = '8a5b9c0d-1e2f-4031-a425-b6c7d8e9f001';

    await runIntake(loadEvent('sh-custom-action-two-instances.json'), deps());

    expect(order).toEqual([
      `PutObject incidents/inc-111122223333-us-east-1-i-0123456789abcdef0/findings/${id}-0.json`,
      `StartExecution ${id}-0`,
      `PutObject incidents/inc-444455556666-eu-west-1-i-0a1b2c3d4e5f60718/findings/${id}-1.json`,
      `StartExecution ${id}-1`,
    ]);
  });

  it.each([
    ['an ignored finding', 'gd-ssh-bruteforce-inbound.json', DEFAULT_INTAKE_POLICY],
    ['a rejected event', 'reject-instance-id-shell-metacharacters.json', DEFAULT_INTAKE_POLICY],
    ['a finding from an account not managed', 'gd-backdoor-cc-activity-dns.json', IntakePolicy.parse({ allowedAccounts: ['999999999999'] })],
  ])('stores nothing and starts nothing for %s', async (_label, file, policy) => {
    const summary = await runIntake(loadEvent(file), deps(policy));

    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(summary.executions).toEqual([]);
  });

  it('stores nothing for a manual request: there is no finding to keep', async () => {
    const summary = await runIntake(loadEvent('manual-subset-actions.json'), deps());

    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(order).toEqual(['StartExecution ir-2026-0042']);
    expect(summary.executions.map((e) => e.requestId)).toEqual(['ir-2026-0042']);
  });

  it('rethrows S3 throttling as TransientAwsError and starts no execution', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).rejects(awsError('SlowDown', { message: 'Please reduce your request rate.', status: 503, fault: 'server' }));

    // Act
    const err = await rejectionOf(runIntake(loadEvent('gd-backdoor-cc-activity-dns.json'), deps()));

    // Assess
    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toBe('SlowDown: Please reduce your request rate.');
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('rethrows a non-transient S3 error as it is, and starts no execution', async () => {
    s3Mock.on(PutObjectCommand).rejects(awsError('AccessDenied', { status: 403 }));

    const err = await rejectionOf(runIntake(loadEvent('gd-backdoor-cc-activity-dns.json'), deps()));

    expect(err.name).toBe('AccessDenied');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('without an evidence bucket, stores nothing and still starts the workflow', async () => {
    const { evidence: _evidence, ...withoutEvidence } = deps();

    await runIntake(loadEvent('gd-backdoor-cc-activity-dns.json'), withoutEvidence);

    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(order).toEqual([`StartExecution ${GD_EVENT_ID}`]);
  });
});
