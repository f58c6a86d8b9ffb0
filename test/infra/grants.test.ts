/**
 * lib/grants.ts: each function's capabilities become IAM in one place, and a typo in a capability or a
 * function name fails the synth instead of silently dropping a grant.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CordonFunction } from '../../lib/constructs/cordon-function';
import { EvidenceStore } from '../../lib/constructs/evidence-store';
import { FUNCTIONS, type FunctionSpec } from '../../lib/functions';
import { grantCapabilities, type GrantContext } from '../../lib/grants';
import { asArray, cdkJsonContext, flatten, type Statement } from './synth';

function fixture(): { stack: Stack; record: CordonFunction; ctx: GrantContext } {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Grants', { env: { account: '111111111111', region: 'us-east-1' } });
  const store = new EvidenceStore(stack, 'EvidenceStore', { sourceAccounts: ['111111111111'] });
  const record = new CordonFunction(stack, 'Record', { name: 'record', logRetentionDays: 30 });
  return { stack, record, ctx: { store, targetAccounts: ['111111111111'] } };
}

const spec = (name: string, grants: readonly string[]): FunctionSpec => ({ name, grants, description: 'test' }) as unknown as FunctionSpec;

describe('grantCapabilities', () => {
  it('throws on a capability nobody defined, naming it and the known ones', () => {
    const { record, ctx } = fixture();
    expect(() => grantCapabilities({ record }, [spec('record', ['ledger:write', 'ledger:wrte'])], ctx)).toThrow(
      "function 'record': unknown capability 'ledger:wrte' (known: assume:member, ledger:write, evidence:put, topic:publish, evidence:read)",
    );
  });

  it('throws on a function name that was not created, instead of skipping its grants', () => {
    const { record, ctx } = fixture();
    expect(() => grantCapabilities({ record }, [spec('recrod', ['ledger:write'])], ctx)).toThrow(
      "function 'recrod' has grants but was not created (created: record)",
    );
  });

  it("gives record its catalogue entry's grants, assume first, and no EC2 or IAM action", () => {
    const { stack, record, ctx } = fixture();
    grantCapabilities({ record }, FUNCTIONS.filter((f) => f.name === 'record'), ctx);

    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const grantPolicy = Object.entries(policies).find(([id]) => id.startsWith('RecordRoleDefaultPolicy'))?.[1] as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    };
    const statements = grantPolicy.Properties.PolicyDocument.Statement;

    // Its own log group's writes come first (CordonFunction), then the capabilities in CAPABILITIES order.
    const granted = statements.filter((s) => !asArray(s.Action).every((a) => a.startsWith('logs:')));
    expect(granted[0]).toMatchObject({ Sid: 'AssumeCordonResponder', Action: 'sts:AssumeRole' });
    expect(asArray(granted[0]!.Resource).map(flatten)).toEqual(['arn:<AWS::Partition>:iam::111111111111:role/CordonResponder']);
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 's3:PutObject', 'sns:Publish', 's3:GetObject*', 's3:List*']));
    expect(actions.filter((a) => a.startsWith('ec2:') || a.startsWith('iam:'))).toEqual([]);
  });
});
