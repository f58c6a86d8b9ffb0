/**
 * Evidence objects in the hub bucket. Every PutObject carries a SHA-256
 * checksum: Object Lock with default retention requires one, S3 verifies it on
 * arrival, and the same digest is what the ledger and manifest cite.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface EvidenceObject {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
  readonly versionId?: string;
}

export function incidentPrefix(incidentId: string): string {
  return `incidents/${incidentId}/`;
}

export async function putJsonEvidence(
  s3: S3Client,
  bucket: string,
  key: string,
  document: unknown,
): Promise<EvidenceObject> {
  return putEvidence(s3, bucket, key, Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8'), 'application/json');
}

export async function putEvidence(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  contentType: string,
): Promise<EvidenceObject> {
  const digest = createHash('sha256').update(body).digest();
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: digest.toString('base64'),
    }),
  );
  return {
    bucket,
    key,
    sha256: digest.toString('hex'),
    size: body.length,
    ...(out.VersionId ? { versionId: out.VersionId } : {}),
  };
}
