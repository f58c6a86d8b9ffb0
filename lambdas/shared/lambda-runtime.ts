/**
 * What every production handler shares: the Powertools logger and tracer
 * (created at import, the one side effect docs/design.md §11.3 allows) and the client
 * factory built from the environment on first use.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createClientFactory, type ClientClasses, type ClientFactory } from './clients';
import type { MemberAccess } from './env';

export const logger = new Logger();
export const tracer = new Tracer();

/**
 * The production factory, with the SDK client classes this Lambda uses (and only those get bundled), reaching
 * `CordonResponder` as the Lambda's environment names it (lambdas/<name>/env.ts).
 */
export function productionFactory(clients: ClientClasses, access: MemberAccess): ClientFactory {
  return createClientFactory({
    clients,
    partition: access.partition,
    responderRoleName: access.responderRoleName,
    instrument: (client) => tracer.captureAWSv3Client(client),
  });
}

/**
 * The factory of a Lambda that acts on the hub's own resources only (the ledger, the topic): it has no
 * `sts:AssumeRole`, so asking it for target-account clients is a programming error.
 */
export function hubOnlyFactory(clients: ClientClasses): ClientFactory {
  const factory = createClientFactory({
    clients,
    partition: 'unused',
    responderRoleName: 'unused',
    instrument: (client) => tracer.captureAWSv3Client(client),
  });
  return {
    hub: factory.hub,
    forTarget: () => Promise.reject(new Error('this Lambda acts on the hub only: it may not assume CordonResponder')),
  };
}
