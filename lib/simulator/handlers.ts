/**
 * The real Lambda handlers of the response and release workflows, each built with its own client
 * factory (as each function has its own containers) and the hub's settings as its environment
 * would carry them.
 */
import type { ClientFactory } from '../../lambdas/shared/clients';
import { parseEnv } from '../../lambdas/shared/env';
import { ENV_SCHEMAS, environmentFor, type HubSettings as DeployedSettings } from '../environment';
import type { FunctionName } from '../functions';
import type { z } from 'zod';
import { silentLog } from '../../lambdas/shared/handler';
import * as awaitApproval from '../../lambdas/await-approval/handler';
import * as captureState from '../../lambdas/capture-state/handler';
import { NO_EXEMPTIONS, type ApprovalPolicy, type Exemptions } from '../../lambdas/capture-state/capture-state';
import * as collectEvidence from '../../lambdas/collect-evidence/handler';
import * as flowLogs from '../../lambdas/flow-logs/handler';
import * as isolate from '../../lambdas/isolate/handler';
import * as preserve from '../../lambdas/preserve/handler';
import * as protect from '../../lambdas/protect/handler';
import * as quarantineRole from '../../lambdas/quarantine-role/handler';
import type { RevokeSessionsMode } from '../../lambdas/quarantine-role/quarantine-role';
import * as record from '../../lambdas/record/handler';
import * as releaseLoad from '../../lambdas/release-load/handler';
import * as releaseRecord from '../../lambdas/release-record/handler';
import * as releaseRestore from '../../lambdas/release-restore/handler';
import * as shareSnapshot from '../../lambdas/share-snapshot/handler';
import * as snapshot from '../../lambdas/snapshot/handler';

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

/** Every response-workflow handler, built with the given factory per Lambda (the real handler code). */
export function responseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  const f = factoryFor;
  return {
    'capture-state': captureState.createHandler(() => ({ factory: f('capture-state'), now, config: envOf(hub, 'capture-state').config })),
    'await-approval': awaitApproval.createHandler(() => ({ factory: f('await-approval'), now, log: silentLog, config: envOf(hub, 'await-approval') })),
    protect: protect.createHandler(() => ({ factory: f('protect') })),
    preserve: preserve.createHandler(() => ({ factory: f('preserve') })),
    'collect-evidence': collectEvidence.createHandler(() => ({ factory: f('collect-evidence'), config: envOf(hub, 'collect-evidence').config })),
    'share-snapshot': shareSnapshot.createHandler(() => ({ factory: f('share-snapshot'), now, config: envOf(hub, 'share-snapshot').config })),
    isolate: isolate.createHandler(() => ({ factory: f('isolate'), now, config: envOf(hub, 'isolate').config })),
    'quarantine-role': quarantineRole.createHandler(() => ({ factory: f('quarantine-role'), now, sleep, config: envOf(hub, 'quarantine-role').config })),
    'flow-logs': flowLogs.createHandler(() => ({ factory: f('flow-logs'), config: envOf(hub, 'flow-logs').config })),
    snapshot: snapshot.createHandler(() => ({ factory: f('snapshot'), now, config: envOf(hub, 'snapshot').config })),
    record: record.createHandler(() => ({ factory: f('record'), now, log: silentLog, config: envOf(hub, 'record').config })),
  };
}

/** Every release-workflow handler (DESIGN.md §3, Release), built with the given factory per Lambda. */
export function releaseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  return {
    'release-load': releaseLoad.createHandler(() => ({ factory: factoryFor('release-load'), now, config: envOf(hub, 'release-load').config })),
    'release-restore': releaseRestore.createHandler(() => ({ factory: factoryFor('release-restore'), sleep })),
    'release-record': releaseRecord.createHandler(() => ({
      factory: factoryFor('release-record'),
      now,
      log: silentLog,
      config: envOf(hub, 'release-record').config,
    })),
  };
}
