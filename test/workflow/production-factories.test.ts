/**
 * Each handler names the SDK client classes it uses, and only those are
 * bundled (lambdas/shared/clients.ts). A handler that forgot one would fail
 * at run time, in the middle of an incident. This test runs a full response
 * with every Lambda's own production factory — real AssumeRole calls (mocked
 * STS), the real lazy clients — so any missing client class fails here. Each
 * handler reads the environment lib/environment.ts builds, as the hub stack sets it.
 */
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { ClientFactory } from '../../lambdas/shared/clients';
import { parseConfig } from '../../lib/config';
import { environmentFor, type HubSettings } from '../../lib/environment';
import { actsInMemberAccounts, functionsOf } from '../../lib/functions';
import { testClientFactory } from '../support/clients';
import { FakeAws, webInstance } from '../support/fake-aws';
import { ACCOUNT, INCIDENT, NOW, request } from '../../lib/simulator/scenario';
import { runWorkflow } from '../support/workflow';

/** The hub as the stack would name it; every handler's environment is built from it as the stack builds it. */
const SETTINGS: HubSettings = {
  config: parseConfig({}, {}),
  partition: 'aws',
  hubAccountId: ACCOUNT,
  ledgerTable: 'cordon-ledger',
  evidenceBucket: 'cordon-evidence',
  evidenceBucketArn: 'arn:aws:s3:::cordon-evidence',
  evidenceKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b3f0c1e-evidence`,
  topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:cordon`,
  responseStateMachineArn: `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:cordon-response`,
  releaseStateMachineArn: `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:cordon-release`,
  intakePolicy: {},
};

/** What each member-account handler exports for its production wiring. */
interface ProductionModule {
  readonly productionDeps?: (env: NodeJS.ProcessEnv) => { factory: ClientFactory };
}

/** The response workflow's Lambdas that act in member accounts (lib/functions.ts), each with its handler module. */
const PRODUCTION = functionsOf('response')
  .filter(actsInMemberAccounts)
  .map((f) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const handler = require(join(__dirname, '..', '..', 'lambdas', f.name, 'handler')) as ProductionModule;
    return [f.name, handler] as const;
  });

test('every Lambda of the response workflow that acts in member accounts exports its production factory (release: test/workflow/release.test.ts)', () => {
  expect(PRODUCTION.map(([name]) => name)).toEqual(expect.arrayContaining(['capture-state', 'protect', 'isolate', 'quarantine-role', 'snapshot', 'record']));
  expect(PRODUCTION.filter(([, m]) => typeof m.productionDeps !== 'function').map(([name]) => name)).toEqual([]);
});

test('a full response runs with each handler’s own production client factory', async () => {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: 'ASIATEST', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) },
  });
  const fake = new FakeAws(ACCOUNT, 'us-east-1').install();
  try {
    webInstance({ fake });
    const factories = new Map<string, ClientFactory>(
      PRODUCTION.map(([name, m]) => [name, (m.productionDeps as NonNullable<ProductionModule['productionDeps']>)(environmentFor(name, SETTINGS)).factory]),
    );

    const result = await runWorkflow(request(), {
      factory: testClientFactory(),
      factoryFor: (name) => factories.get(name) as ClientFactory,
      hubAccountId: ACCOUNT,
      now: () => NOW,
    });

    expect(result.error).toBeUndefined();
    expect(fake.item(INCIDENT, `RESPONSE#${request().requestId}`)?.outcome).toBe('contained');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toContain(`arn:aws:iam::${ACCOUNT}:role/CordonResponder`);
  } finally {
    fake.restore();
    sts.restore();
  }
});
