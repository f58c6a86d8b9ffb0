/**
 * The restore steps of the release workflow (state-machines/release.asl.json): RestoreNetwork (one
 * ENI per invocation, in a Map), RestoreRole and RestoreInstance. Each acts in the target account
 * through `CordonResponder`, is idempotent (a retried step finds its own work done), and reports a
 * non-transient failure in its result instead of throwing, so RecordRelease can say exactly what was
 * and was not given back. Transient errors are thrown for the state machine's Retry.
 */
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { restoreInstance, InstanceInput, type InstanceRestoreResult } from './instance';
import { restoreInterface, NetworkInput, type InterfaceRestoreResult } from './network';
import { restoreRole, RoleInput, type RoleDeps, type RoleRestoreResult } from './role';

export const RestoreInput = z.discriminatedUnion('step', [NetworkInput, RoleInput, InstanceInput]);
export type RestoreInput = z.infer<typeof RestoreInput>;

export interface RestoreDeps extends RoleDeps {
  readonly factory: ClientFactory;
}

export async function restore(
  input: RestoreInput,
  deps: RestoreDeps,
): Promise<InterfaceRestoreResult | RoleRestoreResult | InstanceRestoreResult> {
  const clients = await deps.factory.forTarget(input.target, `cordon-release-${input.releaseId}`);
  switch (input.step) {
    case 'network':
      return restoreInterface(clients.ec2, input);
    case 'role':
      return restoreRole(clients, input, deps);
    case 'instance':
      return restoreInstance(clients.ec2, input);
  }
}
