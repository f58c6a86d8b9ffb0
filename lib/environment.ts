/**
 * Each function's environment, built from the configuration and the hub's resources: the one place that
 * says which setting becomes which variable. No CDK here: the hub stack calls it with its resources'
 * tokens, the simulator and the tests with plain names, and every handler parses the result with its
 * own schema (`Env` in lambdas/<name>/env.ts), which types what each builder must return: a variable
 * the schema requires and the builder forgets is a compile error, and so is one it doesn't declare.
 */
import type { z } from 'zod';
import { Env as ApiEnv } from '../lambdas/api/env';
import { Env as AwaitApprovalEnv } from '../lambdas/await-approval/env';
import { Env as CaptureStateEnv } from '../lambdas/capture-state/env';
import { Env as CollectEvidenceEnv } from '../lambdas/collect-evidence/env';
import { Env as FlowLogsEnv } from '../lambdas/flow-logs/env';
import type { IntakePolicyInput } from '../lambdas/intake/decide';
import { Env as IntakeEnv } from '../lambdas/intake/env';
import { Env as IsolateEnv } from '../lambdas/isolate/env';
import { Env as QuarantineRoleEnv } from '../lambdas/quarantine-role/env';
import { Env as RecordEnv } from '../lambdas/record/env';
import { Env as ReleaseLoadEnv } from '../lambdas/release-load/env';
import { Env as ReleaseRecordEnv } from '../lambdas/release-record/env';
import { Env as ShareSnapshotEnv } from '../lambdas/share-snapshot/env';
import { Env as SnapshotEnv } from '../lambdas/snapshot/env';
import type { CordonConfig } from './config';
import { RESPONDER_ROLE_NAME, type FunctionName } from './functions';
import { MemberOnlyEnv } from '../lambdas/shared/env';

/** Each function's environment schema, by name. */
export const ENV_SCHEMAS = {
  intake: IntakeEnv,
  api: ApiEnv,
  'capture-state': CaptureStateEnv,
  protect: MemberOnlyEnv,
  preserve: MemberOnlyEnv,
  'collect-evidence': CollectEvidenceEnv,
  isolate: IsolateEnv,
  'quarantine-role': QuarantineRoleEnv,
  'flow-logs': FlowLogsEnv,
  snapshot: SnapshotEnv,
  'share-snapshot': ShareSnapshotEnv,
  'await-approval': AwaitApprovalEnv,
  record: RecordEnv,
  'release-load': ReleaseLoadEnv,
  'release-restore': MemberOnlyEnv,
  'release-record': ReleaseRecordEnv,
} as const satisfies { readonly [N in FunctionName]: z.ZodType };

/** Variables a handler accepts that the stack never sets (tuning overrides for tests). */
export const OVERRIDE_ONLY = ['SNAPSHOT_POLL_SECONDS'] as const;
type OverrideOnly = (typeof OVERRIDE_ONLY)[number];

/** The variables the stack sets for function `N`: every variable of its schema, none left optional. */
export type DeployedEnv<N extends FunctionName> = Required<Omit<z.input<(typeof ENV_SCHEMAS)[N]>, OverrideOnly>>;

/** The variables function `name`'s schema declares, the override-only ones included. */
export function declaredVariables(name: FunctionName): string[] {
  // Every schema is an object of variables piped into a transform (lambdas/<name>/env.ts).
  const schema = ENV_SCHEMAS[name] as unknown as { in: { shape: Record<string, unknown> } };
  return Object.keys(schema.in.shape);
}

/** The settings of the configuration that reach a function (lib/config.ts). */
export type FunctionSettings = Pick<
  CordonConfig,
  'exemptions' | 'settleSeconds' | 'tcpEstablishedTimeoutSeconds' | 'revokeSessions' | 'snapshotMaxHours' | 'approval'
>;

/** Everything a function's environment is made of. */
export interface HubSettings {
  readonly config: FunctionSettings;
  /** The AWS partition (`aws`, `aws-cn`, …): `CordonResponder`'s ARN is built with it. */
  readonly partition: string;
  /** The hub account: snapshots are shared with it. */
  readonly hubAccountId: string;
  readonly ledgerTable: string;
  readonly evidenceBucket: string;
  readonly evidenceBucketArn: string;
  /** The evidence KMS key, by ARN. */
  readonly evidenceKeyArn: string;
  readonly topicArn: string;
  readonly responseStateMachineArn: string;
  readonly releaseStateMachineArn: string;
  /** Intake's decision policy; the API applies its account and region scope too. */
  readonly intakePolicy: IntakePolicyInput;
  /**
   * Writes a JSON variable. CDK passes `Stack.toJsonString`, so tokens inside the value resolve at deploy.
   * @default JSON.stringify
   */
  readonly toJson?: (value: unknown) => string;
}

type Uses<K extends keyof HubSettings> = Pick<HubSettings, K | 'toJson'>;
const json = (s: Pick<HubSettings, 'toJson'>, value: unknown): string => (s.toJson ?? JSON.stringify)(value);
const member = (s: Uses<'partition'>) => ({ PARTITION: s.partition, RESPONDER_ROLE_NAME });
const snapshotMaxHours = (s: Uses<'config'>) => String(s.config.snapshotMaxHours);

/**
 * One builder per function: what it reads from the settings, and the variables it sets. Each is annotated with
 * its function's {@link DeployedEnv}, so a variable left out, or one the schema doesn't declare, fails to compile.
 */
