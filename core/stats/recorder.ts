// Records every get-or-generate in the hot store: a CacheObserver whose onLookup sends ONE `hot.apply`
// (one round trip: a Lua script on Redis) with all of the lookup's counter, histogram and slow-log
// updates, for the hour bucket and the all-time totals. Counters are HINCRBY on integers, so concurrent
// writers in any number of processes never lose an update (no read-modify-write anywhere).
//
// While the hot store is failing, updates are queued in this process (merged per key and field, so the
// queue stays small) and sent with the next apply that goes through: a hot-tier outage neither adds a
// timeout to every request nor loses the counts of the requests served meanwhile.
import type { CacheObserver, CounterOp, FaultEvent, HotStore, LookupEvent } from "../cache";
import { silentLog, systemClock, type Clock, type Log } from "../shared/log";
import { bucketIndex } from "./histogram";
import { hourId, safeOp, SLOW_LOG_KEEP, STATS_FIELD as F, STATS_KEY, STATS_TTL_SEC, type TimedTier } from "./keys";

export interface StatsRecorderOptions {
  readonly hot: HotStore;
  /** decides the hour bucket of each event (injected in tests) */
  readonly clock?: Clock;
  readonly log?: Log;
  /** stop waiting for an apply after this long; the request goes on (default 250 ms, the hot-tier timeout) */
  readonly timeoutMs?: number;
  /** after a hot-tier fault, queue updates instead of trying the hot store for this long (default 1 s) */
  readonly retryAfterMs?: number;
  /** most distinct queued counter fields kept during an outage; beyond it updates are dropped and logged */
  readonly maxPending?: number;
  /** most ops per apply (bounds the script's argument list after an outage) */
  readonly maxBatch?: number;
}

export interface StatsRecorder extends CacheObserver {
  onLookup(event: LookupEvent): Promise<void>;
  onFault(event: FaultEvent): void;
  /** Sends queued updates now (a Lambda may call it at the end of an invocation). */
  flush(): Promise<void>;
  /** Counter fields and slow-log entries waiting for the hot store. */
  pending(): number;
}

/** Thrown (and so counted as a `record-stats` fault by the cache) when an apply outlasts `timeoutMs`. */
export class StatsRecordTimeoutError extends Error {
  override readonly name = "StatsRecordTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`recording statistics took longer than ${timeoutMs} ms; updates queued`);
  }
}

const us = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? 0 : Math.max(0, Math.round(ms * 1000)));

/** The counter updates of one lookup (exported for tests and the benchmark). */
export function lookupOps(e: LookupEvent, now: number): CounterOp[] {
  const hour = hourId(now);
  const counters = STATS_KEY.counters(hour);
  const histograms = STATS_KEY.histograms(hour);
  const ops: CounterOp[] = [];
  // Only a key's first op carries the TTL: the store sets the expiry once per key, not once per field.
  const expiring = new Set<string>();
  const ttl = (key: string) => (expiring.has(key) ? 0 : (expiring.add(key), STATS_TTL_SEC));
  // every counter goes to the hour bucket (expiring) and to the all-time totals (never expiring)
  const add = (key: string, field: string, by: number) => {
    if (by === 0) return;
    ops.push({ op: "hincr", key, field, by, ttlSec: ttl(key) });
    ops.push({ op: "hincr", key: STATS_KEY.total, field, by, ttlSec: 0 });
  };
  const p = e.purpose;
  add(counters, F.requests(p), 1);
  add(counters, e.outcome === "hit" ? F.hits(p) : F.misses(p), 1);
  add(counters, F.servedBy(p, e.tier), 1);
  add(counters, F.bytes(p), Math.max(0, Math.round(e.sizeBytes)));
  add(counters, F.generationUs(p), us(e.timings.generationMs));
  if (p !== "request") return ops; // warming is counted apart: no client latency, savings or slow log

  const activity = STATS_KEY.activity(hour);
  ops.push({ op: "hincr", key: activity, field: F.requests(p), by: 1, ttlSec: ttl(activity) });
  ops.push({ op: "hincr", key: activity, field: e.outcome === "hit" ? F.hits(p) : F.misses(p), by: 1, ttlSec: ttl(activity) });
  add(counters, F.savedUs(p), us(e.generationMsSaved));
  add(counters, F.servedLatencyUs(e.tier), us(e.latencyMs));
  add(histograms, F.servedHistogram(e.tier, bucketIndex(e.latencyMs)), 1);
  const timed: [TimedTier, number | undefined][] = [
    ["redis", e.timings.redisMs],
    ["postgres", e.timings.postgresMs],
    ["generation", e.timings.generationMs],
  ];
  for (const [tier, ms] of timed) {
    if (ms === undefined) continue;
    add(counters, F.tierTimeUs(tier), us(ms));
    add(histograms, F.tierHistogram(tier, bucketIndex(ms)), 1);
  }
  ops.push({
    op: "ztop",
    key: STATS_KEY.slowLog(hour),
    // unique per request (two requests for one key in one millisecond are two entries)
    member: `${Math.floor(e.at)}|${e.matrixKey}|${Math.random().toString(36).slice(2, 8)}`,
    score: Math.max(0, e.latencyMs),
    keep: SLOW_LOG_KEEP,
    ttlSec: STATS_TTL_SEC,
  });
  return ops;
}

