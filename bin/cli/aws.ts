/**
 * AWS for the CLI: the clients, the session (resolved region, caller identity) and the hub's
 * resources discovered from the `CordonHub-<region>` stack outputs, plus the translation of SDK
 * errors into messages a responder can act on. Nothing is cached on disk.
 *
 * Resource precedence: the explicit flag, then the environment variable, then the stack output.
 *   response workflow  --state-machine-arn          CORDON_RESPONSE_STATE_MACHINE_ARN  ResponseStateMachineArn
 *   release workflow   --release-state-machine-arn  CORDON_RELEASE_STATE_MACHINE_ARN   ReleaseStateMachineArn
 *   incident ledger    --table                      CORDON_LEDGER_TABLE                LedgerTableName
 *   the stack itself   --stack                      CORDON_STACK                       CordonHub-<region>
 * DescribeStacks is called at most once per run, and only when something is not given explicitly.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isTransient } from '../../lambdas/shared/errors';
import { AccountId, Region } from '../../lambdas/shared/schemas';
import type { AwsFlags } from './args';
import type { CliDeps } from './deps';
import { CliError } from './errors';

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

export interface AwsClients {
  readonly sts: STSClient;
  readonly cloudformation: CloudFormationClient;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
}

/** The SDK's standard retry mode with a few more attempts than its default 3: a responder would rather wait than retry by hand. */
const MAX_ATTEMPTS = 5;

export function productionClients(options: AwsOptions): AwsClients {
  const config = {
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    maxAttempts: MAX_ATTEMPTS,
  };
  return {
    sts: new STSClient(config),
    cloudformation: new CloudFormationClient(config),
    sfn: new SFNClient(config),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } }),
  };
}

export const STACK_OUTPUTS = {
  responseStateMachineArn: 'ResponseStateMachineArn',
  releaseStateMachineArn: 'ReleaseStateMachineArn',
  ledgerTable: 'LedgerTableName',
} as const;

export const ENV = {
  stack: 'CORDON_STACK',
  responseStateMachineArn: 'CORDON_RESPONSE_STATE_MACHINE_ARN',
  releaseStateMachineArn: 'CORDON_RELEASE_STATE_MACHINE_ARN',
  ledgerTable: 'CORDON_LEDGER_TABLE',
} as const;

export const hubStackName = (region: string): string => `CordonHub-${region}`;

export interface Caller {
  readonly account: string;
  readonly arn: string;
}

export interface Hub {
  readonly stackName: string;
  readonly responseStateMachineArn: () => Promise<string>;
  readonly releaseStateMachineArn: () => Promise<string>;
  readonly ledgerTable: () => Promise<string>;
}

