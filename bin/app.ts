/**
 * The CDK app (cdk.json: `npx tsx bin/app.ts`; `npm run synth`).
 *
 * - `CordonHub-<region>`: one hub stack per region in `cordon.regions`, in the hub account.
 * - `CordonMember`: the `CordonResponder` role, deployed once to every account cordon may
 *   contain, the hub account included (all target-account actions go through that role).
 *
 * Single-account mode (no `cordon` context needed): deploy both in one account,
 *   npx cdk deploy --all
 * Multi-account mode (set `cordon.hubAccount` and `memberAccounts` or `organizationId`):
 *   in the hub account:   npx cdk deploy 'CordonHub-*' CordonMember
 *   in each member:       npx cdk deploy CordonMember   (or a StackSet of its template)
 *
 * cdk-nag's AwsSolutions pack runs on every synth; an unacknowledged finding fails it.
 * Importing this module has no side effects: the CLI entry is at the bottom.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, type CordonConfig } from '../lib/config';
import { CordonHubStack } from '../lib/hub-stack';
import { CordonMemberStack } from '../lib/member-stack';

export const MEMBER_STACK_ID = 'CordonMember';

export function hubStackId(region: string): string {
  return `CordonHub-${region}`;
}

export interface CordonApp {
  readonly app: App;
  readonly config: CordonConfig;
  /** One hub stack per configured region, in `config.regions` order. */
  readonly hubs: readonly CordonHubStack[];
  readonly member: CordonMemberStack;
}

/**
 * Build the app: the stacks, and the cdk-nag AwsSolutions checks on all of them.
 * @param props App props (tests pass `context`, `outdir`)
 * @param env where CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION come from
 */
export function buildApp(props: AppProps = {}, env: NodeJS.ProcessEnv = process.env): CordonApp {
  const app = new App(props);
  const config = loadConfig(app, env);
  const hubs = config.regions.map(
    (region) =>
      new CordonHubStack(app, hubStackId(region), {
        config,
        env: { account: config.hubAccount, region },
        description: `cordon hub (${region}): GuardDuty intake, response workflow, evidence store`,
      }),
  );
  const member = new CordonMemberStack(app, MEMBER_STACK_ID, {
    config,
    // Account-agnostic: the same template serves every member account. IAM is global, so one region.
    env: { region: config.regions[0] },
    description: 'cordon member: the CordonResponder role the hub assumes to contain instances',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, hubs, member };
}

if (require.main === module) {
  // The CLI synthesizes on exit (CDK_OUTDIR is set); outside it, synthesize explicitly.
  const { app } = buildApp();
  if (!process.env.CDK_OUTDIR) app.synth();
}
