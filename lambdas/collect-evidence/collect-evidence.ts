/**
 * CollectEvidence (issue 3): volatile and descriptive evidence into the
 * evidence bucket under incidents/<incidentId>/responses/<requestId>/ —
 * the full instance description, the console output, and a console
 * screenshot where the platform supports one. What can't be had is recorded
 * with the reason, never silently skipped.
 */
import { DescribeInstancesCommand, GetConsoleOutputCommand, GetConsoleScreenshotCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { ClientFactory } from '../shared/clients';
import { errorSummary, isTransient } from '../shared/errors';
import { incidentPrefix, putEvidence, putJsonEvidence, type EvidenceObject } from '../shared/evidence';
import { TaskBase } from '../shared/workflow';

export const CollectInput = TaskBase;

export interface CollectDeps {
  readonly factory: ClientFactory;
  readonly config: { readonly evidenceBucket: string };
}

type Item = ({ status: 'stored' } & EvidenceObject) | { status: 'not-available'; error: string; cause: string };

export interface CollectResult {
  action: 'collectEvidence';
  status: 'succeeded' | 'failed';
  objects: Record<'instanceDescription' | 'consoleOutput' | 'consoleScreenshot', Item>;
  error?: string;
  cause?: string;
}

async function consoleOutput(ec2: EC2Client, instanceId: string): Promise<Buffer> {
  let out;
  try {
    out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
  } catch (err) {
    if (isTransient(err)) throw err;
    // `Latest` is Nitro-only; older platforms give the last buffered output.
    out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }));
  }
  return Buffer.from(out.Output ?? '', 'base64');
}

async function item(produce: () => Promise<EvidenceObject>): Promise<Item> {
  try {
    return { status: 'stored', ...(await produce()) };
  } catch (err) {
    if (isTransient(err)) throw err;
    return { status: 'not-available', ...errorSummary(err) };
  }
}

export async function collectEvidence(input: TaskBase, deps: CollectDeps): Promise<CollectResult> {
  const { ec2 } = await deps.factory.forTarget(input.target, `cordon-${input.requestId}`);
  const { s3 } = deps.factory.hub();
  const bucket = deps.config.evidenceBucket;
  const prefix = `${incidentPrefix(input.incidentId)}responses/${input.requestId}/`;
  const id = input.target.instanceId;

  const instanceDescription = await item(async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return putJsonEvidence(s3, bucket, `${prefix}instance-description.json`, out.Reservations ?? []);
  });
  const consoleText = await item(async () => putEvidence(s3, bucket, `${prefix}console-output.txt`, await consoleOutput(ec2, id), 'text/plain; charset=utf-8'));
  const consoleScreenshot = await item(async () => {
    const out = await ec2.send(new GetConsoleScreenshotCommand({ InstanceId: id, WakeUp: false }));
    if (!out.ImageData) throw Object.assign(new Error('GetConsoleScreenshot returned no image'), { name: 'NoImageData' });
    return putEvidence(s3, bucket, `${prefix}console-screenshot.jpg`, Buffer.from(out.ImageData, 'base64'), 'image/jpeg');
  });

  // A screenshot is platform-dependent (not every instance type supports one); the description and console are not.
  const missing = [
    instanceDescription.status !== 'stored' ? 'instance description' : null,
    consoleText.status !== 'stored' ? 'console output' : null,
  ].filter((x): x is string => x !== null);
  return {
    action: 'collectEvidence',
    status: missing.length ? 'failed' : 'succeeded',
    objects: { instanceDescription, consoleOutput: consoleText, consoleScreenshot },
    ...(missing.length ? { error: 'EvidenceIncomplete', cause: `not collected: ${missing.join(', ')}` } : {}),
  };
}
