/**
 * The catalogue of cordon's Lambdas: one folder under `lambdas/` each (`lambdas/<name>/handler.ts`,
 * its environment in `lambdas/<name>/env.ts`). Pure data, no CDK: the simulator reads it too.
 *
 * - The hub stack creates one {@link CordonFunction} per entry with a `workflow`; the Intake and
 *   CordonApi constructs create `intake` and `api`.
 * - lib/environment.ts builds each one's environment; lib/grants.ts resolves its {@link FunctionSpec.grants}.
 * - The member stack trusts the exact role ARNs of those granted `assume:member`.
 * - Each workflow's ASL names its functions through their `${<Placeholder>}` substitution.
 *
 * (The member role these functions assume is `CordonResponder`, {@link RESPONDER_ROLE_NAME}: a deployed
 * contract, so it keeps its name.)
 */

/**
 * What a function's role may do with the hub's shared resources, besides writing its own logs and traces.
 * lib/grants.ts turns each into IAM statements; an unknown one fails the synth.
 * - `assume:member`: assume `CordonResponder` in the target accounts (every EC2 and IAM action goes through it);
 * - `ledger:write`: read and write the incident ledger (and its index);
 * - `evidence:put`: write evidence objects under `incidents/`;
 * - `topic:publish`: publish to the incident topic;
 * - `evidence:read`: read evidence objects under `incidents/` (the manifest lists them with their checksums).
 *
 * Grants on the workflows (intake and the API start them) and the approval gate's are made by the
 * constructs that own those resources (lib/constructs/intake.ts, api.ts, approval-gate.ts).
 */
