/**
 * The CLI's AWS layer: SDK errors turned into messages a responder can act on, and hub discovery
 * (flag, then env, then one DescribeStacks).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { explainAwsError, openSession } from '../../../bin/cli/aws';
import { CliError } from '../../../bin/cli/errors';
import { awsError, REGION, RELEASE_MACHINE, RESPONSE_MACHINE, STACK_OUTPUTS, TABLE, testDeps } from './support';

const cfn = mockClient(CloudFormationClient);
const WHAT = 'states:StartExecution on arn:aws:states:eu-west-1:111122223333:stateMachine:X';

describe('explainAwsError', () => {
  it.each([
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'credentials', 1, 'no usable AWS credentials'],
    [Object.assign(new Error('The SSO session associated with this profile has expired'), { name: 'TokenProviderError' }), 'credentials', 1, 'no usable AWS credentials'],
    [awsError('ExpiredTokenException', 'The security token included in the request is expired'), 'credentials', 1, 'your AWS credentials have expired'],
    [awsError('UnrecognizedClientException', 'The security token included in the request is invalid.'), 'credentials', 1, 'AWS did not accept your credentials'],
    [awsError('AccessDeniedException', 'User: arn:aws:iam::111122223333:user/bob is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/T because no identity-based policy allows the dynamodb:GetItem action'), 'access-denied', 1, 'access denied: you may not dynamodb:GetItem on arn:aws:dynamodb:eu-west-1:111122223333:table/T.'],
    [awsError('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111122223333:key/abc because no identity-based policy allows the kms:Decrypt action'), 'access-denied', 1, 'you may not kms:Decrypt on arn:aws:kms:eu-west-1:111122223333:key/abc.'],
    [awsError('AccessDenied', 'Access Denied'), 'access-denied', 1, `access denied: you may not ${WHAT} (Access Denied)`],
    [awsError('ThrottlingException', 'Rate exceeded'), 'throttled', 1, 'AWS throttled or was unavailable'],
    [awsError('InternalServerError', 'oops', 'server'), 'throttled', 1, 'AWS throttled or was unavailable'],
    [awsError('ResourceNotFoundException', 'Requested resource not found'), 'not-found', 2, '(wrong --region, --stack or resource flag?)'],
    [awsError('ExecutionDoesNotExist', 'Execution Does Not Exist'), 'not-found', 2, 'ExecutionDoesNotExist'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND states.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }), 'aws-error', 1, 'could not reach AWS'],
    [awsError('ValidationException', 'bad\u001b[31m input'), 'aws-error', 1, `${WHAT} failed: ValidationException: bad [31m input`],
  ])('%s', (err, kind, exitCode, message) => {
    const e = explainAwsError(err, WHAT);
    expect(e).toBeInstanceOf(CliError);
    expect(e.kind).toBe(kind);
    expect(e.exitCode).toBe(exitCode);
    expect(e.message).toContain(message);
    expect(e.message).not.toContain('\u001b');
  });

  it('keeps a CliError as it is', () => {
    const original = new CliError('refused', 'no');
    expect(explainAwsError(original, WHAT)).toBe(original);
  });

  it('an access-denied error carries the denied action and resource for --json', () => {
    const e = explainAwsError(
      awsError('AccessDeniedException', 'User: x is not authorized to perform: states:DescribeExecution on resource: arn:aws:states:eu-west-1:1:execution:M:e because no identity-based policy allows it'),
      WHAT,
    );
    expect(e.details).toEqual({ action: 'states:DescribeExecution', resource: 'arn:aws:states:eu-west-1:1:execution:M:e' });
  });
});

describe('openSession: hub discovery', () => {
  beforeEach(() => {
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: `CordonHub-${REGION}`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: STACK_OUTPUTS }] });
  });

  it('reads the stack outputs once, however many resources are asked for', async () => {
    const session = await openSession(testDeps(), { json: false });
    expect(session.region).toBe(REGION);
    expect(session.hub.stackName).toBe(`CordonHub-${REGION}`);
    expect(await Promise.all([session.hub.responseStateMachineArn(), session.hub.releaseStateMachineArn(), session.hub.ledgerTable()])).toEqual([RESPONSE_MACHINE, RELEASE_MACHINE, TABLE]);
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
  });

  it('a flag wins over the environment, which wins over the stack', async () => {
    const deps = testDeps({ env: { CORDON_LEDGER_TABLE: 'env-table', CORDON_RELEASE_STATE_MACHINE_ARN: 'arn:env' } });
    const session = await openSession(deps, { json: false, ledgerTable: 'flag-table' });
    expect(await session.hub.ledgerTable()).toBe('flag-table');
    expect(await session.hub.releaseStateMachineArn()).toBe('arn:env');
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 0);
    expect(await session.hub.responseStateMachineArn()).toBe(RESPONSE_MACHINE);
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
  });

  it('a region the SDK resolved that is not a region is refused', async () => {
    const deps = { ...testDeps(), aws: testDeps({ sdkRegion: 'mars-1' }).aws };
    await expect(openSession(deps, { json: false })).rejects.toThrow('the region "mars-1" is not an AWS region such as us-east-1');
  });
});
