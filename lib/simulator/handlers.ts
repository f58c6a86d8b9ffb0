/**
 * The real Lambda handlers of the response and release workflows, each built with its own client
 * factory (as each function has its own containers) and the hub's settings as its environment
 * would carry them.
 */
import { join } from 'node:path';
import type { ClientFactory } from '../../lambdas/shared/clients';
import { parseEnv } from '../../lambdas/shared/env';
import { ENV_SCHEMAS, environmentFor, type HubSettings as DeployedSettings } from '../environment';
import { functionsOf, type FunctionName, type WorkflowFunctionName } from '../functions';
import type { z } from 'zod';
import { silentLog } from '../../lambdas/shared/handler';
import { NO_EXEMPTIONS, type ApprovalPolicy, type Exemptions } from '../../lambdas/capture-state/capture-state';
import type { RevokeSessionsMode } from '../../lambdas/quarantine-role/quarantine-role';

/** The hub's resources, as the handlers' environment would name them. */
export interface HubSettings {
  readonly hubAccountId: string;
  readonly region: string;
  readonly ledgerTable: string;
  readonly evidenceBucket: string;
  readonly topicArn: string;
  readonly evidenceKeyArn: string;
  readonly settleSeconds: number;
  readonly revokeSessions: RevokeSessionsMode;
  readonly tcpEstablishedTimeout: number;
  readonly snapshotMaxHours: number;
  /** The approval gate (capture-state's config). @default - no gate */
  readonly approval?: ApprovalPolicy;
  /** The hub's exemptions (lib/config.ts `exemptions`). @default - none */
  readonly exemptions?: Exemptions;
}

export const functionArn = (hub: Pick<HubSettings, 'hubAccountId' | 'region'>, name: string) =>
  `arn:aws:lambda:${hub.region}:${hub.hubAccountId}:function:cordon-${name}`;

export type Invoke = (event: unknown) => Promise<unknown>;

/**
 * The hub as the stack would configure it: the same settings lib/environment.ts turns into each function's
 * environment variables at synth.
 */
export function deployedSettings(hub: HubSettings): DeployedSettings {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${hub.region}:${hub.hubAccountId}:${resource}`;
  return {
    config: {
      exemptions: hub.exemptions ?? NO_EXEMPTIONS,
      settleSeconds: hub.settleSeconds,
      tcpEstablishedTimeoutSeconds: hub.tcpEstablishedTimeout,
      revokeSessions: hub.revokeSessions,
      snapshotMaxHours: hub.snapshotMaxHours,
      approval: hub.approval
        ? {
            requiredForTags: [...hub.approval.requiredForTags],
            requiredFor: hub.approval.requiredFor,
            timeoutSeconds: hub.approval.timeoutSeconds,
            onTimeout: hub.approval.onTimeout,
          }
        : { requiredForTags: [], requiredFor: { accounts: [], instanceIds: [] }, timeoutSeconds: 1800, onTimeout: 'approve' },
    },
    partition: 'aws',
    hubAccountId: hub.hubAccountId,
    ledgerTable: hub.ledgerTable,
    evidenceBucket: hub.evidenceBucket,
    evidenceBucketArn: `arn:aws:s3:::${hub.evidenceBucket}`,
    evidenceKeyArn: hub.evidenceKeyArn,
    topicArn: hub.topicArn,
    responseStateMachineArn: arn('states', 'stateMachine:cordon-response'),
    releaseStateMachineArn: arn('states', 'stateMachine:cordon-release'),
    intakePolicy: {},
  };
}

/** Function `name`'s configuration, parsed by its own schema from the environment the stack would give it. */
function envOf<N extends FunctionName>(hub: HubSettings, name: N): z.output<(typeof ENV_SCHEMAS)[N]> {
  const build = environmentFor as (n: FunctionName, s: DeployedSettings) => Record<string, string>;
  const schema = ENV_SCHEMAS[name] as unknown as z.ZodType<z.output<(typeof ENV_SCHEMAS)[N]>, Record<string, string | undefined>>;
  return parseEnv(schema, build(name, deployedSettings(hub)));
}

/**
 * Function `name`'s real handler, from `lambdas/<name>/handler.ts` (every one exports `createHandler(deps)`),
 * given its own client factory and the configuration its environment schema yields. Each handler takes the
 * dependencies it declares (factory, config, clock, sleep, log) and ignores the rest, so a new function of the
 * catalogue (lib/functions.ts) runs here with no edit to this file.
 */
function handlerFor(
  name: WorkflowFunctionName,
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now: (() => Date) | undefined,
  sleep: (ms: number) => Promise<void>,
): Invoke {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(join(__dirname, '..', '..', 'lambdas', name, 'handler')) as {
    createHandler?: (deps: () => Record<string, unknown>) => Invoke;
  };
  if (typeof module.createHandler !== 'function') throw new Error(`lambdas/${name}/handler.ts exports no createHandler(deps)`);
  const env = envOf(hub, name) as Record<string, unknown>;
  // Member-account functions parse to { access, config? }; hub-only ones to their config itself.
  const config = 'access' in env ? env.config : env;
  return module.createHandler(() => ({ factory: factoryFor(name), config, now, sleep, log: silentLog }));
}

function handlersOf(
  workflow: 'response' | 'release',
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now: (() => Date) | undefined,
  sleep: (ms: number) => Promise<void>,
): Record<string, Invoke> {
  return Object.fromEntries(functionsOf(workflow).map((f) => [f.name, handlerFor(f.name, hub, factoryFor, now, sleep)]));
}

/** Every response-workflow handler, built with the given factory per Lambda (the real handler code). */
export function responseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  return handlersOf('response', hub, factoryFor, now, sleep);
}

/** Every release-workflow handler (docs/design.md §3.5), built with the given factory per Lambda. */
export function releaseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  return handlersOf('release', hub, factoryFor, now, sleep);
}
