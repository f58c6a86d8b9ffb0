/**
 * The one place a function's {@link Capability} becomes IAM: each capability's grant, and the cdk-nag
 * findings that grant brings, acknowledged on the function's grant policy only (docs/iam.md).
 * A capability or a function name this file doesn't know fails the synth.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CordonFunction } from './constructs/cordon-function';
import { INCIDENT_PREFIX, type EvidenceStore } from './constructs/evidence-store';
import { nagRef } from './constructs/nag';
import { CAPABILITIES, RESPONDER_ROLE_NAME, type Capability, type FunctionSpec } from './functions';

export interface GrantContext {
  /** The hub's ledger, evidence bucket, key and topic. */
  readonly store: EvidenceStore;
  /** The accounts whose `CordonResponder` may be assumed; undefined: any account of {@link organizationId}. */
  readonly targetAccounts: readonly string[] | undefined;
  /** Set with an organization and no member list: `CordonResponder` in any account of it. */
  readonly organizationId?: string;
}

export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Each capability: add its statements to `fn`, and return the findings they bring. */
const CAPABILITY_GRANTS: { readonly [C in Capability]: (fn: CordonFunction, ctx: GrantContext) => readonly Acknowledgement[] } = {
  'assume:member': (fn, { targetAccounts, organizationId }) => {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCordonResponder',
        actions: ['sts:AssumeRole'],
        resources: (targetAccounts ?? ['*']).map((a) => `arn:${Aws.PARTITION}:iam::${a}:role/${RESPONDER_ROLE_NAME}`),
        conditions: targetAccounts ? undefined : { StringEquals: { 'aws:ResourceOrgID': organizationId } },
      }),
    );
    return targetAccounts ? [] : [ORG_ASSUME_ROLE_ACK];
  },
  'ledger:write': (fn, { store }) => {
    store.ledger.grantReadWriteData(fn);
    return [ledgerIndexAck(store), ...EVIDENCE_KEY_ACKS];
  },
  'evidence:put': (fn, { store }) => {
    store.bucket.grantPut(fn, `${INCIDENT_PREFIX}/*`);
    return [...EVIDENCE_KEY_ACKS, ...incidentPutAcks(store)];
  },
  'topic:publish': (fn, { store }) => {
    store.topic.grantPublish(fn);
    return EVIDENCE_KEY_ACKS.filter((a) => a.id.includes('GenerateDataKey'));
  },
  // The manifest lists every evidence object with S3's own SHA-256 (ListObjectsV2 + HeadObject).
  'evidence:read': (fn, { store }) => {
    store.bucket.grantRead(fn, `${INCIDENT_PREFIX}/*`);
    return MANIFEST_READ_ACKS;
  },
};

/**
 * Grant each function what its catalogue entry's `grants` name, in {@link CAPABILITIES} order.
 * @param functions the created functions, by catalogue name
 * @param specs the catalogue entries to grant (each must name a function in `functions`)
 * @throws Error on a spec whose function wasn't created, or a capability nobody defined
 */
export function grantCapabilities(
  functions: Readonly<Record<string, CordonFunction>>,
  specs: readonly FunctionSpec[],
  ctx: GrantContext,
): void {
  for (const spec of specs) {
    const unknown = spec.grants.filter((c) => !Object.hasOwn(CAPABILITY_GRANTS, c));
    if (unknown.length > 0) {
      throw new Error(`function '${spec.name}': unknown capability ${unknown.map((c) => `'${c}'`).join(', ')} (known: ${CAPABILITIES.join(', ')})`);
    }
    if (spec.grants.length === 0) continue;
    const fn = functions[spec.name];
    if (!fn) {
      throw new Error(
        `function '${spec.name}' has grants but was not created (created: ${Object.keys(functions).join(', ')}); ` +
          'fix the name in lib/functions.ts or create the function before granting',
      );
    }
    const acks = new Map<string, Acknowledgement>();
    for (const capability of CAPABILITIES) {
      if (!spec.grants.includes(capability)) continue;
      for (const ack of CAPABILITY_GRANTS[capability](fn, ctx)) if (!acks.has(ack.id)) acks.set(ack.id, ack);
    }
    acknowledgePolicy(fn, [...acks.values()]);
  }
}

/** Acknowledge findings on the function's grant policy (its role's DefaultPolicy), never wider. */
function acknowledgePolicy(fn: CordonFunction, acks: readonly Acknowledgement[]): void {
  if (acks.length === 0) return;
  const policy = fn.executionRole.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${fn.node.path}: no DefaultPolicy to acknowledge findings on`);
  Validations.of(policy).acknowledge(...acks);
}

/** Findings of the evidence-key grants that grantReadWriteData / grantPut / grantPublish add (docs/iam.md). */
const EVIDENCE_KEY_ACKS: readonly Acknowledgement[] = [
  {
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'Added by the ledger/bucket/topic grants, on the evidence key only: data keys for SSE-KMS writes',
  },
  {
    id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    reason: 'Added by the ledger/bucket grants, on the evidence key only; no other key is reachable',
  },
];

/** grantReadWriteData covers the ledger's indexes (`<table>/index/*`): only `byResponseId` exists. */
function ledgerIndexAck(store: EvidenceStore): Acknowledgement {
  return {
    id: `AwsSolutions-IAM5[Resource::${nagRef(store.ledger)}/index/*]`,
    reason: "Added by the ledger's grantReadWriteData: the ledger's own indexes (only byResponseId), no other table",
  };
}

/** Findings of `bucket.grantPut(fn, 'incidents/*')` (docs/iam.md). */
function incidentPutAcks(store: EvidenceStore): Acknowledgement[] {
  return [
    {
      id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
      reason: 'grantPut: abort multipart uploads of incident evidence only; deletes stay denied by the bucket policy',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${nagRef(store.bucket)}/${INCIDENT_PREFIX}/*]`,
      reason: 'Evidence keys are per incident (incidents/<id>/…); writes are limited to that prefix',
    },
  ];
}

/** Findings of `bucket.grantRead(fn, 'incidents/*')`, which the manifest writer needs (docs/iam.md). */
const MANIFEST_READ_ACKS: readonly Acknowledgement[] = [
  { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: 'grantRead: HeadObject with the stored SHA-256 checksum, for the manifest; incidents/ only' },
  { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', reason: 'grantRead adds bucket-level reads; they apply to the evidence bucket only' },
  { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: 'grantRead: ListObjectsV2 of an incident prefix, for the manifest; evidence bucket only' },
];

const ORG_ASSUME_ROLE_ACK: Acknowledgement = {
  id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${RESPONDER_ROLE_NAME}]`,
  reason:
    'Organization mode without a member list: CordonResponder in any account of the organization, enforced by aws:ResourceOrgID and by the member trust policy',
};
