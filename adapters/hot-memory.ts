// In-process HotStore for the embedded local runtime and tests. It keeps the Redis adapters' semantics
// (epoch tokens, TTL, exact accounting, counters) and adds what a process needs that Redis does itself:
// a byte budget that evicts least-recently-used entries.
import type { CounterOp, EpochToken, HotStore, InvalidationScope } from "../core/cache/ports";

/** Budget, clock and eviction hook of an in-memory store. */
export interface MemoryHotStoreOptions {
  /** Accepted for parity with the Redis adapters; every memory store is already its own namespace. */
  readonly prefix?: string;
  /** Bytes of entry values held before least-recently-used entries are evicted. Default 256 MiB. */
  readonly maxBytes?: number;
  readonly now?: () => number;
  /** Called for each live entry evicted to stay within `maxBytes` (not for expiry, remove or invalidate). */
  readonly onEvict?: (matrixKey: string, bytes: number) => void;
}

/** Default byte budget: roomy for local use, bounded so a long-running dev server cannot grow without limit. */
export const DEFAULT_MEMORY_MAX_BYTES = 256 * 1024 * 1024;

interface Entry {
  readonly value: Uint8Array;
  readonly fundId: string;
  readonly size: number;
  readonly expiresAt: number;
}

interface Totals {
  entries: number;
  bytes: number;
}

interface Expiring<T> {
  readonly data: T;
  expiresAt: number | null;
}