export interface Session {
  readonly clients: AwsClients;
  /** The region every call goes to: the hub's region. */
  readonly region: string;
  /** Who is calling (STS GetCallerIdentity, which needs no permission), asked once. */
  readonly caller: () => Promise<Caller>;
  readonly hub: Hub;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

/** Open a session: clients for the region and profile, the region resolved (or a clear error). */
export async function openSession(deps: CliDeps, flags: AwsFlags): Promise<Session> {
  if (flags.region !== undefined) checkRegion(flags.region, '--region');
  // The SDK reads AWS_REGION and the profile; AWS_DEFAULT_REGION is the AWS CLI's, honoured here too.
  const region = flags.region ?? (deps.env.AWS_REGION ? undefined : deps.env.AWS_DEFAULT_REGION || undefined);
  const clients = await deps.aws({
    ...(region !== undefined ? { region } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
  });
  const resolved = await resolveRegion(clients);

  const caller = once(async (): Promise<Caller> => {
    const out = await call('sts:GetCallerIdentity', () => clients.sts.send(new GetCallerIdentityCommand({})));
    if (!out.Account || !out.Arn) throw new CliError('aws-error', 'sts:GetCallerIdentity returned no account or ARN');
    return { account: out.Account, arn: out.Arn };
  });

  const stackName = flags.stack ?? (deps.env[ENV.stack] || undefined) ?? hubStackName(resolved);
  const outputs = once(async (): Promise<Output[]> => {
    const what = `cloudformation:DescribeStacks on stack ${stackName} in ${resolved}`;
    try {
      const out = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
      const stack = out.Stacks?.[0];
      if (!stack) throw stackNotFound(stackName, resolved);
      return stack.Outputs ?? [];
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) throw stackNotFound(stackName, resolved);
      throw explainAwsError(err, what);
    }
  });
  const resource = (key: keyof typeof STACK_OUTPUTS, explicit: string | undefined, flagName: string) =>
    once(async (): Promise<string> => {
      const given = explicit ?? (deps.env[ENV[key]] || undefined);
      if (given !== undefined) return given;
      const name = STACK_OUTPUTS[key];
      const value = (await outputs()).find((o) => o.OutputKey === name)?.OutputValue;
      if (!value) {
        throw new CliError(
          'configuration',
          `stack ${stackName} has no output ${name}: deploy a hub version that has it, or pass ${flagName} (or set ${ENV[key]})`,
        );
      }
      return value;
    });

  return {
    clients,
    region: resolved,
    caller,
    hub: {
      stackName,
      responseStateMachineArn: resource('responseStateMachineArn', flags.responseStateMachineArn, '--state-machine-arn'),
      releaseStateMachineArn: resource('releaseStateMachineArn', flags.releaseStateMachineArn, '--release-state-machine-arn'),
      ledgerTable: resource('ledgerTable', flags.ledgerTable, '--table'),
    },
  };
}

function stackNotFound(stackName: string, region: string): CliError {
  return new CliError(
    'not-found',
    `stack ${stackName} not found in ${region}: deploy the cordon hub there, or pass --region, --stack or the resource flags`,
  );
}

async function resolveRegion(clients: AwsClients): Promise<string> {
  let region: string;
  try {
    region = await clients.sts.config.region();
  } catch (err) {
    throw new CliError('configuration', 'no AWS region: pass --region, set AWS_REGION, or set a region in your profile', { cause: err });
  }
  checkRegion(region, 'the region');
  return region;
}

function checkRegion(region: string, label: string): void {
  if (!Region.safeParse(region).success) {
    throw new CliError('invalid-request', `${label} ${JSON.stringify(region)} is not an AWS region such as us-east-1`);
  }
}

export function checkAccount(account: string): void {
  if (!AccountId.safeParse(account).success) {
    throw new CliError('invalid-request', `--account ${JSON.stringify(account)} is not a 12-digit AWS account id`);
  }
}

/** Run one AWS call; any failure becomes a CliError that says what was being done. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainAwsError(err, what);
  }
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const REJECTED_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError', 'UnauthorizedOperation', 'KMSAccessDeniedException']);
const NETWORK = new Set(['ENOTFOUND', 'ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** "User: … is not authorized to perform: states:StartExecution on resource: arn:… because …" */
const NOT_AUTHORIZED = /not authorized to perform:? ([A-Za-z0-9-]+:[A-Za-z0-9*]+)(?: on resource:? (\S+))?/;

/** One line of an AWS message: bounded, no control characters. */
function clean(text: string | undefined, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const t = (text ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * Turn an SDK error into a CliError with a message naming the cause and what to do. `what` says
 * which call failed (`states:StartExecution on <arn>`). Only names and messages are used, never
 * the error object itself (which could carry request data), and never credentials.
 */
export function explainAwsError(err: unknown, what: string): CliError {
  if (err instanceof CliError) return err;
  const e = (err ?? {}) as { name?: string; code?: string; message?: string };
  const name = e.name ?? 'Error';
  const message = clean(e.message);

  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials/i.test(message)) {
    return new CliError(
      'credentials',
      `no usable AWS credentials for ${what} (${message || name}): sign in (aws sso login, aws configure) or choose a profile with --profile or AWS_PROFILE`,
      { cause: err },
    );
  }
  if (EXPIRED.has(name)) {
    return new CliError('credentials', `your AWS credentials have expired (${name}, during ${what}): refresh them (aws sso login, or new session credentials) and retry`, { cause: err });
  }
  if (REJECTED_CREDENTIALS.has(name)) {
    return new CliError('credentials', `AWS did not accept your credentials for ${what} (${name}): check the profile, the access key, or the system clock`, { cause: err });
  }
  if (DENIED.has(name) || name.startsWith('AccessDenied')) {
    const m = NOT_AUTHORIZED.exec(message);
    const action = m?.[1];
    const resource = m?.[2]?.replace(/[.,;]+$/, '');
    const said = action ? `${action}${resource ? ` on ${resource}` : ''}` : what;
    return new CliError(
      'access-denied',
      `access denied: you may not ${said}${action ? '' : ` (${message || name})`}. The responder policy in docs/cli.md lists what the CLI needs`,
      { details: { ...(action ? { action } : {}), ...(resource ? { resource } : {}) }, cause: err },
    );
  }
  if (name.endsWith('DoesNotExist') || name === 'ResourceNotFoundException' || name === 'StackSetNotFoundException') {
    return new CliError('not-found', `${what}: ${name}${message ? `: ${message}` : ''} (wrong --region, --stack or resource flag?)`, { cause: err });
  }
  if (/Region is missing/i.test(message)) {
    return new CliError('configuration', 'no AWS region: pass --region, set AWS_REGION, or set a region in your profile', { cause: err });
  }
  if (isTransient(err)) {
    return new CliError('throttled', `AWS throttled or was unavailable for ${what} (${name}) even after retries: wait a moment and try again`, { cause: err });
  }
  if (NETWORK.has(name) || (e.code !== undefined && NETWORK.has(e.code))) {
    return new CliError('aws-error', `could not reach AWS for ${what} (${e.code ?? name}): check the network, proxy and --region`, { cause: err });
  }
  return new CliError('aws-error', `${what} failed: ${name}${message ? `: ${message}` : ''}`, { cause: err });
}
