/**
 * The simulated clock: a discrete-event scheduler. Simulated time moves only
 * when every piece of simulated work (Lambda handlers, state-machine branches,
 * AWS calls) is blocked on `sleep`; it then jumps to the earliest wake-up.
 * Runs are deterministic and take milliseconds whatever the simulated time.
 *
 * Everything that takes time in the simulation sleeps here: the latency of
 * each AWS call, Wait states, the backoff between Step Functions retries and
 * the SDK's own retries. Nothing in a simulation may use real timers.
 */

interface Sleeper {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Real I/O in flight (SDK clients read shared config files when built): simulated work is not blocked yet. */
function ioInFlight(): boolean {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  return info.some((r) => r.startsWith('FSReq') || r === 'CloseReq' || r === 'GetAddrInfoReqWrap' || r === 'StatWatcher');
}

/**
 * Let every pending continuation run: two macrotask turns after the microtask queue drains, and
 * as long as file-system requests are in flight, until they complete. Without the latter, a
 * handler still waiting on a config-file read would see the clock jump ahead: runs would differ.
 */
async function settle(): Promise<void> {
  await turn();
  await turn();
  for (let spins = 0; ioInFlight() && spins < 10_000; spins++) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  await turn();
}

export class SimClock {
  private t: number;
  private seq = 0;
  private readonly heap: Sleeper[] = [];
  /** How many times the clock moved (a cost measure for the simulator itself). */
  advances = 0;

  constructor(start: Date) {
    this.t = start.getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  millis(): number {
    return this.t;
  }

  /** Resolve after `ms` of simulated time. */
  sleep(ms: number): Promise<void> {
    const at = this.t + Math.max(0, ms);
    return new Promise<void>((wake) => this.push({ at, seq: this.seq++, wake }));
  }

  /**
   * Drive the simulation until `work` settles: whenever everything is blocked, move the clock to
   * the earliest sleeper and wake every sleeper due then. A simulation that blocks with nobody
   * sleeping is stalled (it waits on something outside the simulation) and fails loudly.
   */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const tracked = work.finally(() => {
      done = true;
    });
    tracked.catch(() => undefined);
    for (;;) {
      await settle();
      if (done) return tracked;
      const next = this.pop();
      if (!next) throw new Error('simulation stalled: work is pending but nothing is waiting on the simulated clock');
      this.t = Math.max(this.t, next.at);
      this.advances += 1;
      next.wake();
      while (this.heap.length > 0 && (this.heap[0] as Sleeper).at <= this.t) (this.pop() as Sleeper).wake();
    }
  }

  // A binary heap ordered by (at, seq): equal wake-up times keep their order.
  private less(a: Sleeper, b: Sleeper): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(s: Sleeper): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Sleeper, h[p] as Sleeper)) break;
      [h[i], h[p]] = [h[p] as Sleeper, h[i] as Sleeper];
      i = p;
    }
  }

  private pop(): Sleeper | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as Sleeper, h[m] as Sleeper)) m = l;
        if (r < h.length && this.less(h[r] as Sleeper, h[m] as Sleeper)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Sleeper, h[i] as Sleeper];
        i = m;
      }
    }
    return top;
  }
}

/** A deterministic pseudo-random generator (mulberry32) for jitter: the same seed, the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
