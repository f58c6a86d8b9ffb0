import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { decideAll, DEFAULT_INTAKE_POLICY, IntakePolicy } from '../../../lambdas/intake/decide';
import {
  executionArnFor,
  executionName,
  runIntake,
  type IntakeDeps,
  type IntakeLogger,
} from '../../../lambdas/intake/intake';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { loadEvent } from './fixtures';
import { ACTIONS } from '../../../lambdas/shared/actions';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:CordonResponse';
const executionArn = (name: string): string => `arn:aws:states:us-east-1:123456789012:execution:CordonResponse:${name}`;

const sfnMock = mockClient(SFNClient);

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

function recordingLogger(): IntakeLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (message, attributes) => void lines.push({ level: 'info', message, attributes }),
    warn: (message, attributes) => void lines.push({ level: 'warn', message, attributes }),
    error: (message, attributes) => void lines.push({ level: 'error', message, attributes }),
  };
}

function deps(log = recordingLogger(), policy: IntakePolicy = DEFAULT_INTAKE_POLICY): IntakeDeps & { log: ReturnType<typeof recordingLogger> } {
  return { sfn: new SFNClient({ region: 'us-east-1' }), stateMachineArn: STATE_MACHINE_ARN, policy, log };
}

function startInputs(): { stateMachineArn?: string; name?: string; input: unknown }[] {
  return sfnMock.commandCalls(StartExecutionCommand).map((c) => {
    const { stateMachineArn, name, input } = c.args[0].input;
    return { stateMachineArn, name, input: JSON.parse(input ?? 'null') };
  });
}

function awsError<T extends Error>(error: T, status: number): T {
  return Object.assign(error, { $metadata: { httpStatusCode: status } });
}

beforeEach(() => {
  sfnMock.reset();
});

