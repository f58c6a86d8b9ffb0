/**
 * The simulated AWS account (docs/design.md §6): enough EC2, IAM, Auto Scaling,
 * ELB, DynamoDB, S3, SNS and Step Functions behaviour that the demo, the e2e
 * tests and the workflow tests can check outcomes (which groups an ENI ends up
 * in, what the role policy denies, what the ledger holds) rather than only
 * which calls were made. Commands reach it through `dispatch`, from the
 * simulator's client factory (./clients.ts) or, in tests, from
 * aws-sdk-client-mock (test/support/fake-aws.ts). Commands it does not model
 * fail loudly.
 *
 * The state is ./core.ts; each service's commands are plain functions in
 * ./services/<service>.ts. To model a new command, add it to its service's
 * handler table; to model a new service, add a module and a row in `table()`.
 */
import { awsError, SimState, type Call, type ServiceHandlers } from './core';
import { autoScalingHandlers } from './services/autoscaling';
import { dynamoDbHandlers } from './services/dynamodb';
import { ebsHandlers } from './services/ebs';
import { ec2Handlers } from './services/ec2';
import { elbv2Handlers } from './services/elbv2';
import { credentialsDenied as deniedNow, credentialsDeniedFrom as deniedFrom, iamHandlers } from './services/iam';
import { s3Handlers } from './services/s3';
import { closeTask as close, openTask as open, sfnHandlers } from './services/sfn';
import { snsHandlers } from './services/sns';

export { DEFAULT_TCP_ESTABLISHED_TIMEOUT } from './core';
export type { Call, EniState, FakeEni, FakeGroup, FakeInstance, FakeRule, FakeSnapshot } from './core';

export class SimAccount extends SimState {
  /** Errors to throw on the next calls of a command, in order. */
  private readonly failures = new Map<string, Error[]>();
  private readonly conditionalFailures: Array<{ command: string; when: (input: Record<string, unknown>) => boolean; name: string; left: number }> = [];
  private handlers?: Record<string, ServiceHandlers>;

  /** Make the next `times` calls of `command` whose input matches `when` fail with an AWS error named `name`. */
  failWhen(command: string, when: (input: Record<string, unknown>) => boolean, name: string, times = 1): void {
    this.conditionalFailures.push({ command, when, name, left: times });
  }

  /** Make the next `times` calls of `command` fail with an AWS error named `name`. */
  failNext(command: string, name: string, times = 1, message?: string): void {
    const list = this.failures.get(command) ?? [];
    for (let i = 0; i < times; i++) list.push(awsError(name, message ?? `${name} (injected)`));
    this.failures.set(command, list);
  }

  callsOf(command: string): Call[] {
    return this.calls.filter((c) => c.command === command);
  }

  indexOf(command: string, predicate: (input: Record<string, unknown>) => boolean = () => true): number {
    return this.calls.findIndex((c) => c.command === command && predicate(c.input));
  }

  // ------------------------------------------------------------------ dispatch
  /** Every modelled command, by service (the SDK client's signing name) and command name (without `Command`). */
  private table(): Record<string, ServiceHandlers> {
    return {
      ec2: { ...ec2Handlers(this), ...ebsHandlers(this) },
      elasticloadbalancing: elbv2Handlers(this),
      iam: iamHandlers(this),
      autoscaling: autoScalingHandlers(this),
      dynamodb: dynamoDbHandlers(this),
      s3: s3Handlers(this),
      sns: snsHandlers(this),
      states: sfnHandlers(this),
    };
  }

  /** Whether the model handles `service`/`command`. */
  models(service: string, command: string): boolean {
    this.handlers ??= this.table();
    return Boolean(this.handlers[service]?.[command]);
  }

  /**
   * Handle one SDK command, as the account `caller` (whose credentials signed it). Anything not
   * modelled fails loudly. Errors carry `$metadata.requestId` as real service errors do.
   */
  async dispatch(service: string, command: string, input: Record<string, unknown>, caller: string): Promise<Record<string, unknown>> {
    this.handlers ??= this.table();
    const handler = this.handlers[service]?.[command];
    if (!handler) throw new Error(`FakeAws: ${service} command not modelled: ${command} ${JSON.stringify(input).slice(0, 200)}`);
    this.caller = caller;
    this.calls.push({ service, command, input: structuredClone(input), account: this.caller, at: this.now().getTime() });
    const requestId = this.requestId();
    const conditional = this.conditionalFailures.find((f) => f.command === command && f.left > 0 && f.when(input));
    if (conditional) {
      conditional.left -= 1;
      throw Object.assign(awsError(conditional.name, `${conditional.name} (injected)`), { $metadata: { requestId, httpStatusCode: 400 } });
    }
    const queued = this.failures.get(command);
    if (queued?.length) {
      const err = queued.shift() as Error & { $metadata?: unknown };
      err.$metadata = { requestId, httpStatusCode: 400 };
      throw err;
    }
    let out: Record<string, unknown>;
    try {
      out = (await handler(input as never)) as Record<string, unknown>;
    } catch (err) {
      // Real service errors carry the request id too.
      if (err instanceof Error && !err.message.startsWith('FakeAws')) Object.assign(err, { $metadata: { requestId, httpStatusCode: 400 } });
      throw err;
    }
    return { ...out, $metadata: { requestId, httpStatusCode: 200 } };
  }

  // ------------------------------------------------------------------ outcome queries
  /** Would a request signed with credentials issued to `instanceId` at `issuedAt` be denied by an inline policy? */
  credentialsDenied(roleName: string, instanceId: string, issuedAt: Date): boolean {
    return deniedNow(this, roleName, instanceId, issuedAt);
  }

  /**
   * The first moment from which such a request is denied, replaying the role's inline-policy
   * history with IAM's propagation delay; undefined if never (so far).
   */
  credentialsDeniedFrom(roleName: string, instanceId: string, issuedAt: Date, propagationMs: number): number | undefined {
    return deniedFrom(this, roleName, instanceId, issuedAt, propagationMs);
  }

  item(pk: string, sk: string): Record<string, unknown> | undefined {
    return this.items.get(`${pk}|${sk}`);
  }

  // ------------------------------------------------------------------ callback tasks (the workflow runner's CallbackBroker)
  /** A task starts waiting on `token` (the workflow runner's waitForTaskToken emulation). */
  openTask(token: string): Promise<unknown> {
    return open(this, token);
  }

  /** The task ended without a callback (it timed out): Step Functions answers later callbacks with TaskTimedOut. */
  closeTask(token: string): void {
    close(this, token);
  }
}
