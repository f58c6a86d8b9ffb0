/** SNS: published messages are kept, in order; a subject over 100 characters is refused, as SNS does. */
import type * as sns from '@aws-sdk/client-sns';
import { awsError, type ServiceHandlers, type SimState } from '../core';

function publish(s: SimState, input: sns.PublishCommandInput) {
  if ((input.Subject?.length ?? 0) > 100) throw awsError('InvalidParameter', 'Subject too long');
  s.messages.push({ subject: input.Subject, message: input.Message as string, attributes: input.MessageAttributes });
  return { MessageId: s.hexId('msg') };
}

export function snsHandlers(s: SimState): ServiceHandlers {
  return { Publish: (i: sns.PublishCommandInput) => publish(s, i) };
}
