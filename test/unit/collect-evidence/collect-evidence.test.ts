import { createHash } from 'node:crypto';
import { DescribeInstancesCommand, EC2Client, GetConsoleOutputCommand, GetConsoleScreenshotCommand } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/collect-evidence/handler';
import { collectEvidence, type CollectDeps } from '../../../lambdas/collect-evidence/collect-evidence';
import type { TaskBase } from '../../../lambdas/shared/workflow';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const s3Mock = mockClient(S3Client);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const BUCKET = 'cordon-evidence-111122223333';
const PREFIX = `incidents/${INCIDENT}/responses/req-1/`;
const CONSOLE_TEXT = '[    0.000000] Linux version 6.1.0\nlogin: root\n';
const SCREENSHOT = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9]);
const RESERVATIONS = [{ ReservationId: 'r-0123456789abcdef0', Instances: [{ InstanceId: INSTANCE, InstanceType: 't3.micro' as const }] }];

const input = (): TaskBase => ({ target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE }, incidentId: INCIDENT, requestId: 'req-1' });

let factory: TestClientFactory;
let deps: CollectDeps;

function ec2Works(): void {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: RESERVATIONS });
  ec2Mock.on(GetConsoleOutputCommand).resolves({ InstanceId: INSTANCE, Output: Buffer.from(CONSOLE_TEXT, 'utf8').toString('base64') });
  ec2Mock.on(GetConsoleScreenshotCommand).resolves({ InstanceId: INSTANCE, ImageData: SCREENSHOT.toString('base64') });
}

/** Every PutObject input, by key. */
function puts(): Map<string, PutObjectCommandInput> {
  return new Map(s3Mock.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Key ?? '', c.args[0].input]));
}

const bodyOf = (put: PutObjectCommandInput | undefined): Buffer => Buffer.from(put?.Body as Buffer);
const sha256 = (body: Buffer, encoding: 'base64' | 'hex'): string => createHash('sha256').update(body).digest(encoding);

beforeEach(() => {
  ec2Mock.reset();
  s3Mock.reset();
  factory = testClientFactory();
  deps = { factory, config: { evidenceBucket: BUCKET } };
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
});

