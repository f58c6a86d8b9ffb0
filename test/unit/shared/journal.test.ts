import { CreateTagsCommand, DescribeInstancesCommand, EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { z } from 'zod';
import { lambdaHandler, silentLog } from '../../../lambdas/shared/handler';
import { journaled, withJournal } from '../../../lambdas/shared/journal';
import { awsError, FAKE_CREDENTIALS, rejectionOf } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const s3Mock = mockClient(S3Client);

const INSTANCE = 'i-0123456789abcdef0';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const metadata = (requestId: string) => ({ $metadata: { httpStatusCode: 200, requestId } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ec2 = () => journaled(new EC2Client({ region: 'eu-west-1', credentials: FAKE_CREDENTIALS }), 'ec2');
const s3 = () => journaled(new S3Client({ region: 'us-east-1', credentials: FAKE_CREDENTIALS }), 's3');

beforeEach(() => {
  ec2Mock.reset();
  s3Mock.reset();
});

describe('withJournal', () => {
  it('records each call through a journaled client: service, operation without "Command", request id and time, in order', async () => {
    // Prepare
    ec2Mock.on(CreateTagsCommand).resolves({ ...metadata('ec2-req-1') });
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1', ...metadata('s3-req-2') });
    const client = ec2();
    const bucket = s3();
    const before = new Date().toISOString();

    // Act
    const { result, journal } = await withJournal(async () => {
      await client.send(new CreateTagsCommand({ Resources: [INSTANCE], Tags: [] }));
      const put = await bucket.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' }));
      return put.VersionId;
    });

    // Assess
    expect(result).toBe('v1');
    expect(journal).toEqual([
      { service: 'ec2', operation: 'CreateTags', requestId: 'ec2-req-1', at: expect.stringMatching(ISO) },
      { service: 's3', operation: 'PutObject', requestId: 's3-req-2', at: expect.stringMatching(ISO) },
    ]);
    for (const entry of journal) expect(entry.at >= before && entry.at <= new Date().toISOString()).toBe(true);
    // The wrapped client still sends the real command to the SDK
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: [INSTANCE] });
  });

  it('records a failed call with the error name and the request id from the error, and rethrows the error as it was', async () => {
    // Prepare
    const refused = awsError('UnauthorizedOperation', { message: 'not authorized' });
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(refused);
    const client = ec2();

    // Act: the logic sees the rejection (and here hands it back as its result)
    const { result, journal } = await withJournal(() =>
      client.send(new ModifyInstanceAttributeCommand({ InstanceId: INSTANCE, DisableApiTermination: { Value: true } })).then(
        () => null,
        (err: unknown) => err,
      ),
    );

    // Assess
    expect(result).toBe(refused);
    expect(journal).toEqual([
      { service: 'ec2', operation: 'ModifyInstanceAttribute', requestId: 'test-request-id', at: expect.stringMatching(ISO), error: 'UnauthorizedOperation' },
    ]);
  });

  it('lets an error escape the scope unchanged', async () => {
    const refused = awsError('UnauthorizedOperation');
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(refused);
    const client = ec2();

    const err = await rejectionOf(withJournal(() => client.send(new ModifyInstanceAttributeCommand({ InstanceId: INSTANCE }))));

    expect(err).toBe(refused);
  });

  it('records null when a response carries no request id', async () => {
    ec2Mock.on(CreateTagsCommand).resolves({});
    const client = ec2();

    const { journal } = await withJournal(() => client.send(new CreateTagsCommand({ Resources: [INSTANCE], Tags: [] })));

    expect(journal).toEqual([{ service: 'ec2', operation: 'CreateTags', requestId: null, at: expect.stringMatching(ISO) }]);
  });

  it('does not record calls made outside withJournal, nor calls through a client that is not journaled', async () => {
    ec2Mock.on(CreateTagsCommand).resolves({ ...metadata('r') });
    const client = ec2();
    const plain = new EC2Client({ region: 'eu-west-1', credentials: FAKE_CREDENTIALS });

    await client.send(new CreateTagsCommand({ Resources: [INSTANCE], Tags: [] })); // outside any scope: no error, nowhere recorded
    const { journal } = await withJournal(async () => {
      await plain.send(new CreateTagsCommand({ Resources: [INSTANCE], Tags: [] }));
    });
    const after = await withJournal(async () => undefined);
    // Once a scope has ended, later calls do not land in its journal
    await client.send(new CreateTagsCommand({ Resources: [INSTANCE], Tags: [] }));
    await Promise.resolve().then(() => client.send(new CreateTagsCommand({ Resources: [INSTANCE], Tags: [] })));

    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 4);
    expect(journal).toEqual([]);
    expect(after.journal).toEqual([]);
  });

  it('keeps concurrent scopes apart, even when their calls interleave on one client', async () => {
    // Prepare: each call answers after a delay given in its input, so the two scopes interleave.
    ec2Mock.on(CreateTagsCommand).callsFake(async (input: { Resources?: string[]; Tags?: Array<{ Value?: string }> }) => {
      await sleep(Number(input.Tags?.[0]?.Value ?? 0));
      return metadata(`req-${input.Resources?.[0] ?? 'none'}`);
    });
    const client = ec2();
    const run = (ids: string[], delays: number[]) =>
      withJournal(async () => {
        for (const [i, id] of ids.entries()) await client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'delay', Value: String(delays[i]) }] }));
        return ids.length;
      });

    // Act
    const [a, b] = await Promise.all([run(['a1', 'a2', 'a3'], [5, 20, 5]), run(['b1', 'b2'], [15, 5])]);

    // Assess
    expect(a.result).toBe(3);
    expect(a.journal.map((e) => e.requestId)).toEqual(['req-a1', 'req-a2', 'req-a3']);
    expect(b.journal.map((e) => e.requestId)).toEqual(['req-b1', 'req-b2']);
    // The calls did interleave
    const order = ec2Mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Resources?.[0]);
    expect(order).not.toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(order.slice(0, 2).sort()).toEqual(['a1', 'b1']);
  });
});

describe('lambdaHandler', () => {
  it('returns the journal of the invocation as awsCalls on an object result', async () => {
    ec2Mock.on(CreateTagsCommand).resolves(metadata('ec2-req-9'));
    const client = ec2();
    const handler = lambdaHandler(
      z.object({ id: z.string() }),
      async ({ id }) => {
        await client.send(new CreateTagsCommand({ Resources: [id], Tags: [] }));
        return { status: 'done' };
      },
      silentLog,
    );

    const out = await handler({ id: INSTANCE });

    expect(out).toEqual({
      status: 'done',
      awsCalls: [{ service: 'ec2', operation: 'CreateTags', requestId: 'ec2-req-9', at: expect.stringMatching(ISO) }],
    });
  });
});

describe('journaled: reads are not actions', () => {
  it('does not record Describe/Get/List/Head calls, so rewriting the manifest never grows the journal', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [], $metadata: { requestId: 'read-1' } });
    const client = journaled(new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }), 'ec2');

    const { journal } = await withJournal(() => client.send(new DescribeInstancesCommand({})));

    expect(journal).toEqual([]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
  });
});
