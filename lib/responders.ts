/**
 * Deprecated names of lib/functions.ts, kept so that code outside lib/ compiles until its imports move
 * (bin/simulator, bin/bench.ts, test/workflow/release.test.ts). New code imports lib/functions.ts.
 */
import { FUNCTIONS, actsInMemberAccounts, findFunctionSpec, functionsOf, type FunctionSpec } from './functions';

export { RESPONDER_ROLE_NAME, hubRoleName } from './functions';
/** @deprecated FunctionSpec (lib/functions.ts) */
export type ResponderSpec = FunctionSpec & { readonly actsInMemberAccounts: boolean };
const legacy = (f: FunctionSpec): ResponderSpec => ({ ...f, actsInMemberAccounts: actsInMemberAccounts(f) });
/** @deprecated FUNCTIONS (lib/functions.ts); every function but `api`. */
export const RESPONDERS: readonly ResponderSpec[] = FUNCTIONS.filter((f) => f.name !== 'api').map(legacy);
/** @deprecated FUNCTIONS (lib/functions.ts); `api` only. */
export const CONSTRUCT_FUNCTIONS: readonly ResponderSpec[] = FUNCTIONS.filter((f) => f.name === 'api').map(legacy);
/** @deprecated functionsOf (lib/functions.ts) */
export const respondersOf = (workflow: 'response' | 'release'): ResponderSpec[] => functionsOf(workflow).map(legacy);
/** @deprecated findFunctionSpec (lib/functions.ts) */
export const findResponderSpec = (name: string): ResponderSpec | undefined => {
  const f = findFunctionSpec(name);
  return f && legacy(f);
};