describe('collectEvidence', () => {
  it('stores the description, the decoded console output and the screenshot under the response prefix, each with its SHA-256', async () => {
    // Prepare
    ec2Works();

    // Act
    const result = await collectEvidence(input(), deps);

    // Assess: the EC2 calls, in order
    expect(factory.targetCalls).toEqual([{ target: input().target, sessionName: 'cordon-req-1' }]);
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeInstancesCommand, { InstanceIds: [INSTANCE] });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, GetConsoleOutputCommand, { InstanceId: INSTANCE, Latest: true });
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, GetConsoleScreenshotCommand, { InstanceId: INSTANCE, WakeUp: false });
    expect(ec2Mock.calls()).toHaveLength(3);

    // The S3 writes, in order, each carrying a checksum recomputed here from its own Body
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      `${PREFIX}instance-description.json`,
      `${PREFIX}console-output.txt`,
      `${PREFIX}console-screenshot.jpg`,
    ]);
    for (const put of puts().values()) {
      expect(put).toEqual({
        Bucket: BUCKET,
        Key: put.Key,
        Body: expect.any(Buffer),
        ContentType: expect.any(String),
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: sha256(bodyOf(put), 'base64'),
      });
    }
    const description = puts().get(`${PREFIX}instance-description.json`);
    expect(description?.ContentType).toBe('application/json');
    expect(JSON.parse(bodyOf(description).toString('utf8'))).toEqual(RESERVATIONS);
    // Console output is stored as text, not as EC2's base64
    const consoleOut = puts().get(`${PREFIX}console-output.txt`);
    expect(consoleOut?.ContentType).toBe('text/plain; charset=utf-8');
    expect(bodyOf(consoleOut).toString('utf8')).toBe(CONSOLE_TEXT);
    const screenshot = puts().get(`${PREFIX}console-screenshot.jpg`);
    expect(screenshot?.ContentType).toBe('image/jpeg');
    expect(bodyOf(screenshot).equals(SCREENSHOT)).toBe(true);

    expect(result).toEqual({
      action: 'collectEvidence',
      status: 'succeeded',
      objects: {
        instanceDescription: {
          status: 'stored',
          bucket: BUCKET,
          key: `${PREFIX}instance-description.json`,
          sha256: sha256(bodyOf(description), 'hex'),
          size: bodyOf(description).length,
          versionId: 'v1',
        },
        consoleOutput: {
          status: 'stored',
          bucket: BUCKET,
          key: `${PREFIX}console-output.txt`,
          sha256: sha256(Buffer.from(CONSOLE_TEXT, 'utf8'), 'hex'),
          size: Buffer.byteLength(CONSOLE_TEXT),
          versionId: 'v1',
        },
        consoleScreenshot: {
          status: 'stored',
          bucket: BUCKET,
          key: `${PREFIX}console-screenshot.jpg`,
          sha256: sha256(SCREENSHOT, 'hex'),
          size: SCREENSHOT.length,
          versionId: 'v1',
        },
      },
    });
  });

  it('falls back to GetConsoleOutput without Latest when Latest is refused', async () => {
    // Prepare: `Latest` is Nitro-only
    ec2Works();
    ec2Mock
      .on(GetConsoleOutputCommand, { Latest: true })
      .rejects(awsError('UnsupportedOperation', { message: 'Latest is not supported for this instance type' }));
    ec2Mock.on(GetConsoleOutputCommand, { Latest: undefined }).resolves({ Output: Buffer.from('older buffer\n').toString('base64') });

    // Act
    const result = await collectEvidence(input(), deps);

    // Assess
    const consoleCalls = ec2Mock.commandCalls(GetConsoleOutputCommand).map((c) => c.args[0].input);
    expect(consoleCalls).toEqual([{ InstanceId: INSTANCE, Latest: true }, { InstanceId: INSTANCE }]);
    expect(bodyOf(puts().get(`${PREFIX}console-output.txt`)).toString('utf8')).toBe('older buffer\n');
    expect(result.objects.consoleOutput).toMatchObject({ status: 'stored', sha256: sha256(Buffer.from('older buffer\n'), 'hex') });
    expect(result.status).toBe('succeeded');
  });

  it('does not fall back on a transient error: it propagates, and the handler makes it TransientAwsError', async () => {
    ec2Works();
    ec2Mock.on(GetConsoleOutputCommand).rejects(awsError('RequestLimitExceeded'));
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(input()));

    expect(err.name).toBe('TransientAwsError');
    expect(ec2Mock).toHaveReceivedCommandTimes(GetConsoleOutputCommand, 1);
    expect(ec2Mock).not.toHaveReceivedCommand(GetConsoleScreenshotCommand);
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([`${PREFIX}instance-description.json`]);
  });

  it('records an unsupported screenshot as not-available, and still succeeds', async () => {
    ec2Works();
    ec2Mock
      .on(GetConsoleScreenshotCommand)
      .rejects(awsError('UnsupportedOperation', { message: 'This instance type does not support console screenshots' }));

    const result = await collectEvidence(input(), deps);

    expect(result.objects.consoleScreenshot).toEqual({
      status: 'not-available',
      error: 'UnsupportedOperation',
      cause: 'This instance type does not support console screenshots',
    });
    expect(result.status).toBe('succeeded');
    expect(result).not.toHaveProperty('error');
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      `${PREFIX}instance-description.json`,
      `${PREFIX}console-output.txt`,
    ]);
  });

  it('records a screenshot call that returns no image as not-available, storing nothing for it', async () => {
    ec2Works();
    ec2Mock.on(GetConsoleScreenshotCommand).resolves({ InstanceId: INSTANCE });

    const result = await collectEvidence(input(), deps);

    expect(result.objects.consoleScreenshot).toMatchObject({ status: 'not-available', error: 'NoImageData' });
    expect(puts().has(`${PREFIX}console-screenshot.jpg`)).toBe(false);
    expect(result.status).toBe('succeeded');
  });

  it('fails with EvidenceIncomplete when the console output cannot be had either way', async () => {
    // Prepare: both the Latest call and the fallback are refused
    ec2Works();
    ec2Mock.on(GetConsoleOutputCommand).rejects(awsError('UnauthorizedOperation', { message: 'not authorized' }));

    // Act
    const result = await collectEvidence(input(), deps);

    // Assess
    expect(ec2Mock.commandCalls(GetConsoleOutputCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: INSTANCE, Latest: true },
      { InstanceId: INSTANCE },
    ]);
    expect(result.objects.consoleOutput).toEqual({ status: 'not-available', error: 'UnauthorizedOperation', cause: 'not authorized' });
    expect(puts().has(`${PREFIX}console-output.txt`)).toBe(false);
    // The screenshot is still attempted
    expect(result.objects.consoleScreenshot.status).toBe('stored');
    expect(result).toMatchObject({ status: 'failed', error: 'EvidenceIncomplete', cause: 'not collected: console output' });
  });

  it('fails with EvidenceIncomplete naming both when the description and the console are missing', async () => {
    ec2Works();
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation'));
    ec2Mock.on(GetConsoleOutputCommand).rejects(awsError('UnauthorizedOperation'));

    const result = await collectEvidence(input(), deps);

    expect(result).toMatchObject({ status: 'failed', error: 'EvidenceIncomplete', cause: 'not collected: instance description, console output' });
  });

  it('lets a throttled S3 write propagate (and the handler classifies it as transient)', async () => {
    ec2Works();
    s3Mock.on(PutObjectCommand).rejects(awsError('SlowDown', { status: 503, fault: 'server' }));
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(input()));

    expect(err.name).toBe('TransientAwsError');
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });
});
