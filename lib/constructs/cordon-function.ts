import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTIONS, findFunctionSpec, hubRoleName, type FunctionName, type FunctionSpec } from '../functions';

/** Where the handlers live: `lambdas/<name>/handler.ts`. */
export const LAMBDAS_DIR = path.join(__dirname, '..', '..', 'lambdas');

/** Longest timeout a cordon function may have: long waits belong in Step Functions, never in a Lambda. */
export const MAX_TIMEOUT = Duration.minutes(5);

export interface CordonFunctionProps {
  /** Its entry in `FUNCTIONS` (lib/functions.ts): its folder under `lambdas/` and its role-name stem. */
  readonly name: FunctionName;
  /** Retention of the function's log group, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /**
   * The handler's own variables (lib/environment.ts `environmentFor`), besides the common ones (POWERTOOLS_*, NODE_OPTIONS).
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Function timeout; at most {@link MAX_TIMEOUT}.
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * One cordon Lambda with the project's fixed defaults (docs/design.md §11.2):
 * Node.js 22 on ARM64, X-Ray active tracing, an explicit retained log group,
 * source maps, Powertools settings, a bounded timeout, and its own bundle built
 * locally by esbuild from `lambdas/<name>/handler.ts`.
 *
 * The AWS SDK is bundled (`externalModules: []`) instead of taken from the
 * runtime: the exact SDK versions in package-lock.json are what runs, so a
 * containment or evidence action can be reproduced and explained later with the
 * same client code, independent of runtime SDK updates.
 *
 * Each function gets its own role with a fixed name, {@link hubRoleName}`(name, region)`:
 * member accounts trust those exact ARNs. The role has no managed policies: log
 * writes are granted on the function's own log group only, and the X-Ray write
 * permission (which has no resource-level scoping) sits alone in a separate policy,
 * so its single acknowledgement can't hide a wildcard added to the grant policy.
 */
export class CordonFunction extends NodejsFunction {
  /** The catalogue entry this function implements. */
  public readonly spec: FunctionSpec;
  /** The function's execution role (named `cordon-<name>-<region>`). */
  public readonly executionRole: iam.Role;
  /** The function's log group (retained; retention from the config). */
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CordonFunctionProps) {
    const spec = findFunctionSpec(props.name);
    if (!spec) {
      throw new Error(
        `CordonFunction ${id}: unknown function '${props.name}'. Add it to FUNCTIONS in lib/functions.ts ` +
          `or use one of: ${FUNCTIONS.map((f) => f.name).join(', ')}`,
      );
    }
    const timeout = props.timeout ?? Duration.seconds(60);
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > MAX_TIMEOUT.toSeconds()) {
      throw new Error(
        `CordonFunction ${id}: timeout must be between 1 and ${MAX_TIMEOUT.toSeconds()} seconds; ` +
          'move longer waits into the state machine (Wait → Describe → Choice)',
      );
    }
    const region = Stack.of(scope).region;

    const role = new iam.Role(scope, `${id}Role`, {
      roleName: hubRoleName(spec.name, region),
      description: `cordon ${spec.name}: ${spec.description}`.slice(0, 1000),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });

    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      logGroupName: `/aws/lambda/cordon/${spec.name}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logGroup.grantWrite(role);

    const xray = new iam.Policy(scope, `${id}XRayPolicy`, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(xray).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; this policy holds only those two actions (docs/iam.md)',
    });

    super(scope, id, {
      entry: path.join(LAMBDAS_DIR, spec.name, 'handler.ts'),
      handler: 'handler',
      description: spec.description.slice(0, 256),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'cordon',
        POWERTOOLS_METRICS_NAMESPACE: 'cordon',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.CJS,
        // Bundle the AWS SDK: pinned versions, reproducible evidence handling (see class doc).
        externalModules: [],
        forceDockerBundling: false,
      },
    });

    // Active tracing, set on the L1 so the X-Ray statement stays in its own policy (see class doc).
    (this.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
    this.node.addDependency(xray);

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x (AWS-supported LTS) to match the esbuild target and the bundled SDK; runtime upgrades are a deliberate, tested change',
    });

    this.spec = spec;
    this.executionRole = role;
    this.functionLogGroup = logGroup;
  }
}