describe('runIntake', () => {
  it('starts one execution named after the event id, with the ResponseRequest as input', async () => {
    const event = loadEvent('gd-backdoor-cc-activity-dns.json');
    const id = '0b7c1d2e-3f40-4a51-8b62-c73d84e95fa1';
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: executionArn(id), startDate: new Date(0) });

    const summary = await runIntake(event, deps());

    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock.calls()).toHaveLength(1);
    expect(startInputs()).toEqual([
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: id,
        input: {
          requestId: id,
          source: 'guardduty',
          target: { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' },
          finding: {
            id: 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7',
            type: 'Backdoor:EC2/C&CActivity.B!DNS',
            severity: 8,
            title: 'Command and Control server domain name queried by EC2 instance i-0123456789abcdef0.',
            updatedAt: '2026-03-02T09:09:55.103Z',
          },
          actions: [...ACTIONS],
          reason: 'GuardDuty Backdoor:EC2/C&CActivity.B!DNS (severity 8) on i-0123456789abcdef0',
          requestedBy: 'guardduty:76807ee28899d9276d7066be0fc08d87',
        },
      },
    ]);
    const [decision] = decideAll(event);
    expect(decision?.decision === 'respond' && startInputs()[0]?.input).toEqual(decision?.decision === 'respond' && decision.request);
    expect(summary.executions).toEqual([{ requestId: id, name: id, executionArn: executionArn(id), status: 'started' }]);
    expect(summary.conflicts).toEqual([]);
    expect(summary.decisions.map((d) => d.decision)).toEqual(['respond']);
  });

  it.each([
    'gd-ssh-bruteforce-inbound.json',
    'gd-sample-additionalinfo-value.json',
    'sh-no-ec2-resource.json',
    'reject-instance-id-shell-metacharacters.json',
    'reject-array.json',
    'reject-unknown-source.json',
  ])('starts nothing for %s, logs the decision and does not throw', async (file) => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'unused', startDate: new Date(0) });
    const d = deps();
    const summary = await runIntake(loadEvent(file), d);

    expect(sfnMock.calls()).toHaveLength(0);
    expect(summary.executions).toEqual([]);
    const [decision] = summary.decisions;
    expect(summary.decisions).toHaveLength(1);
    expect(decision?.decision).toBe(file.startsWith('reject-') ? 'reject' : 'ignore');
    expect(d.log.lines).toEqual([
      {
        level: decision?.decision === 'reject' ? 'warn' : 'info',
        message: 'intake decision',
        attributes: { decision: decision?.decision, reason: decision?.reason },
      },
    ]);
  });

  it('logs no secrets or raw event content for a respond', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: executionArn('x'), startDate: new Date(0) });
    const d = deps();
    await runIntake(loadEvent('gd-credential-exfiltration-outside-aws.json'), d);
    const logged = JSON.stringify(d.log.lines);
    expect(logged).not.toContain('ASIAEXAMPLEEXAMPLE01');
    expect(logged).not.toContain('203.0.113.50');
    expect(d.log.lines.map((l) => `${l.level} ${l.message}`)).toEqual(['info intake decision', 'info intake started execution']);
  });

  it('starts two executions for a Security Hub action on two instances', async () => {
    const id = '8a5b9c0d-1e2f-4031-a425-b6c7d8e9f001';
    sfnMock
      .on(StartExecutionCommand, { name: `${id}-0` })
      .resolves({ executionArn: executionArn(`${id}-0`), startDate: new Date(0) })
      .on(StartExecutionCommand, { name: `${id}-1` })
      .resolves({ executionArn: executionArn(`${id}-1`), startDate: new Date(0) });

    const summary = await runIntake(loadEvent('sh-custom-action-two-instances.json'), deps());

    const inputs = startInputs();
    expect(inputs.map((i) => [i.stateMachineArn, i.name])).toEqual([
      [STATE_MACHINE_ARN, `${id}-0`],
      [STATE_MACHINE_ARN, `${id}-1`],
    ]);
    expect(inputs.map((i) => (i.input as { target: unknown }).target)).toEqual([
      { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' },
      { accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0a1b2c3d4e5f60718' },
    ]);
    expect(inputs.map((i) => (i.input as { source: unknown; requestId: unknown }).requestId)).toEqual([`${id}-0`, `${id}-1`]);
    expect(summary.executions).toEqual([
      { requestId: `${id}-0`, name: `${id}-0`, executionArn: executionArn(`${id}-0`), status: 'started' },
      { requestId: `${id}-1`, name: `${id}-1`, executionArn: executionArn(`${id}-1`), status: 'started' },
    ]);
  });

  it('starts one execution per instance of a mixed Security Hub action, ignoring the finding without one', async () => {
    const id = '4e7a1c2b-9d3f-4a6e-8b1c-2d3e4f5a6b7c';
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name) }));
    const d = deps();

    const summary = await runIntake(loadEvent('sh-custom-action-mixed.json'), d);

    expect(startInputs().map((i) => [i.name, (i.input as { target: unknown }).target, (i.input as { source: unknown }).source])).toEqual([
      [`${id}-0`, { accountId: '111122223333', region: 'us-east-1', instanceId: 'i-0b1c2d3e4f5a6b7c8' }, 'securityhub'],
      [`${id}-2`, { accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0c1d2e3f4a5b6c7d8' }, 'securityhub'],
      [`${id}-3`, { accountId: '444455556666', region: 'eu-west-1', instanceId: 'i-0d1e2f3a4b5c6d7e8' }, 'securityhub'],
    ]);
    expect(summary.decisions.map((x) => x.decision)).toEqual(['respond', 'ignore', 'respond', 'respond']);
    expect(summary.conflicts).toEqual([]);
    expect(d.log.lines.filter((l) => l.attributes.decision === 'ignore').map((l) => l.attributes.reason)).toEqual([
      'detail.findings.1.Resources: the finding names no AwsEc2Instance resource; nothing to contain',
    ]);
  });

  describe('ExecutionAlreadyExists', () => {
    const event = (): unknown => loadEvent('gd-portscan-outbound.json');
    const id = '6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10';
    const alreadyExists = (): ExecutionAlreadyExists =>
      awsError(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }), 400);

    it('a different input is reported as a conflict, not swallowed', async () => {
      sfnMock.on(StartExecutionCommand).rejects(alreadyExists());
      sfnMock.on(DescribeExecutionCommand).resolves({
        executionArn: executionArn(id),
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'RUNNING',
        startDate: new Date(0),
        input: JSON.stringify({ requestId: id, target: { instanceId: 'i-0ffffffffffffffff' } }),
      });
      const d = deps();

      const summary = await runIntake(event(), d);

      expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: executionArn(id) });
      expect(summary.executions).toEqual([]);
      expect(summary.conflicts).toEqual([
        { requestId: id, name: id, executionArn: executionArn(id), reason: `execution ${id} already exists with a different input` },
      ]);
      expect(d.log.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual(['intake execution conflict']);
    });

    it('the same input (a redelivery after the execution closed) is a duplicate', async () => {
      const [decision] = decideAll(event());
      if (decision?.decision !== 'respond') throw new Error('fixture must respond');
      // Same content, different key order: inputs are compared as JSON, not as text.
      const reordered = JSON.stringify(Object.fromEntries(Object.entries(decision.request).reverse()));
      expect(reordered).not.toBe(JSON.stringify(decision.request));
      sfnMock.on(StartExecutionCommand).rejects(alreadyExists());
      sfnMock.on(DescribeExecutionCommand).resolves({
        executionArn: executionArn(id),
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'SUCCEEDED',
        startDate: new Date(0),
        input: reordered,
      });

      const summary = await runIntake(event(), deps());

      expect(summary.conflicts).toEqual([]);
      expect(summary.executions).toEqual([{ requestId: id, name: id, executionArn: executionArn(id), status: 'duplicate' }]);
    });

    it('an input that cannot be read is reported as a conflict', async () => {
      sfnMock.on(StartExecutionCommand).rejects(alreadyExists());
      sfnMock
        .on(DescribeExecutionCommand)
        .rejects(awsError(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }), 400));

      const summary = await runIntake(event(), deps());

      expect(summary.conflicts).toEqual([
        {
          requestId: id,
          name: id,
          executionArn: executionArn(id),
          reason: `execution ${id} already exists; its input could not be read (AccessDeniedException)`,
        },
      ]);
    });
  });

  it('rethrows throttling as TransientAwsError so EventBridge/Lambda retry', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(awsError(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 400));

    const run = runIntake(loadEvent('gd-backdoor-cc-activity-dns.json'), deps());

    await expect(run).rejects.toBeInstanceOf(TransientAwsError);
    await expect(run).rejects.toMatchObject({ name: 'TransientAwsError', message: 'ThrottlingException: Rate exceeded' });
  });

  it('rethrows a 5xx as TransientAwsError', async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError(Object.assign(new Error('oops'), { name: 'InternalError' }), 500));
    await expect(runIntake(loadEvent('gd-backdoor-cc-activity-dns.json'), deps())).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
  });

  it('rethrows a configuration error as it is', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(awsError(new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} }), 400));
    await expect(runIntake(loadEvent('gd-backdoor-cc-activity-dns.json'), deps())).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
  });

  it('applies the policy it is given', async () => {
    const summary = await runIntake(
      loadEvent('gd-backdoor-cc-activity-dns.json'),
      deps(recordingLogger(), IntakePolicy.parse({ allowedAccounts: ['999999999999'] })),
    );
    expect(sfnMock.calls()).toHaveLength(0);
    expect(summary.decisions.map((d) => d.decision)).toEqual(['reject']);
  });
});

