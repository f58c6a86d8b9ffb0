/** S3: objects stored with the SHA-256 S3 computes (Object Lock buckets insist on a checksum), listed and headed. */
import { createHash } from 'node:crypto';
import type * as s3 from '@aws-sdk/client-s3';
import { awsError, type ServiceHandlers, type SimState } from '../core';

function putObject(s: SimState, input: s3.PutObjectCommandInput) {
  const body = Buffer.from(input.Body as Uint8Array);
  const digest = createHash('sha256').update(body).digest('base64');
  if (input.ChecksumSHA256 && input.ChecksumSHA256 !== digest) throw awsError('BadDigest', 'checksum mismatch');
  if (!input.ChecksumAlgorithm && !input.ChecksumSHA256) {
    throw awsError('InvalidRequest', 'Object Lock requires a checksum on PutObject');
  }
  // S3 computes and stores the checksum the request asked for (ChecksumAlgorithm) or verified (ChecksumSHA256).
  s.objects.set(`${input.Bucket}/${input.Key}`, { body, checksumSha256: digest, contentType: input.ContentType });
  return { VersionId: s.hexId('v'), ChecksumSHA256: digest };
}

function listObjects(s: SimState, input: s3.ListObjectsV2CommandInput) {
  const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
  return {
    Contents: [...s.objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((k) => ({ Key: k.slice(`${input.Bucket}/`.length) })),
    IsTruncated: false,
  };
}

function headObject(s: SimState, input: s3.HeadObjectCommandInput) {
  const o = s.objects.get(`${input.Bucket}/${input.Key}`);
  if (!o) throw awsError('NotFound');
  return {
    ContentLength: o.body.length,
    ContentType: o.contentType,
    ...(input.ChecksumMode === 'ENABLED' && o.checksumSha256 ? { ChecksumSHA256: o.checksumSha256 } : {}),
  };
}

export function s3Handlers(s: SimState): ServiceHandlers {
  return {
    PutObject: (i: s3.PutObjectCommandInput) => putObject(s, i),
    ListObjectsV2: (i: s3.ListObjectsV2CommandInput) => listObjects(s, i),
    HeadObject: (i: s3.HeadObjectCommandInput) => headObject(s, i),
  };
}
