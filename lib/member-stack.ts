import { Aws, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ACTIONS } from '../lambdas/shared/actions';
import { ACTION_INFRA, checkActionInfra } from './action-infra';
import type { CordonConfig } from './config';
import { FUNCTIONS, RESPONDER_ROLE_NAME, actsInMemberAccounts, hubRoleName } from './functions';
import {
  describeStatements,
  guardStatements,
  memberPolicyContext,
  responseStatements,
  wildcardAcknowledgements,
} from './member-permissions';

export { DENIED_ACTIONS, MANAGED_TAG_KEY, MANAGED_TAG_VALUE, TEMPORARY_TAG_KEY } from './member-permissions';

export interface CordonMemberStackProps extends StackProps {
  /** The parsed configuration (lib/config.ts `loadConfig`). */
  readonly config: CordonConfig;
}

/**
 * The member side (docs/design.md §1): deployed once per account (one region; IAM is
 * global), the hub account included. Creates `CordonResponder`, trusted only by
 * the hub's Lambda roles that act in member accounts (exact ARNs for every
 * configured region, plus `aws:PrincipalOrgID` with an organization), holding
 * only what containment needs (lib/member-permissions.ts, lib/action-infra.ts). Every remaining wildcard
 * is listed in docs/iam.md.
 */
export class CordonMemberStack extends Stack {
  public readonly role: iam.Role;
  /** The exact hub role ARNs trusted to assume {@link role}. */
  public readonly trustedRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: CordonMemberStackProps) {
    super(scope, id, props);
    const { config } = props;
    const hubAccount = config.hubAccount ?? this.account;
    const partition = Aws.PARTITION;
    // Always the pseudo parameter, so the acknowledged finding ids do not depend on the synth environment.
    const account = Aws.ACCOUNT_ID;

    this.trustedRoleArns = config.regions.flatMap((region) =>
      FUNCTIONS.filter(actsInMemberAccounts).map((f) => `arn:${partition}:iam::${hubAccount}:role/${hubRoleName(f.name, region)}`),
    );
    const trustConditions: Record<string, Record<string, unknown>> = {
      ArnEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns] },
    };
    if (config.organizationId) {
      trustConditions.StringEquals = { 'aws:PrincipalOrgID': config.organizationId };
    }

    this.role = new iam.Role(this, 'Responder', {
      roleName: RESPONDER_ROLE_NAME,
      description: 'cordon: contains compromised EC2 instances on behalf of the cordon hub (docs/iam.md)',
      assumedBy: new iam.AccountPrincipal(hubAccount).withConditions(trustConditions),
      maxSessionDuration: Duration.hours(1),
    });

    // The policy: what every response reads and does, each containment action's own permissions (ACTION_INFRA,
    // in ACTION_SPECS order), then the denies.
    checkActionInfra();
    const c = memberPolicyContext(partition, account, hubAccount, config.regions, config.evidenceKeyArns, config.protectedRoles);
    const statements = [
      ...describeStatements(c),
      ...ACTIONS.flatMap((action) => ACTION_INFRA[action].memberStatements(c)),
      ...responseStatements(c),
      ...guardStatements(c),
    ];
    const policy = new iam.Policy(this, 'ResponderPolicy', {
      policyName: 'cordon-containment',
      roles: [this.role],
      statements,
    });

    Validations.of(policy).acknowledge(...wildcardAcknowledgements(config.regions, hubAccount, c.aliasKeyRegions));
  }
}