const BUILDERS = {
  intake: (s: Uses<'responseStateMachineArn' | 'intakePolicy' | 'evidenceBucket'>): DeployedEnv<'intake'> => ({
    STATE_MACHINE_ARN: s.responseStateMachineArn,
    INTAKE_POLICY: json(s, s.intakePolicy),
    EVIDENCE_BUCKET: s.evidenceBucket,
  }),
  api: (s: Uses<'responseStateMachineArn' | 'releaseStateMachineArn' | 'ledgerTable' | 'intakePolicy'>): DeployedEnv<'api'> => ({
    RESPONSE_STATE_MACHINE_ARN: s.responseStateMachineArn,
    RELEASE_STATE_MACHINE_ARN: s.releaseStateMachineArn,
    LEDGER_TABLE: s.ledgerTable,
    INTAKE_POLICY: json(s, s.intakePolicy),
  }),
  'capture-state': (s: Uses<'partition' | 'ledgerTable' | 'evidenceBucket' | 'config'>): DeployedEnv<'capture-state'> => ({
    ...member(s),
    LEDGER_TABLE: s.ledgerTable,
    EVIDENCE_BUCKET: s.evidenceBucket,
    EXEMPTIONS: JSON.stringify(s.config.exemptions),
    SETTLE_SECONDS: String(s.config.settleSeconds),
    APPROVAL_REQUIRED_FOR_TAGS: JSON.stringify(s.config.approval.requiredForTags),
    APPROVAL_REQUIRED_FOR: JSON.stringify(s.config.approval.requiredFor),
    APPROVAL_TIMEOUT_SECONDS: String(s.config.approval.timeoutSeconds),
    APPROVAL_ON_TIMEOUT: s.config.approval.onTimeout,
  }),
  protect: (s: Uses<'partition'>): DeployedEnv<'protect'> => member(s),
  preserve: (s: Uses<'partition'>): DeployedEnv<'preserve'> => member(s),
  'collect-evidence': (s: Uses<'partition' | 'evidenceBucket'>): DeployedEnv<'collect-evidence'> => ({ ...member(s), EVIDENCE_BUCKET: s.evidenceBucket }),
  isolate: (s: Uses<'partition' | 'config' | 'ledgerTable'>): DeployedEnv<'isolate'> => ({
    ...member(s),
    TCP_ESTABLISHED_TIMEOUT: String(s.config.tcpEstablishedTimeoutSeconds),
    LEDGER_TABLE: s.ledgerTable,
  }),
  'quarantine-role': (s: Uses<'partition' | 'config'>): DeployedEnv<'quarantine-role'> => ({ ...member(s), REVOKE_SESSIONS: s.config.revokeSessions }),
  'flow-logs': (s: Uses<'partition' | 'evidenceBucketArn'>): DeployedEnv<'flow-logs'> => ({ ...member(s), FLOW_LOG_BUCKET_ARN: s.evidenceBucketArn }),
  snapshot: (s: Uses<'partition' | 'config'>): DeployedEnv<'snapshot'> => ({ ...member(s), SNAPSHOT_MAX_HOURS: snapshotMaxHours(s) }),
  'share-snapshot': (s: Uses<'partition' | 'hubAccountId' | 'evidenceKeyArn' | 'config'>): DeployedEnv<'share-snapshot'> => ({
    ...member(s),
    HUB_ACCOUNT_ID: s.hubAccountId,
    EVIDENCE_KEY_ARN: s.evidenceKeyArn,
    SNAPSHOT_MAX_HOURS: snapshotMaxHours(s),
  }),
  'await-approval': (s: Uses<'ledgerTable' | 'topicArn'>): DeployedEnv<'await-approval'> => ({ LEDGER_TABLE: s.ledgerTable, TOPIC_ARN: s.topicArn }),
  record: (s: Uses<'partition' | 'ledgerTable' | 'evidenceBucket' | 'topicArn'>): DeployedEnv<'record'> => ({
    ...member(s),
    LEDGER_TABLE: s.ledgerTable,
    EVIDENCE_BUCKET: s.evidenceBucket,
    TOPIC_ARN: s.topicArn,
  }),
  'release-load': (s: Uses<'partition' | 'ledgerTable'>): DeployedEnv<'release-load'> => ({ ...member(s), LEDGER_TABLE: s.ledgerTable }),
  'release-restore': (s: Uses<'partition'>): DeployedEnv<'release-restore'> => member(s),
  'release-record': (s: Uses<'partition' | 'ledgerTable' | 'evidenceBucket' | 'topicArn'>): DeployedEnv<'release-record'> => ({
    ...member(s),
    LEDGER_TABLE: s.ledgerTable,
    EVIDENCE_BUCKET: s.evidenceBucket,
    TOPIC_ARN: s.topicArn,
  }),
} satisfies { readonly [N in FunctionName]: (s: HubSettings) => DeployedEnv<N> };


type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** What {@link environmentFor} needs for function(s) `N`: for a union of names, what all of them need. */
export type SettingsFor<N extends FunctionName> = UnionToIntersection<Parameters<(typeof BUILDERS)[N]>[0]>;

/**
 * The environment of function `name`, as the hub stack sets it.
 * @example environmentFor('isolate', settings) // { PARTITION, RESPONDER_ROLE_NAME, TCP_ESTABLISHED_TIMEOUT, LEDGER_TABLE }
 */
export function environmentFor<N extends FunctionName>(name: N, settings: SettingsFor<N>): DeployedEnv<N> {
  const build = BUILDERS[name] as unknown as (s: SettingsFor<N>) => DeployedEnv<N>;
  return build(settings);
}
