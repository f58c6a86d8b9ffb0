/**
 * What RecordRelease and RecordRefusal share: their input, configuration and dependencies, and
 * the SNS summary each sends.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import type { Log } from '../shared/handler';

const StepFailure = z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough();

export const RecordReleaseInput = z.discriminatedUnion('step', [
  z.object({ step: z.literal('record'), executionArn: z.string().min(1).max(2048), state: z.record(z.string(), z.unknown()) }),
  z.object({ step: z.literal('refused'), executionArn: z.string().min(1).max(2048), release: z.unknown(), failure: StepFailure }),
]);
export type RecordReleaseInput = z.infer<typeof RecordReleaseInput>;

export interface RecordReleaseConfig {
  readonly ledgerTable: string;
  readonly evidenceBucket: string;
  readonly topicArn: string;
}

export interface RecordReleaseDeps {
  readonly factory: ClientFactory;
  readonly config: RecordReleaseConfig;
  readonly log: Log;
  readonly now?: () => Date;
}

/** Publish `message` (as indented JSON) to the topic, with an ASCII subject and an `outcome` attribute to filter on. */
export async function notify(deps: RecordReleaseDeps, subjectLine: string, message: Record<string, unknown>, outcome: string): Promise<void> {
  const { sns } = deps.factory.hub();
  await sns.send(
    new PublishCommand({
      TopicArn: deps.config.topicArn,
      // SNS subjects: ASCII, at most 100 characters.
      Subject: subjectLine.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
      Message: JSON.stringify(message, null, 2),
      MessageAttributes: { outcome: { DataType: 'String', StringValue: outcome } },
    }),
  );
}
