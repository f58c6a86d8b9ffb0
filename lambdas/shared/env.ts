/**
 * Each Lambda's environment is declared once, as a zod schema in `lambdas/<name>/env.ts`: its
 * variables (the schema's input, all strings, which the hub stack sets through lib/environment.ts)
 * and what the handler gets from them (the schema's output). No CDK here: handlers bundle this.
 */
import { z } from 'zod';

/** A variable the stack forgot to set, or set to something the handler cannot use. */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/** A required text variable. */
export const envText = z.string().min(1);

/** A whole number within [min, max], written in decimal. */
export function envInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A JSON value, checked by `schema` once parsed. */
export function envJson<S extends z.ZodType>(schema: S) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON', params: { notJson: true } });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** What every Lambda that acts in member accounts reads: how to name `CordonResponder` (lambdas/shared/clients.ts). */
export const MemberAccessVariables = {
  PARTITION: envText,
  RESPONDER_ROLE_NAME: envText,
};

export interface MemberAccess {
  readonly partition: string;
  readonly responderRoleName: string;
}

export function memberAccess(v: { PARTITION: string; RESPONDER_ROLE_NAME: string }): MemberAccess {
  return { partition: v.PARTITION, responderRoleName: v.RESPONDER_ROLE_NAME };
}

/**
 * Parse `env` with a Lambda's environment schema. An empty variable counts as unset.
 * @throws EnvironmentError naming each bad variable: `Environment variable X is not set`,
 *   `… is not valid JSON`, or `… is invalid: <field>: <problem>`
 */
export function parseEnv<S extends z.ZodType<unknown, Record<string, string | undefined>>>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const input: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) input[name] = value === '' ? undefined : value;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const byName = new Map<string, z.core.$ZodIssue[]>();
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? '(environment)');
    byName.set(name, [...(byName.get(name) ?? []), issue]);
  }
  const problems = [...byName].map(([name, issues]) => {
    if (input[name] === undefined && byName.has(name) && name !== '(environment)') return `Environment variable ${name} is not set`;
    if (issues.some((i) => i.code === 'custom' && (i.params as { notJson?: boolean } | undefined)?.notJson)) {
      return `Environment variable ${name} is not valid JSON`;
    }
    const detail = issues.map((i) => (i.path.length > 1 ? `${i.path.slice(1).join('.')}: ${i.message}` : i.message)).join('; ');
    return `Environment variable ${name} is invalid: ${detail}`;
  });
  throw new EnvironmentError(problems.join('; '));
}

/**
 * The environment of a function that needs nothing but the way to reach `CordonResponder` (protect, preserve,
 * release-restore, and any new action whose Lambda has no settings of its own).
 */
export const MemberOnlyEnv = z.object(MemberAccessVariables).transform((v) => ({ access: memberAccess(v) }));
