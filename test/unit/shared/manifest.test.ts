import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { collectJournal, MANIFEST_VERSION, writeManifest } from '../../../lambdas/shared/manifest';
import { awsError, FAKE_CREDENTIALS, HUB_REGION, rejectionOf } from '../../support/clients';

const s3Mock = mockClient(S3Client);
const ddbMock = mockClient(DynamoDBDocumentClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const INCIDENT = `inc-${ACCOUNT}-${REGION}-${INSTANCE}`;
const TABLE = 'cordon-ledger';
const BUCKET = 'cordon-evidence-111122223333';
const PREFIX = `incidents/${INCIDENT}/`;
const NOW = '2025-06-01T12:30:00.000Z';
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };

const digest = (text: string) => createHash('sha256').update(text).digest();
const BEFORE_DIGEST = digest('before-state');
const FINDING_DIGEST = digest('finding');

const clients = () => ({
  s3: new S3Client({ region: HUB_REGION, credentials: FAKE_CREDENTIALS }),
  ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: HUB_REGION, credentials: FAKE_CREDENTIALS })),
});

beforeEach(() => {
  s3Mock.reset();
  ddbMock.reset();
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'manifest-v1' });
});

describe('collectJournal', () => {
  it('finds every awsCalls journal however deep, labelled with the JSONPath where it was found', () => {
    // Prepare: a workflow state shaped like the response ASL's
    const call = (operation: string, requestId: string | null) => ({ service: 'ec2', operation, requestId, at: NOW });
    const state = {
      before: { incidentId: INCIDENT, awsCalls: [call('DescribeInstances', 'r-1')] },
      containment: [
        { isolate: { interfaces: [], awsCalls: [call('ModifyNetworkInterfaceAttribute', 'r-2'), call('DescribeNetworkInterfaces', 'r-3')] } },
        { preserve: { status: 'succeeded', awsCalls: [{ ...call('ModifyInstanceAttribute', null), error: 'UnauthorizedOperation' }] } },
      ],
    };

    // Act
    const entries = collectJournal(state);

    // Assess
    expect(entries).toEqual([
      { ...call('DescribeInstances', 'r-1'), step: '$.before' },
      { ...call('ModifyNetworkInterfaceAttribute', 'r-2'), step: '$.containment[0].isolate' },
      { ...call('DescribeNetworkInterfaces', 'r-3'), step: '$.containment[0].isolate' },
      { ...call('ModifyInstanceAttribute', null), error: 'UnauthorizedOperation', step: '$.containment[1].preserve' },
    ]);
  });

  it('ignores awsCalls that are not journals, and values without any', () => {
    expect(collectJournal({ awsCalls: 'none', nested: { awsCalls: [{ not: 'a journal entry' }, null] } })).toEqual([]);
    expect(collectJournal(null)).toEqual([]);
    expect(collectJournal('text')).toEqual([]);
    expect(collectJournal([1, 2, 3])).toEqual([]);
  });

  it('uses the given root path', () => {
    const entries = collectJournal({ awsCalls: [{ service: 's3', operation: 'PutObject', requestId: 'r', at: NOW }] }, '$.record');
    expect(entries.map((e) => e.step)).toEqual(['$.record']);
  });
});