/** The counter updates of one fault. */
export function faultOps(e: FaultEvent, now: number): CounterOp[] {
  const counters = STATS_KEY.counters(hourId(now));
  const ops: CounterOp[] = [];
  for (const field of [F.faults(e.tier), F.faultsByOp(e.tier, safeOp(e.op))]) {
    ops.push({ op: "hincr", key: counters, field, by: 1, ttlSec: STATS_TTL_SEC });
    ops.push({ op: "hincr", key: STATS_KEY.total, field, by: 1, ttlSec: 0 });
  }
  return ops;
}

/** Parses a slow-log member written by lookupOps. */
export function parseSlowMember(member: string): { at: number; matrixKey: string } | null {
  const [at, matrixKey] = member.split("|");
  const t = Number(at);
  return Number.isFinite(t) && matrixKey ? { at: t, matrixKey } : null;
}

/** Queued updates merged per key and field; ztop entries keep only their set's top `keep`. */
class PendingOps {
  private readonly hashes = new Map<string, { ttlSec: number; fields: Map<string, number> }>();
  private readonly tops = new Map<string, { ttlSec: number; keep: number; members: Map<string, number> }>();
  private count = 0;
  dropped = 0;

  constructor(private readonly max: number) {}

  size(): number {
    return this.count;
  }

  add(ops: readonly CounterOp[]): void {
    for (const o of ops) {
      if (o.op === "hincr") {
        const h = this.hashes.get(o.key) ?? { ttlSec: 0, fields: new Map<string, number>() };
        h.ttlSec = Math.max(h.ttlSec, o.ttlSec); // only the first op of a key carries it
        this.hashes.set(o.key, h);
        const had = h.fields.has(o.field);
        if (!had && this.count >= this.max) {
          this.dropped += 1;
          continue;
        }
        h.fields.set(o.field, (h.fields.get(o.field) ?? 0) + o.by);
        if (!had) this.count += 1;
      } else {
        const z = this.tops.get(o.key) ?? { ttlSec: o.ttlSec, keep: o.keep, members: new Map<string, number>() };
        this.tops.set(o.key, z);
        if (!z.members.has(o.member)) this.count += 1;
        z.members.set(o.member, o.score);
        if (z.members.size > z.keep) {
          const lowest = [...z.members].sort((a, b) => a[1] - b[1])[0];
          z.members.delete(lowest[0]);
          this.count -= 1;
        }
      }
    }
  }

  /** Removes and returns up to `max` ops. */
  take(max: number): CounterOp[] {
    const out: CounterOp[] = [];
    for (const [key, h] of this.hashes) {
      for (const [field, by] of h.fields) {
        if (out.length >= max) return out;
        out.push({ op: "hincr", key, field, by, ttlSec: h.ttlSec });
        h.fields.delete(field);
        this.count -= 1;
      }
      this.hashes.delete(key);
    }
    for (const [key, z] of this.tops) {
      for (const [member, score] of z.members) {
        if (out.length >= max) return out;
        out.push({ op: "ztop", key, member, score, keep: z.keep, ttlSec: z.ttlSec });
        z.members.delete(member);
        this.count -= 1;
      }
      this.tops.delete(key);
    }
    return out;
  }
}

export function createStatsRecorder(opts: StatsRecorderOptions): StatsRecorder {
  const { hot } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? silentLog;
  const timeoutMs = opts.timeoutMs ?? 250;
  const retryAfterMs = opts.retryAfterMs ?? 1000;
  const maxBatch = opts.maxBatch ?? 2000;
  const pending = new PendingOps(opts.maxPending ?? 100_000);
  let retryAt = 0;
  let droppedLogged = 0;

  const breakerOpen = () => performance.now() < retryAt;
  const openBreaker = () => (retryAt = performance.now() + retryAfterMs);

  /** One apply; on failure its ops go back to the queue (at-least-once rather than lost). */
  async function send(batch: CounterOp[]): Promise<void> {
    if (batch.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const applied = hot.apply(batch);
    try {
      const outcome = await Promise.race([
        applied.then(
          () => "ok" as const,
          (error: unknown) => ({ error }),
        ),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
      ]);
      if (outcome === "ok") return;
      openBreaker();
      if (outcome === "timeout") {
        // The apply is still in flight and will most likely land: requeue only if it finally fails,
        // so a slow store neither double counts nor loses the batch.
        applied.catch(() => pending.add(batch));
        throw new StatsRecordTimeoutError(timeoutMs);
      }
      pending.add(batch);
      throw outcome.error;
    } finally {
      clearTimeout(timer);
      if (pending.dropped > droppedLogged) {
        log.warn("statistics queue full during a hot-tier outage; updates dropped", { dropped: pending.dropped });
        droppedLogged = pending.dropped;
      }
    }
  }

  return {
    async onLookup(event) {
      const ops = lookupOps(event, clock());
      if (breakerOpen()) {
        pending.add(ops);
        return;
      }
      await send([...pending.take(Math.max(0, maxBatch - ops.length)), ...ops]);
    },

    onFault(event) {
      // Queued, not sent: a fault happens inside a lookup whose own apply follows and carries it.
      pending.add(faultOps(event, clock()));
      if (event.tier === "redis") openBreaker();
    },

    async flush() {
      while (pending.size() > 0 && !breakerOpen()) await send(pending.take(maxBatch));
    },

    pending: () => pending.size(),
  };
}
