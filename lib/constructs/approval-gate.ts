import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RESPONSE_INDEX } from '../../lambdas/shared/ledger';
import type { EvidenceStore } from './evidence-store';
import type { CordonFunction } from './cordon-function';

/** The key actions DynamoDB and SNS use on the caller's behalf for the ledger and topic (encrypted with the evidence key). */
const KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];

export interface ApprovalGateProps {
  /** The `await-approval` function: stores the task token on the response and notifies. */
  readonly requester: CordonFunction;
  /** The ledger (where the token waits), the topic (the "approval needed" message) and their key. */
  readonly store: EvidenceStore;
  /** The response workflow whose callback task waits for the decision. */
  readonly stateMachine: sfn.IStateMachine;
}

/**
 * The approval gate's permissions (docs/approval.md, docs/iam.md). The state machine's role may
 * invoke the requester like any workflow function (ResponseWorkflow grants it: it has a placeholder). Here:
 *
 * - the requester may update ledger items (`dynamodb:UpdateItem` on the table itself: no index, no
 *   read) and publish to the topic, with the key actions those need;
 * - {@link grantDecide} gives a decider (the API's function, or a responder's role for the CLI)
 *   exactly what `submitApprovalDecision` calls: Query on `byResponseId`, GetItem and UpdateItem on
 *   the ledger, the key actions DynamoDB uses for them (through DynamoDB only), and
 *   `states:SendTaskSuccess` on this state machine only.
 */
export class ApprovalGate extends Construct {
  public readonly requester: CordonFunction;
  private readonly store: EvidenceStore;
  private readonly stateMachine: sfn.IStateMachine;

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    this.requester = props.requester;
    this.store = props.store;
    this.stateMachine = props.stateMachine;
    const { ledger, key, topic } = props.store;

    props.requester.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StorePendingApproval',
        actions: ['dynamodb:UpdateItem'],
        resources: [ledger.tableArn],
      }),
    );
    props.requester.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'LedgerAndTopicEncryption',
        actions: KEY_ACTIONS,
        resources: [key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': [`dynamodb.${Stack.of(this).region}.amazonaws.com`, `sns.${Stack.of(this).region}.amazonaws.com`],
          },
        },
      }),
    );
    props.requester.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'NotifyApprovalNeeded', actions: ['sns:Publish'], resources: [topic.topicArn] }),
    );
  }

  /**
   * Let `grantee` approve or deny responses (submitApprovalDecision, lambdas/shared/approval.ts):
   * exact actions on exact resources, so no cdk-nag finding to acknowledge.
   */
  public grantDecide(grantee: iam.IGrantable): void {
    const { ledger, key } = this.store;
    const region = Stack.of(this).region;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [`${ledger.tableArn}/index/${RESPONSE_INDEX}`],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resourceArns: [ledger.tableArn] });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: KEY_ACTIONS,
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    );
    iam.Grant.addToPrincipal({ grantee, actions: ['states:SendTaskSuccess'], resourceArns: [this.stateMachine.stateMachineArn] });
  }
}