describe('writeManifest', () => {
  const incidentItem = {
    pk: INCIDENT,
    sk: 'INCIDENT',
    status: 'partially-contained',
    target: TARGET,
    deliveryCount: 1,
  };
  const delivery1 = { pk: INCIDENT, sk: 'DELIVERY#req-1', requestId: 'req-1', source: 'guardduty', receivedAt: '2025-06-01T12:00:00.000Z' };
  const response1 = {
    pk: INCIDENT,
    sk: 'RESPONSE#req-1',
    request: { requestId: 'req-1', source: 'guardduty', requestedBy: 'cordon-intake', reason: 'GuardDuty finding' },
    outcome: 'partially-contained',
    summary: 'isolated; role quarantine failed',
    failures: ['quarantineRole'],
    executionArn: 'arn:aws:states:us-east-1:111122223333:execution:cordon-response:req-1',
    startedAt: '2025-06-01T12:00:00.000Z',
    recordedAt: '2025-06-01T12:20:00.000Z',
    snapshotStatus: 'shared',
    awsCalls: [
      { service: 'iam', operation: 'PutRolePolicy', requestId: 'iam-1', at: '2025-06-01T12:03:00.000Z', step: '$.quarantine', error: 'AccessDenied' },
      { service: 'ec2', operation: 'DescribeInstances', requestId: 'ec2-1', at: '2025-06-01T12:01:00.000Z', step: '$.before' },
    ],
    shares: [
      {
        volumeId: 'vol-0aaaaaaaaaaaaaaa1',
        snapshotId: 'snap-0aaaaaaaaaaaaaaa1',
        memberCopyId: 'snap-0ccccccccccccccc3',
        hubCopyId: 'snap-0ddddddddddddddd4',
        kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
        volumeSize: 8,
        status: 'hub-copy-completed',
      },
      { volumeId: 'vol-0bbbbbbbbbbbbbbb2', snapshotId: 'snap-0bbbbbbbbbbbbbbb2' },
    ],
  };
  const response2 = {
    pk: INCIDENT,
    sk: 'RESPONSE#req-2',
    status: 'duplicate',
    awsCalls: [{ service: 'ec2', operation: 'DescribeInstances', requestId: 'ec2-2', at: '2025-06-01T12:02:00.000Z', step: '$.before' }],
  };

  function ledgerAndBucket(): void {
    ddbMock.on(QueryCommand).resolves({ Items: [incidentItem, delivery1, response1, response2] });
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: `${PREFIX}responses/req-1/before-state.json` },
        { Key: `${PREFIX}manifest.json` },
        { Key: `${PREFIX}findings/req-1.json` },
      ],
      IsTruncated: false,
    });
    s3Mock.on(HeadObjectCommand, { Key: `${PREFIX}responses/req-1/before-state.json` }).resolves({
      ChecksumSHA256: BEFORE_DIGEST.toString('base64'),
      ContentLength: 1234,
      VersionId: 'v-before',
    });
    s3Mock.on(HeadObjectCommand, { Key: `${PREFIX}findings/req-1.json` }).resolves({ ChecksumSHA256: FINDING_DIGEST.toString('base64'), ContentLength: 77 });
  }

  /** The manifest document written by the (single) PutObject. */
  function written(): Record<string, unknown> {
    const puts = s3Mock.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    return JSON.parse(Buffer.from(puts[0]?.args[0].input.Body as Buffer).toString('utf8')) as Record<string, unknown>;
  }

  it('reads the ledger strongly consistently, then lists and heads every evidence object but the manifest, then writes the manifest', async () => {
    // Prepare
    ledgerAndBucket();

    // Act
    const result = await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    // Assess: the requests
    expect(ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input)).toEqual([
      {
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': INCIDENT },
        ConsistentRead: true,
        ExclusiveStartKey: undefined,
      },
    ]);
    expect(s3Mock).toHaveReceivedNthCommandWith(1, ListObjectsV2Command, { Bucket: BUCKET, Prefix: PREFIX });
    // Keys sorted; the manifest itself is never headed
    expect(s3Mock).toHaveReceivedNthCommandWith(2, HeadObjectCommand, { Bucket: BUCKET, Key: `${PREFIX}findings/req-1.json`, ChecksumMode: 'ENABLED' });
    expect(s3Mock).toHaveReceivedNthCommandWith(3, HeadObjectCommand, {
      Bucket: BUCKET,
      Key: `${PREFIX}responses/req-1/before-state.json`,
      ChecksumMode: 'ENABLED',
    });
    expect(s3Mock).toHaveReceivedCommandTimes(HeadObjectCommand, 2);
    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    const body = Buffer.from(put?.Body as Buffer);
    expect(s3Mock).toHaveReceivedNthCommandWith(4, PutObjectCommand, {
      Bucket: BUCKET,
      Key: `${PREFIX}manifest.json`,
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
    });
    expect(s3Mock.calls()).toHaveLength(4);
    expect(result).toEqual({
      bucket: BUCKET,
      key: `${PREFIX}manifest.json`,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
      versionId: 'manifest-v1',
    });
  });

  it('lists evidence with S3’s own SHA-256 in hex and its size, and no manifest entry', async () => {
    ledgerAndBucket();

    await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    expect(written().evidence).toEqual([
      { key: `${PREFIX}findings/req-1.json`, sha256: FINDING_DIGEST.toString('hex'), size: 77 },
      { key: `${PREFIX}responses/req-1/before-state.json`, sha256: BEFORE_DIGEST.toString('hex'), size: 1234, versionId: 'v-before' },
    ]);
  });

  it('says "missing" for an object S3 holds no checksum for', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [incidentItem] });
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `${PREFIX}legacy.txt` }] });
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 5 });

    await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    expect(written().evidence).toEqual([{ key: `${PREFIX}legacy.txt`, sha256: 'missing', size: 5 }]);
  });

  it('lists every action of every response, sorted by time, with the AWS request id and ok / error: X', async () => {
    ledgerAndBucket();

    await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    expect(written().actions).toEqual([
      { response: 'req-1', step: '$.before', service: 'ec2', operation: 'DescribeInstances', awsRequestId: 'ec2-1', at: '2025-06-01T12:01:00.000Z', result: 'ok' },
      { response: 'req-2', step: '$.before', service: 'ec2', operation: 'DescribeInstances', awsRequestId: 'ec2-2', at: '2025-06-01T12:02:00.000Z', result: 'ok' },
      {
        response: 'req-1',
        step: '$.quarantine',
        service: 'iam',
        operation: 'PutRolePolicy',
        awsRequestId: 'iam-1',
        at: '2025-06-01T12:03:00.000Z',
        result: 'error: AccessDenied',
      },
    ]);
  });

  it('builds the snapshot chain from the RESPONSE items’ shares, with nulls for what is not there yet', async () => {
    ledgerAndBucket();

    await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    expect(written().snapshots).toEqual([
      {
        response: 'req-1',
        sourceVolumeId: 'vol-0aaaaaaaaaaaaaaa1',
        originalSnapshotId: 'snap-0aaaaaaaaaaaaaaa1',
        memberCopyId: 'snap-0ccccccccccccccc3',
        hubCopyId: 'snap-0ddddddddddddddd4',
        evidenceCopyId: null,
        kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
        volumeSizeGiB: 8,
        status: 'hub-copy-completed',
      },
      {
        response: 'req-1',
        sourceVolumeId: 'vol-0bbbbbbbbbbbbbbb2',
        originalSnapshotId: 'snap-0bbbbbbbbbbbbbbb2',
        memberCopyId: null,
        hubCopyId: null,
        evidenceCopyId: null,
        kmsKeyId: null,
        volumeSizeGiB: null,
        status: 'unknown',
      },
    ]);
  });

  it('carries the incident and each response', async () => {
    ledgerAndBucket();

    await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    const manifest = written();
    expect(manifest).toMatchObject({
      manifestVersion: MANIFEST_VERSION,
      incidentId: INCIDENT,
      target: TARGET,
      status: 'partially-contained',
      generatedAt: NOW,
      deliveries: [{ requestId: 'req-1', source: 'guardduty', receivedAt: '2025-06-01T12:00:00.000Z' }],
    });
    expect(manifest.responses).toEqual([
      {
        requestId: 'req-1',
        source: 'guardduty',
        requestedBy: 'cordon-intake',
        reason: 'GuardDuty finding',
        outcome: 'partially-contained',
        summary: 'isolated; role quarantine failed',
        failures: ['quarantineRole'],
        executionArn: 'arn:aws:states:us-east-1:111122223333:execution:cordon-response:req-1',
        startedAt: '2025-06-01T12:00:00.000Z',
        recordedAt: '2025-06-01T12:20:00.000Z',
        snapshotStatus: 'shared',
      },
      {
        requestId: 'req-2',
        source: null,
        requestedBy: null,
        reason: null,
        outcome: 'duplicate',
        summary: null,
        failures: [],
        executionArn: null,
        startedAt: null,
        recordedAt: null,
        snapshotStatus: null,
      },
    ]);
  });

  it('follows Query and ListObjectsV2 pages', async () => {
    // Prepare
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [incidentItem], LastEvaluatedKey: { pk: INCIDENT, sk: 'INCIDENT' } })
      .resolvesOnce({ Items: [response2] });
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: `${PREFIX}b.json` }], IsTruncated: true, NextContinuationToken: 'token-2' })
      .resolvesOnce({ Contents: [{ Key: `${PREFIX}a.json` }], IsTruncated: false });
    s3Mock.on(HeadObjectCommand).resolves({ ChecksumSHA256: FINDING_DIGEST.toString('base64'), ContentLength: 1 });

    // Act
    await writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW);

    // Assess
    expect(ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input.ExclusiveStartKey)).toEqual([undefined, { pk: INCIDENT, sk: 'INCIDENT' }]);
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Prefix: PREFIX, ContinuationToken: undefined },
      { Bucket: BUCKET, Prefix: PREFIX, ContinuationToken: 'token-2' },
    ]);
    expect((written().evidence as Array<{ key: string }>).map((e) => e.key)).toEqual([`${PREFIX}a.json`, `${PREFIX}b.json`]);
    expect((written().responses as Array<{ requestId: string }>).map((r) => r.requestId)).toEqual(['req-2']);
  });

  it('writes no manifest when an object cannot be read back', async () => {
    ledgerAndBucket();
    s3Mock.on(HeadObjectCommand).rejects(awsError('AccessDenied', { status: 403 }));

    const err = await rejectionOf(writeManifest(clients(), TABLE, BUCKET, INCIDENT, NOW));

    expect(err.name).toBe('AccessDenied');
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
