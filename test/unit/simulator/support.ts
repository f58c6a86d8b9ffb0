/** A bare simulated account and a typed way to send it commands, as an SDK client would. */
import { SimAccount } from '../../../lib/simulator/account';

export const MEMBER = '111122223333';
export const HUB = '999988887777';

export function account(): SimAccount {
  return new SimAccount(MEMBER, 'us-east-1');
}

/** Send `command` to `service` as `caller` (the member account by default); the output without `$metadata`. */
export async function send(world: SimAccount, service: string, command: string, input: object, caller = MEMBER): Promise<Record<string, unknown>> {
  const { $metadata: _metadata, ...out } = await world.dispatch(service, command, input as Record<string, unknown>, caller);
  return out;
}
