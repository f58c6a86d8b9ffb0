/**
 * Shared set-up for the infra tests: build the real app (bin/app.ts) with the
 * context from cdk.json, exactly as `cdk synth` does, into a temporary outdir.
 * Each test file synthesizes once, in beforeAll.
 */
import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type CordonApp } from '../../bin/app';
import type { CordonConfigInput } from '../../lib/config';

export const ROOT = path.join(__dirname, '..', '..');

/** The `context` block of cdk.json (feature flags and the default `cordon` block). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface SynthOptions {
  /** Replaces cdk.json's `cordon` block. */
  readonly cordon?: CordonConfigInput;
  /**
   * Run esbuild for every function. Off by default: template assertions don't
   * need the bundles, and nag.test.ts bundles the real app once.
   */
  readonly bundle?: boolean;
  /** Stand-in for process.env (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface Synthesized extends CordonApp {
  readonly assembly: CloudAssembly;
  readonly hubTemplate: Template;
  readonly memberTemplate: Template;
}

export function synth(options: SynthOptions = {}): Synthesized {
  const context: Record<string, unknown> = { ...cdkJsonContext() };
  if (options.cordon) context.cordon = options.cordon;
  // CDK's own switch (`cdk synth --exclusively` uses it): no stack needs its assets bundled.
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const outdir = mkdtempSync(path.join(tmpdir(), 'cordon-infra-'));
  const built = buildApp({ context, outdir }, options.env ?? { CDK_DEFAULT_REGION: 'us-east-1' });
  const assembly = built.app.synth();
  const hub = built.hubs[0];
  if (!hub) throw new Error('the app has no hub stack');
  return {
    ...built,
    assembly,
    hubTemplate: Template.fromStack(hub),
    memberTemplate: Template.fromStack(built.member),
  };
}

/** A policy statement as it appears in a synthesized template. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every IAM statement in the template (AWS::IAM::Policy and Role inline policies), with the owning logical id. */
export function iamStatements(template: Template): { owner: string; statement: Statement }[] {
  const out: { owner: string; statement: Statement }[] = [];
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const s of (policy.Properties.PolicyDocument.Statement ?? []) as Statement[]) out.push({ owner: id, statement: s });
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const p of (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]) {
      for (const s of p.PolicyDocument.Statement) out.push({ owner: id, statement: s });
    }
  }
  return out;
}

/**
 * Render a CloudFormation value as a string, with references as `<LogicalId>`,
 * `<LogicalId.Attr>` and pseudo parameters as `<AWS::Name>`: lets tests compare ARNs.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  }
  return JSON.stringify(value);
}
