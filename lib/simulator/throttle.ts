/**
 * EC2 request-rate throttling as AWS documents it (docs/design.md §6): a token
 * bucket per API action, per account and per region. Each request takes one
 * token; an empty bucket answers `RequestLimitExceeded`; buckets refill at a
 * fixed rate up to their size. Sizes are the published defaults:
 *
 * | family | actions | bucket | refill/s |
 * |---|---|---|---|
 * | containment APIs | ModifyNetworkInterfaceAttribute, CreateSnapshots, ModifySnapshotAttribute, (Dis)associateIamInstanceProfile | 100 | 5 |
 * | other mutating | CopySnapshot, ModifyInstanceAttribute, CreateTags, … | 50 | 5 |
 * | non-mutating | Describe*, Get* with ids or filters | 100 | 20 |
 * | unfiltered non-mutating | Describe* with neither ids, filters nor MaxResults | 50 | 10 |
 */

export interface BucketSpec {
  readonly family: string;
  readonly size: number;
  readonly refillPerSecond: number;
}

const CONTAINMENT_APIS = new Set([
  'ModifyNetworkInterfaceAttribute',
  'CreateSnapshots',
  'ModifySnapshotAttribute',
  'AssociateIamInstanceProfile',
  'DisassociateIamInstanceProfile',
  'ReplaceIamInstanceProfileAssociation',
]);

export const BUCKETS = {
  containment: { family: 'containment', size: 100, refillPerSecond: 5 },
  mutating: { family: 'mutating', size: 50, refillPerSecond: 5 },
  describe: { family: 'non-mutating', size: 100, refillPerSecond: 20 },
  unfiltered: { family: 'unfiltered non-mutating', size: 50, refillPerSecond: 10 },
} as const satisfies Record<string, BucketSpec>;

const NON_MUTATING = /^(Describe|Get|List)/;

/** The bucket an EC2 action's request draws from. */
export function bucketFor(command: string, input: Record<string, unknown>): BucketSpec {
  if (CONTAINMENT_APIS.has(command)) return BUCKETS.containment;
  if (!NON_MUTATING.test(command)) return BUCKETS.mutating;
  const narrowed = Object.entries(input).some(
    ([k, v]) => v !== undefined && (/Ids?$/.test(k) || k === 'Filters' || k === 'Filter' || k === 'MaxResults' || k === 'InstanceId' || k === 'Attribute'),
  );
  return narrowed ? BUCKETS.describe : BUCKETS.unfiltered;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface ThrottleStats {
  /** Requests answered RequestLimitExceeded, by action. */
  readonly throttled: Map<string, number>;
  /** Requests admitted, by action. */
  readonly admitted: Map<string, number>;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  readonly stats: ThrottleStats = { throttled: new Map(), admitted: new Map() };

  /** Take a token for `command` at time `nowMs`; false when the bucket is empty (throttled). */
  take(account: string, region: string, command: string, input: Record<string, unknown>, nowMs: number): boolean {
    const spec = bucketFor(command, input);
    const key = `${account}/${region}/${command}`;
    const b = this.buckets.get(key) ?? { tokens: spec.size, at: nowMs };
    b.tokens = Math.min(spec.size, b.tokens + ((nowMs - b.at) / 1000) * spec.refillPerSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    const counter = b.tokens >= 1 ? this.stats.admitted : this.stats.throttled;
    counter.set(command, (counter.get(command) ?? 0) + 1);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/**
 * The least time in which `demand` requests per action can all be admitted, starting from full
 * buckets: for each action, (requests − bucket size) / refill rate; the largest wins.
 */
export function tokenBucketLowerBoundSeconds(demand: ReadonlyMap<string, { count: number; spec: BucketSpec }>): { seconds: number; action: string } {
  let best = { seconds: 0, action: '' };
  for (const [action, { count, spec }] of demand) {
    const seconds = Math.max(0, count - spec.size) / spec.refillPerSecond;
    if (seconds > best.seconds) best = { seconds, action };
  }
  return best;
}