describe('executionName', () => {
  it('keeps a request id that is already a valid name', () => {
    expect(executionName('6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10')).toBe('6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10');
    expect(executionName('6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10-12')).toBe('6f1c2a77-90d4-4b7e-a0c1-5d2e8f3b9a10-12');
  });

  it('sanitises and suffixes a digest, so ids that sanitise alike stay distinct', () => {
    const a = executionName('ir-2026.0042');
    const b = executionName('ir-2026:0042');
    expect(a).toMatch(/^ir-2026_0042-[0-9a-f]{16}$/);
    expect(b).toMatch(/^ir-2026_0042-[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(executionName('ir-2026.0042')).toBe(a);
  });

  it('bounds long ids to 80 characters, deterministically', () => {
    const long = 'a'.repeat(128);
    const name = executionName(long);
    expect(name).toHaveLength(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionName(long)).toBe(name);
    expect(executionName(`${'a'.repeat(127)}b`)).not.toBe(name);
  });
});

describe('executionArnFor', () => {
  it('maps a state machine (with or without a qualifier) to its execution ARN', () => {
    expect(executionArnFor(STATE_MACHINE_ARN, 'n1')).toBe(executionArn('n1'));
    expect(executionArnFor(`${STATE_MACHINE_ARN}:live`, 'n1')).toBe(executionArn('n1'));
    expect(executionArnFor('arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:M', 'n')).toBe(
      'arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:M:n',
    );
    expect(executionArnFor('not-an-arn', 'n')).toBeUndefined();
  });
});

describe('handler', () => {
  const ENV = {
    STATE_MACHINE_ARN,
    INTAKE_POLICY: JSON.stringify({ severityThreshold: 5, allowedAccounts: ['111122223333'] }),
  };
  const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT'; // before the handler module creates its Logger
  });
  afterAll(() => {
    if (savedLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  });

  it('loadIntakeConfig parses the policy and fails loudly on a bad one', async () => {
    const { loadIntakeConfig } = await import('../../../lambdas/intake/handler');
    expect(loadIntakeConfig(ENV)).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      policy: { severityThreshold: 5, allowTypes: [], denyTypes: [], allowedAccounts: ['111122223333'] },
    });
    expect(() => loadIntakeConfig({ INTAKE_POLICY: '{}' })).toThrow('Environment variable STATE_MACHINE_ARN is not set');
    expect(() => loadIntakeConfig({ STATE_MACHINE_ARN })).toThrow('Environment variable INTAKE_POLICY is not set');
    expect(() => loadIntakeConfig({ ...ENV, INTAKE_POLICY: '{severity' })).toThrow('INTAKE_POLICY is not valid JSON');
    expect(() => loadIntakeConfig({ ...ENV, INTAKE_POLICY: '{"severityThreshold":"high"}' })).toThrow(
      'INTAKE_POLICY is invalid: severityThreshold:',
    );
  });

  it('runs intake and fails the invocation on a conflict', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, ENV);
    try {
      const { handler } = await import('../../../lambdas/intake/handler');
      const id = '0b7c1d2e-3f40-4a51-8b62-c73d84e95fa1';
      sfnMock.on(StartExecutionCommand).resolves({ executionArn: executionArn(id), startDate: new Date(0) });
      const summary = await handler(loadEvent('gd-backdoor-cc-activity-dns.json'));
      expect(summary.executions).toEqual([{ requestId: id, name: id, executionArn: executionArn(id), status: 'started' }]);

      sfnMock.reset();
      sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
      sfnMock.on(DescribeExecutionCommand).resolves({
        input: '{}',
        executionArn: executionArn(id),
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'RUNNING',
        startDate: new Date(0),
      });
      await expect(handler(loadEvent('gd-backdoor-cc-activity-dns.json'))).rejects.toMatchObject({
        name: 'ExecutionConflictError',
        message: `${id}: execution ${id} already exists with a different input`,
      });
    } finally {
      process.env = saved;
    }
  });
});
