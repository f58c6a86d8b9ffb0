/**
 * The real Lambda handlers of the response and release workflows, each built with its own client
 * factory (as each function has its own containers) and the hub's settings as its environment
 * would carry them.
 */
import type { ClientFactory } from '../../lambdas/shared/clients';
import { silentLog } from '../../lambdas/shared/handler';
import * as awaitApproval from '../../lambdas/await-approval/handler';
import * as captureState from '../../lambdas/capture-state/handler';
import type { ApprovalPolicy } from '../../lambdas/capture-state/capture-state';
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
}

export const functionArn = (hub: Pick<HubSettings, 'hubAccountId' | 'region'>, name: string) =>
  `arn:aws:lambda:${hub.region}:${hub.hubAccountId}:function:cordon-${name}`;

export type Invoke = (event: unknown) => Promise<unknown>;

/** Every response-workflow handler, built with the given factory per Lambda (the real handler code). */
export function responseHandlers(
  hub: HubSettings,
  factoryFor: (lambda: string) => ClientFactory,
  now?: () => Date,
  sleep: (ms: number) => Promise<void> = async () => undefined,
): Record<string, Invoke> {
  const f = factoryFor;
  return {
    'capture-state': captureState.createHandler(() => ({
      factory: f('capture-state'),
      now,
      config: {
        ledgerTable: hub.ledgerTable,
        evidenceBucket: hub.evidenceBucket,
        exemptTagKey: 'cordon:exempt',
        exemptTagValue: 'true',
        settleSeconds: hub.settleSeconds,
        partition: 'aws',
        approval: hub.approval,
      },
    })),
    'await-approval': awaitApproval.createHandler(() => ({
      factory: f('await-approval'),
      now,
      log: silentLog,
      config: { ledgerTable: hub.ledgerTable, topicArn: hub.topicArn },
    })),
    protect: protect.createHandler(() => ({ factory: f('protect') })),
    preserve: preserve.createHandler(() => ({ factory: f('preserve') })),
    'collect-evidence': collectEvidence.createHandler(() => ({ factory: f('collect-evidence'), config: { evidenceBucket: hub.evidenceBucket } })),
    'share-snapshot': shareSnapshot.createHandler(() => ({
      factory: f('share-snapshot'),
      now,
      config: { hubAccountId: hub.hubAccountId, evidenceKeyArn: hub.evidenceKeyArn, maxHours: hub.snapshotMaxHours, pollSeconds: 60 },
    })),
    isolate: isolate.createHandler(() => ({ factory: f('isolate'), now, config: { tcpEstablishedTimeout: hub.tcpEstablishedTimeout, ledgerTable: hub.ledgerTable } })),
    'quarantine-role': quarantineRole.createHandler(() => ({
      factory: f('quarantine-role'),
      now,
      sleep,
      config: { revokeSessions: hub.revokeSessions },
    })),
    'flow-logs': flowLogs.createHandler(() => ({ factory: f('flow-logs'), config: { bucketArn: `arn:aws:s3:::${hub.evidenceBucket}` } })),
    snapshot: snapshot.createHandler(() => ({ factory: f('snapshot'), now, config: { maxHours: hub.snapshotMaxHours, pollSeconds: 60 } })),
    record: record.createHandler(() => ({
      factory: f('record'),
      now,
      log: silentLog,
      config: { ledgerTable: hub.ledgerTable, evidenceBucket: hub.evidenceBucket, topicArn: hub.topicArn },
    })),
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
    'release-load': releaseLoad.createHandler(() => ({ factory: factoryFor('release-load'), now, config: { ledgerTable: hub.ledgerTable, partition: 'aws' } })),
    'release-restore': releaseRestore.createHandler(() => ({ factory: factoryFor('release-restore'), sleep })),
    'release-record': releaseRecord.createHandler(() => ({
      factory: factoryFor('release-record'),
      now,
      log: silentLog,
      config: { ledgerTable: hub.ledgerTable, evidenceBucket: hub.evidenceBucket, topicArn: hub.topicArn },
    })),
  };
}
