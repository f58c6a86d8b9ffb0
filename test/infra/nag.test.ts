/**
 * cdk-nag AwsSolutions on the real app (docs/design.md §11.5: findings fail a test).
 *
 * How cdk-nag 3 reports: the pack is a CDK policy-validation plugin
 * (`Validations.of(app).addPlugins(new AwsSolutionsChecks(app))`). During
 * `app.synth()` CDK runs it over the finished tree; any unacknowledged finding
 * (error or warning) makes its report unsuccessful, CDK writes
 * validation-report.json into the cloud assembly and synth throws a
 * `ValidationFailed` error (in-memory apps such as tests, and under the CLI).
 * So: synth must not throw, and the report must hold no AwsSolutions failure.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FUNCTIONS } from '../../lib/functions';
import { synth, type Synthesized } from './synth';

let app: Synthesized | undefined;
let synthError: Error | undefined;

beforeAll(() => {
  try {
    // The real app, bundled, exactly as `npm run synth` builds it.
    app = synth({ bundle: true });
  } catch (err) {
    synthError = err as Error;
  }
});

interface Ack {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
  readonly construct: IConstruct;
}

function acknowledgements(root: IConstruct): Ack[] {
  const out: Ack[] = [];
  const visit = (c: IConstruct): void => {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason, construct: c });
      }
    }
    c.node.children.forEach(visit);
  };
  visit(root);
  return out;
}

/**
 * Every finding the pack would report with acknowledgements ignored, as `path|ruleId`.
 * `isAcknowledged` is cdk-nag's private hook; the guard below fails loudly if it moves.
 */
function allFindings(root: IConstruct): string[] {
  const pack = new AwsSolutionsChecks();
  const hook = pack as unknown as { isAcknowledged?: unknown };
  if (typeof hook.isAcknowledged !== 'function') throw new Error('cdk-nag changed: NagPack.isAcknowledged is gone; update allFindings()');
  hook.isAcknowledged = () => false;
  const report = pack.validateScope(root);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${r.constructPath ?? ''}|${v.ruleName}`));
}

describe('cdk-nag AwsSolutions on the cordon app', () => {
  it('synthesizes with no unacknowledged finding', () => {
    expect(synthError?.message).toBeUndefined();
    const report = JSON.parse(readFileSync(path.join(app!.assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== 'success')).toEqual([]);
  });

  it('acknowledges only real findings, each on the construct that has it, with a reason', () => {
    // Prepare
    const findings = allFindings(app!.app);
    const acks = acknowledgements(app!.app);

    // Assess: no stale acknowledgement (each matches a finding at or below where it is made).
    const stale = acks
      .filter((a) => !findings.some((f) => {
        const [p, rule] = f.split('|');
        return rule === a.id && (p === a.path || p!.startsWith(`${a.path}/`));
      }))
      .map((a) => `${a.path}: ${a.id}`);
    expect(stale).toEqual([]);
    for (const a of acks) expect({ id: a.id, reason: a.reason.length >= 40 }).toEqual({ id: a.id, reason: true });
  });

  it('never acknowledges a whole rule family or at stack or app level', () => {
    const acks = acknowledgements(app!.app);

    expect(acks.length).toBeGreaterThan(0);
    expect(acks.filter((a) => Stack.isStack(a.construct) || a.construct === app!.app).map((a) => `${a.path}: ${a.id}`)).toEqual([]);
    // IAM5 is per finding: `AwsSolutions-IAM5[Resource::…]` or `[Action::…]`, never the bare rule.
    expect(acks.filter((a) => a.id.startsWith('AwsSolutions-IAM5') && !/^AwsSolutions-IAM5\[(Resource|Action)::.+\]$/.test(a.id))).toEqual([]);
  });

  it('bundles each handler locally with esbuild, AWS SDK included', () => {
    const assets = app!.hubs.flatMap((hub) =>
      [...Object.values(hub.functions), hub.intake.function, ...(hub.api ? [hub.api.function] : [])].map((fn) => {
        const code = (fn.node.defaultChild as unknown as { code: { s3Key: string } }).code;
        const key = app!.hubs[0]!.resolve(code.s3Key) as string;
        return path.join(app!.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      }),
    );
    for (const dir of assets) {
      expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      // Only the SDK's optional, uninstalled CRT signer may stay a runtime require.
      const external = [...readFileSync(path.join(dir, 'index.js'), 'utf8').matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]);
      expect(external.filter((m) => m !== '@aws-sdk/signature-v4-crt')).toEqual([]);
    }
    expect(assets).toHaveLength(FUNCTIONS.length);
  });
});

describe('cdk-nag AwsSolutions in the other account modes', () => {
  it.each([
    ['member list and organization', { hubAccount: '111111111111', memberAccounts: ['222222222222'], organizationId: 'o-abcdefghij', regions: ['us-east-1', 'eu-west-1'] }],
    ['organization only', { hubAccount: '111111111111', organizationId: 'o-abcdefghij' }],
  ])('synthesizes with no unacknowledged finding: %s', (_mode, cordon) => {
    expect(() => synth({ cordon })).not.toThrow();
  });
});

describe('the cdk-nag harness', () => {
  it('fails synthesis on an unacknowledged finding', () => {
    // Prepare: a deliberately bad throwaway app.
    const bad = new App();
    const stack = new Stack(bad, 'Bad');
    new s3.Bucket(stack, 'NoLogsNoTls');
    Validations.of(bad).addPlugins(new AwsSolutionsChecks(bad));

    // Act + Assess
    expect(() => bad.synth()).toThrow(/AwsSolutions-S1[\s\S]*Bad\/NoLogsNoTls/);
  });

  it('reports the finding by rule id, and passes once it is acknowledged narrowly', () => {
    // Prepare
    const build = (acknowledge: boolean): App => {
      const a = new App();
      const stack = new Stack(a, 'Wildcard');
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
      if (acknowledge) {
        Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'test: a narrow acknowledgement on the one policy that has the finding',
        });
      }
      Validations.of(a).addPlugins(new AwsSolutionsChecks(a));
      return a;
    };

    // Act + Assess
    expect(() => build(false).synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    expect(() => build(true).synth()).not.toThrow();
  });
});