export const CAPABILITIES = ['assume:member', 'ledger:write', 'evidence:put', 'topic:publish', 'evidence:read'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface FunctionSpec {
  /** Folder under lambdas/, and the stem of the function's role name. */
  readonly name: string;
  /** ASL substitution key carrying this function's ARN, if a workflow calls it. */
  readonly placeholder?: string;
  /** The state machine whose definition holds {@link placeholder}; the hub stack creates the functions that have one. */
  readonly workflow?: 'response' | 'release';
  /** What its role may do (see {@link Capability}); lib/grants.ts applies them in {@link CAPABILITIES} order. */
  readonly grants: readonly Capability[];
  readonly description: string;
}

export const FUNCTIONS = [
  {
    name: 'intake',
    grants: ['evidence:put'],
    description: 'Validates GuardDuty, Security Hub and manual events, decides, and starts the response workflow',
  },
  {
    name: 'api',
    grants: [],
    description: 'The HTTPS API for SOAR platforms: starts responses and releases, and reports their status from the ledger',
  },
  {
    name: 'capture-state',
    placeholder: 'CaptureStateFunctionArn',
    workflow: 'response',
    grants: ['assume:member', 'ledger:write', 'evidence:put'],
    description: 'Captures the instance before-state into the ledger and the evidence bucket',
  },
  {
    name: 'protect',
    placeholder: 'ProtectFunctionArn',
    workflow: 'response',
    grants: ['assume:member'],
    description: 'Detaches the instance from Auto Scaling and turns termination protection on',
  },
  {
    name: 'preserve',
    placeholder: 'PreserveFunctionArn',
    workflow: 'response',
    grants: ['assume:member'],
    description: 'Sets shutdown behaviour to stop, keeps volumes on termination, and deregisters the instance from target groups',
  },
  {
    name: 'collect-evidence',
    placeholder: 'CollectEvidenceFunctionArn',
    workflow: 'response',
    grants: ['assume:member', 'evidence:put'],
    description: 'Stores the instance description, console output and console screenshot in the evidence bucket',
  },
  {
    name: 'isolate',
    placeholder: 'IsolateFunctionArn',
    workflow: 'response',
    // ledger:write: it records the security groups it creates (lambdas/shared/group-records.ts).
    grants: ['assume:member', 'ledger:write'],
    description: 'Prepares isolation security groups and moves each network interface through untrack to isolation',
  },
  {
    name: 'quarantine-role',
    placeholder: 'QuarantineRoleFunctionArn',
    workflow: 'response',
    grants: ['assume:member'],
    description: "Denies the instance's role credentials and disassociates its instance profile",
  },
  {
    name: 'flow-logs',
    placeholder: 'FlowLogsFunctionArn',
    workflow: 'response',
    grants: ['assume:member'],
    description: 'Ensures an ALL-traffic flow log on the VPC, delivered to the evidence bucket',
  },
  {
    name: 'snapshot',
    placeholder: 'SnapshotFunctionArn',
    workflow: 'response',
    grants: ['assume:member'],
    description: 'Creates crash-consistent snapshots of every attached EBS volume and reports their progress',
  },
  {
    name: 'share-snapshot',
    placeholder: 'ShareSnapshotFunctionArn',
    workflow: 'response',
    grants: ['assume:member'],
    description: 'Re-encrypts each snapshot under the evidence key, shares it with the hub, and copies it into the hub',
  },
  {
    name: 'await-approval',
    placeholder: 'AwaitApprovalFunctionArn',
    workflow: 'response',
    // The approval gate grants it the ledger update and the topic (lib/constructs/approval-gate.ts).
    grants: [],
    description: 'Stores the approval gate task token on the response, notifies how to approve or deny, and returns',
  },
  {
    name: 'record',
    placeholder: 'RecordFunctionArn',
    workflow: 'response',
    grants: ['assume:member', 'ledger:write', 'evidence:put', 'topic:publish', 'evidence:read'],
    description: 'Captures the after-state, computes the outcome, writes the ledger and notifies',
  },
  // The release workflow (state-machines/release.asl.json, docs/design.md §3.5).
  {
    name: 'release-load',
    placeholder: 'ReleaseLoadFunctionArn',
    workflow: 'release',
    grants: ['assume:member', 'ledger:write'],
    description: 'Checks that a response can be released, reads its before-state and the instance as it is, and takes the release lock',
  },
  {
    name: 'release-restore',
    placeholder: 'ReleaseRestoreFunctionArn',
    workflow: 'release',
    grants: ['assume:member'],
    description: "Restores each network interface's groups and timeouts, the instance profile and role policy, and the instance attributes",
  },
  {
    name: 'release-record',
    placeholder: 'ReleaseRecordFunctionArn',
    workflow: 'release',
    grants: ['assume:member', 'ledger:write', 'evidence:put', 'topic:publish', 'evidence:read'],
    description: 'Records a release (or its refusal): after-state, release evidence, ledger, manifest and notification',
  },
] as const satisfies readonly FunctionSpec[];

/** Every function's name. */
export type FunctionName = (typeof FUNCTIONS)[number]['name'];
/** A function one of the workflows calls: the hub stack creates these. */
export type WorkflowFunctionSpec = Extract<(typeof FUNCTIONS)[number], { readonly workflow: 'response' | 'release' }>;
export type WorkflowFunctionName = WorkflowFunctionSpec['name'];

/** The functions the hub stack creates: those a workflow calls, in catalogue order. */
export const WORKFLOW_FUNCTIONS: readonly WorkflowFunctionSpec[] = FUNCTIONS.filter(
  (f): f is WorkflowFunctionSpec => 'workflow' in f,
);

/** The functions a workflow's definition names, by their placeholder. */
export function functionsOf(workflow: 'response' | 'release'): WorkflowFunctionSpec[] {
  return WORKFLOW_FUNCTIONS.filter((f) => f.workflow === workflow);
}

/** True when the function assumes `CordonResponder` in target accounts (it holds `assume:member`). */
export function actsInMemberAccounts(spec: FunctionSpec): boolean {
  return spec.grants.includes('assume:member');
}

/** The catalogue entry for a function name. */
export function findFunctionSpec(name: string): FunctionSpec | undefined {
  return FUNCTIONS.find((f) => f.name === name);
}

/** Name of the role the member stack creates and the hub's functions assume (a deployed contract). */
export const RESPONDER_ROLE_NAME = 'CordonResponder';

/** IAM role names are account-global and the hub is deployed per region. */
export function hubRoleName(functionName: string, region: string): string {
  return `cordon-${functionName}-${region}`;
}
