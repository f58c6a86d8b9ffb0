/**
 * Security-group connection tracking, as AWS documents it (docs/design.md §3, §6),
 * replayed over an ENI's rule history to answer: when is an attacker's live
 * connection cut?
 *
 * What AWS documents, and the model does:
 * - A flow is *untracked* only when it is TCP or UDP, and the ENI's rules allow
 *   all traffic to and from anywhere (0.0.0.0/0 or ::/0, all ports) in both
 *   directions. Otherwise it is tracked.
 * - ICMP flows, and flows through a NAT gateway, an NLB, a PrivateLink endpoint
 *   and the like, are always tracked.
 * - A tracked flow's packets are allowed whatever the rules say, until the flow
 *   has been idle for longer than the ENI's established-TCP timeout (432,000 s by
 *   default, 60 s at the minimum). A packet after that is a new flow: judged by
 *   the rules.
 * - An untracked flow's packets are judged by the rules, each of them.
 *
 * What AWS does not document, and the model therefore makes an explicit
 * *assumption* about (reported with every result):
 * - `optimistic`: moving a tracked flow's ENI into allow-all groups untracks the
 *   live flow at once, and a lowered timeout applies to live flows too. This is
 *   the premise of the untrack-then-isolate runbook.
 * - `pessimistic`: neither. A live tracked flow keeps its entry, and the timeout
 *   it was created with, until it goes idle.
 */
import type { EniState, FakeRule } from './core';

export type TrackingAssumption = 'optimistic' | 'pessimistic';
export const ASSUMPTIONS: readonly TrackingAssumption[] = ['optimistic', 'pessimistic'];

export interface Flow {
  readonly name: string;
  readonly eniId: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  readonly family: 4 | 6;
  /** Where the instance talks to (its side initiated the flow). */
  readonly remote: string;
  /** How the flow leaves the VPC: anything but `direct` is always tracked. */
  readonly via: 'direct' | 'nat-gateway' | 'nlb' | 'privatelink';
  readonly establishedAt: number;
  /** The attacker exchanges a packet (and its reply) this often. */
  readonly packetEverySeconds: number;
}

export interface FlowVerdict {
  readonly flow: string;
  readonly assumption: TrackingAssumption;
  /** When the first packet was dropped; undefined when the flow still works at the horizon. */
  readonly cutAt?: number;
  /** Why it was (or wasn't) cut, in words. */
  readonly reason: string;
  /** Whether the flow was tracked when it was cut or at the horizon. */
  readonly trackedAtEnd: boolean;
}

const ANY = { 4: '0.0.0.0/0', 6: '::/0' } as const;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => (n << 8) + Number(octet), 0) >>> 0;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (!base || bitsText === undefined) return false;
  if (cidr.includes(':') || ip.includes(':')) return cidr === '::/0' || base === ip;
  const bits = Number(bitsText);
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(base) & mask) === (ipv4ToInt(ip) & mask);
}

function ruleCovers(rule: FakeRule, flow: Flow): boolean {
  if (rule.protocol !== '-1' && rule.protocol !== flow.protocol) return false;
  const cidr = flow.family === 4 ? rule.cidr4 : rule.cidr6;
  return cidr !== undefined && cidrContains(cidr, flow.remote);
}

const allows = (rules: FakeRule[], flow: Flow, egress: boolean) => rules.some((r) => r.egress === egress && ruleCovers(r, flow));

/** AWS's untracked condition: all traffic allowed both ways for the flow's address family, and a flow type that can be untracked. */
export function untrackable(rules: FakeRule[], flow: Flow): boolean {
  if (flow.protocol === 'icmp' || flow.via !== 'direct') return false;
  const all = (egress: boolean) => rules.some((r) => r.egress === egress && r.protocol === '-1' && (flow.family === 4 ? r.cidr4 : r.cidr6) === ANY[flow.family]);
  return all(true) && all(false);
}

/**
 * Replay `flow` over its ENI's history (`history`, in time order) until `horizon` and return when
 * it is cut under `assumption`.
 */
export function judgeFlow(flow: Flow, history: readonly EniState[], assumption: TrackingAssumption, horizon: number): FlowVerdict {
  const stateAt = (t: number): EniState => {
    let current = history[0];
    for (const h of history) if (h.at <= t) current = h;
    if (!current) throw new Error(`no rule history for ${flow.eniId}`);
    return current;
  };
  const optimistic = assumption === 'optimistic';
  let s = stateAt(flow.establishedAt);
  let tracked = !untrackable(s.rules, flow);
  let timeout = s.tcpEstablishedTimeout;
  let lastSeen = flow.establishedAt;
  let nextChange = history.findIndex((h) => h.at > flow.establishedAt);
  if (nextChange < 0) nextChange = history.length;
  const verdict = (cutAt: number | undefined, reason: string): FlowVerdict => ({
    flow: flow.name,
    assumption,
    ...(cutAt !== undefined ? { cutAt } : {}),
    reason,
    trackedAtEnd: tracked,
  });

  for (let t = flow.establishedAt + flow.packetEverySeconds * 1000; t <= horizon; t += flow.packetEverySeconds * 1000) {
    // Apply every rule change before this packet.
    while (nextChange < history.length && (history[nextChange] as EniState).at <= t) {
      s = history[nextChange] as EniState;
      nextChange += 1;
      if (optimistic) {
        timeout = s.tcpEstablishedTimeout;
        if (tracked && untrackable(s.rules, flow)) tracked = false;
      }
    }
    const alive = tracked && t - lastSeen <= timeout * 1000;
    if (alive) {
      lastSeen = t;
      continue;
    }
    // Untracked, or its entry expired: the instance's packet is judged by the egress rules now in force
    // (if admitted, it opens a tracked entry for the reply, or stays untracked under allow-all rules).
    if (!allows(s.rules, flow, true)) {
      const why = tracked
        ? `its tracked entry expired after ${timeout} s idle and the rules now deny it`
        : 'it was untracked, so each packet met the isolation rules';
      return verdict(t, why);
    }
    tracked = !untrackable(s.rules, flow);
    timeout = s.tcpEstablishedTimeout;
    lastSeen = t;
  }
  const why = tracked
    ? `still tracked: its entry never idles ${timeout} s, since the attacker sends every ${flow.packetEverySeconds} s` +
      (flow.via !== 'direct' ? ` (flows through a ${flow.via} are always tracked)` : '')
    : 'still allowed by the rules';
  return verdict(undefined, why);
}
