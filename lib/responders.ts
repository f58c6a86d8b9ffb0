/**
 * The catalogue of cordon's Lambdas: one folder under `lambdas/` each.
 * The hub stack creates one ResponderFunction per entry, the member stack trusts
 * the exact role ARNs of the ones that act in member accounts, and the workflow
 * ASL names each function through its `${<Placeholder>}` substitution.
 */
export interface ResponderSpec {
  /** Folder under lambdas/, and the stem of the function's role name. */
  readonly name: string;
  /** ASL substitution key carrying this function's ARN, if a workflow calls it. */
  readonly placeholder?: string;
  /**
   * The state machine whose definition holds {@link placeholder}.
   * @default 'response' (state-machines/response.asl.json)
   */
  readonly workflow?: 'response' | 'release';
  /** True when the function assumes `CordonResponder` in the target account. */
  readonly actsInMemberAccounts: boolean;
  readonly description: string;
}

export const RESPONDERS: readonly ResponderSpec[] = [
  {
    name: 'intake',
    actsInMemberAccounts: false,
    description: 'Validates GuardDuty, Security Hub and manual events, decides, and starts the response workflow',
  },
  {
    name: 'capture-state',
    placeholder: 'CaptureStateFunctionArn',
    actsInMemberAccounts: true,
    description: 'Captures the instance before-state into the ledger and the evidence bucket',
  },
  {
    name: 'protect',
    placeholder: 'ProtectFunctionArn',
    actsInMemberAccounts: true,
    description: 'Detaches the instance from Auto Scaling and turns termination protection on',
  },
  {
    name: 'preserve',
    placeholder: 'PreserveFunctionArn',
    actsInMemberAccounts: true,
    description: 'Sets shutdown behaviour to stop, keeps volumes on termination, and deregisters the instance from target groups',
  },
  {
    name: 'collect-evidence',
    placeholder: 'CollectEvidenceFunctionArn',
    actsInMemberAccounts: true,
    description: 'Stores the instance description, console output and console screenshot in the evidence bucket',
  },
  {
    name: 'isolate',
    placeholder: 'IsolateFunctionArn',
    actsInMemberAccounts: true,
    description: 'Prepares isolation security groups and moves each network interface through untrack to isolation',
  },
  {
    name: 'quarantine-role',
    placeholder: 'QuarantineRoleFunctionArn',
    actsInMemberAccounts: true,
    description: "Denies the instance's role credentials and disassociates its instance profile",
  },
  {
    name: 'flow-logs',
    placeholder: 'FlowLogsFunctionArn',
    actsInMemberAccounts: true,
    description: 'Ensures an ALL-traffic flow log on the VPC, delivered to the evidence bucket',
  },
  {
    name: 'snapshot',
    placeholder: 'SnapshotFunctionArn',
    actsInMemberAccounts: true,
    description: 'Creates crash-consistent snapshots of every attached EBS volume and reports their progress',
  },
  {
    name: 'share-snapshot',
    placeholder: 'ShareSnapshotFunctionArn',
    actsInMemberAccounts: true,
    description: 'Re-encrypts each snapshot under the evidence key, shares it with the hub, and copies it into the hub',
  },
  {
    name: 'await-approval',
    placeholder: 'AwaitApprovalFunctionArn',
    actsInMemberAccounts: false,
    description: 'Stores the approval gate task token on the response, notifies how to approve or deny, and returns',
  },
  {
    name: 'record',
    placeholder: 'RecordFunctionArn',
    actsInMemberAccounts: true,
    description: 'Captures the after-state, computes the outcome, writes the ledger and notifies',
  },
  // The release workflow (state-machines/release.asl.json, DESIGN.md §3 "Release").
  {
    name: 'release-load',
    placeholder: 'ReleaseLoadFunctionArn',
    workflow: 'release',
    actsInMemberAccounts: true,
    description: 'Checks that a response can be released, reads its before-state and the instance as it is, and takes the release lock',
  },
  {
    name: 'release-restore',
    placeholder: 'ReleaseRestoreFunctionArn',
    workflow: 'release',
    actsInMemberAccounts: true,
    description: "Restores each network interface's groups and timeouts, the instance profile and role policy, and the instance attributes",
  },
  {
    name: 'release-record',
    placeholder: 'ReleaseRecordFunctionArn',
    workflow: 'release',
    actsInMemberAccounts: true,
    description: 'Records a release (or its refusal): after-state, release evidence, ledger, manifest and notification',
  },
];

/** The responders a workflow's definition names, by their placeholder. */
export function respondersOf(workflow: 'response' | 'release'): ResponderSpec[] {
  return RESPONDERS.filter((r) => r.placeholder && (r.workflow ?? 'response') === workflow);
}

/**
 * Lambdas their own construct creates, outside the hub stack's loop over `RESPONDERS`: the hub
 * doesn't make them for the response workflow, and member stacks never trust them (none acts in
 * member accounts). Same conventions otherwise: `lambdas/<name>/handler.ts`, role `cordon-<name>-<region>`.
 */
export const CONSTRUCT_FUNCTIONS: readonly ResponderSpec[] = [
  {
    name: 'api',
    actsInMemberAccounts: false,
    description: 'The HTTPS API for SOAR platforms: starts responses and releases, and reports their status from the ledger',
  },
];

/** The catalogue entry for a function name, from `RESPONDERS` or `CONSTRUCT_FUNCTIONS`. */
export function findResponderSpec(name: string): ResponderSpec | undefined {
  return RESPONDERS.find((r) => r.name === name) ?? CONSTRUCT_FUNCTIONS.find((r) => r.name === name);
}

/** Name of the role the member stack creates and the hub assumes (contract). */
export const RESPONDER_ROLE_NAME = 'CordonResponder';

/** IAM role names are account-global and the hub is deployed per region. */
export function hubRoleName(responder: string, region: string): string {
  return `cordon-${responder}-${region}`;
}