/** Creates an empty in-memory hot store. */
export function createMemoryHotStore(opts: MemoryHotStoreOptions = {}): HotStore {
  const now = opts.now ?? Date.now;
  const maxBytes = opts.maxBytes ?? DEFAULT_MEMORY_MAX_BYTES;

  // Map order is recency order: a read re-inserts its entry at the end, eviction takes from the front.
  const entries = new Map<string, Entry>();
  const fundIndex = new Map<string, Set<string>>();
  const totals: Totals = { entries: 0, bytes: 0 };
  const fundTotals = new Map<string, Totals>();
  let globalEpoch = 0;
  const fundEpochs = new Map<string, number>();
  const hashes = new Map<string, Expiring<Map<string, number>>>();
  const zsets = new Map<string, Expiring<Map<string, number>>>();

  const token = (fundId: string): EpochToken => `${globalEpoch}:${fundEpochs.get(fundId) ?? 0}`;
  const isLive = (e: Entry, t = now()) => e.expiresAt > t;

  function drop(matrixKey: string, e: Entry): void {
    entries.delete(matrixKey);
    totals.entries -= 1;
    totals.bytes -= e.size;
    const ft = fundTotals.get(e.fundId);
    if (ft) {
      ft.entries -= 1;
      ft.bytes -= e.size;
      if (ft.entries <= 0) fundTotals.delete(e.fundId);
    }
    const idx = fundIndex.get(e.fundId);
    if (idx) {
      idx.delete(matrixKey);
      if (idx.size === 0) fundIndex.delete(e.fundId);
    }
  }

  function add(matrixKey: string, e: Entry): void {
    entries.set(matrixKey, e);
    totals.entries += 1;
    totals.bytes += e.size;
    const ft = fundTotals.get(e.fundId) ?? { entries: 0, bytes: 0 };
    ft.entries += 1;
    ft.bytes += e.size;
    fundTotals.set(e.fundId, ft);
    const idx = fundIndex.get(e.fundId) ?? new Set<string>();
    idx.add(matrixKey);
    fundIndex.set(e.fundId, idx);
  }

  function pruneExpired(): void {
    const t = now();
    for (const [k, e] of entries) if (!isLive(e, t)) drop(k, e);
  }

  function evictToBudget(): void {
    const t = now();
    for (const [k, e] of entries) {
      if (totals.bytes <= maxBytes) return;
      drop(k, e);
      if (isLive(e, t)) opts.onEvict?.(k, e.size);
    }
  }

  function bumpFund(fundId: string): void {
    fundEpochs.set(fundId, (fundEpochs.get(fundId) ?? 0) + 1);
  }

  // removes the keys and returns how many of them were live
  function dropAll(keys: Iterable<string>, dryRun: boolean): number {
    const t = now();
    let n = 0;
    for (const k of [...keys]) {
      const e = entries.get(k);
      if (!e) continue;
      if (isLive(e, t)) n += 1;
      if (!dryRun) drop(k, e);
    }
    return n;
  }

  // a counter past its TTL reads as absent, like an expired Redis key
  function live<T>(m: Map<string, Expiring<T>>, key: string): Expiring<T> | undefined {
    const c = m.get(key);
    if (c && (c.expiresAt === null || c.expiresAt > now())) return c;
    if (c) m.delete(key);
    return undefined;
  }

  function counter<T>(m: Map<string, Expiring<T>>, key: string, create: () => T, ttlSec: number): Expiring<T> {
    const c = live(m, key) ?? { data: create(), expiresAt: null };
    m.set(key, c);
    if (ttlSec > 0) c.expiresAt = now() + Math.ceil(ttlSec) * 1000;
    return c;
  }

  // Redis sorted-set order: by score, ties by member
  const ascending = (a: [string, number], b: [string, number]) =>
    a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

  function validate(ops: readonly CounterOp[]): void {
    for (const o of ops) {
      if (o.op === "hincr" && !Number.isFinite(o.by)) throw new RangeError(`hincr by must be finite, got ${o.by}`);
      if (o.op === "ztop" && !Number.isFinite(o.score)) throw new RangeError(`ztop score must be finite, got ${o.score}`);
    }
  }

  /** A copy of a live entry's bytes, refreshing its recency; an expired entry is dropped. */
  function liveValue(matrixKey: string): Uint8Array | null {
    const e = entries.get(matrixKey);
    if (e && !isLive(e)) drop(matrixKey, e);
    if (!e || !isLive(e)) return null;
    entries.delete(matrixKey);
    entries.set(matrixKey, e);
    return new Uint8Array(e.value);
  }

  return {
    kind: "memory",

    async peek(matrixKey) {
      return liveValue(matrixKey);
    },

    async read(matrixKey, fundId) {
      return { value: liveValue(matrixKey), epoch: token(fundId) };
    },

    async write(entry) {
      if (!Number.isFinite(entry.ttlMs) || entry.ttlMs < 1) {
        throw new RangeError(`ttlMs must be a positive number, got ${entry.ttlMs}`);
      }
      if (entry.epoch !== token(entry.fundId)) return "stale-epoch";
      const old = entries.get(entry.matrixKey);
      if (old) drop(entry.matrixKey, old);
      add(entry.matrixKey, {
        value: new Uint8Array(entry.value), // own copy: the caller may reuse its buffer
        fundId: entry.fundId,
        size: entry.value.byteLength,
        expiresAt: now() + Math.ceil(entry.ttlMs),
      });
      evictToBudget();
      return "stored";
    },

    async remove(matrixKey) {
      const e = entries.get(matrixKey);
      if (!e) return 0;
      drop(matrixKey, e);
      return isLive(e) ? 1 : 0;
    },

    async invalidate(scope: InvalidationScope, { dryRun }) {
      switch (scope.kind) {
        case "matrix": {
          const e = entries.get(scope.matrixKey);
          if (!e) {
            // fund unknown, but a back-fill may be in flight: the global epoch rejects it (see redis-scripts)
            if (!dryRun) globalEpoch += 1;
            return 0;
          }
          if (!dryRun) bumpFund(e.fundId);
          return dropAll([scope.matrixKey], dryRun);
        }
        case "fund":
          if (!dryRun) bumpFund(scope.fundId);
          return dropAll(fundIndex.get(scope.fundId) ?? [], dryRun);
        case "all":
          if (!dryRun) globalEpoch += 1;
          return dropAll(entries.keys(), dryRun);
      }
    },

    async storage(fundId) {
      pruneExpired();
      const t = fundId === undefined ? totals : fundTotals.get(fundId);
      return { entriesCount: t?.entries ?? 0, totalSizeBytes: t?.bytes ?? 0 };
    },

    async apply(ops) {
      validate(ops); // all or nothing: nothing is applied when one op is malformed
      for (const o of ops) {
        if (o.op === "hincr") {
          const h = counter(hashes, o.key, () => new Map<string, number>(), o.ttlSec);
          h.data.set(o.field, (h.data.get(o.field) ?? 0) + o.by);
        } else {
          const z = counter(zsets, o.key, () => new Map<string, number>(), o.ttlSec);
          z.data.set(o.member, o.score);
          const keep = Math.max(0, Math.floor(o.keep));
          if (z.data.size > keep) {
            const sorted = [...z.data].sort(ascending);
            for (const [m] of sorted.slice(0, sorted.length - keep)) z.data.delete(m);
          }
        }
      }
    },

    async readHashes(keys) {
      return keys.map((k) => Object.fromEntries(live(hashes, k)?.data ?? []));
    },

    async readTop(key, n) {
      const z = live(zsets, key);
      if (!z || n <= 0) return [];
      return [...z.data]
        .sort((a, b) => ascending(b, a))
        .slice(0, Math.floor(n))
        .map(([member, score]) => ({ member, score }));
    },

    async ping() {},

    async close() {
      entries.clear();
      fundIndex.clear();
      fundTotals.clear();
      totals.entries = 0;
      totals.bytes = 0;
      hashes.clear();
      zsets.clear();
    },
  };
}
