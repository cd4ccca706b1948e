// get-or-generate over the two tiers (DESIGN.md read path):
//   hot read → durable read (back-fill hot) → lease → generate → write durable, then hot.
// One generation per key across processes (the durable row's lease), and per process (an in-flight map).
// Hot-tier faults are counted and skipped; a durable-tier fault still serves a generated result, unstored.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { DecodedMatrix } from "../codec";
import { decodeMatrix, encodedSize, MatrixCodecError } from "../codec";
import { generateScenarioMatrix, matrixKey as keyOf, type GeneratedMatrix, type ScenarioConfigWithMeta } from "../scenario";
import { silentLog, systemClock, type Clock, type Log } from "../shared/log";
import { decodeEntry, encodeEntry } from "./entry";
import { GenerationFailedError, LeaseWaitTimeoutError } from "./errors";
import type { DurableStore, EpochToken, HotStore, MatrixMeta } from "./ports";

export type Tier = "redis" | "postgres" | "generated";
export type Purpose = "request" | "warm";

export interface CacheOptions {
  /** hot-tier TTL (default 24 h) */
  hotTtlMs: number;
  /** entries larger than this (encoded) stay durable-only (default 1 MiB) */
  hotMaxEntryBytes: number;
  /** a hot call slower than this counts as a fault and is skipped (default 250 ms) */
  hotTimeoutMs: number;
  /** generation lease; a crashed generator's key frees up after this (default 60 s) */
  leaseMs: number;
  /** how long a caller waits for another process's generation before giving up (default 120 s) */
  waitTimeoutMs: number;
  /** first poll interval while waiting; doubles up to 1 s */
  pollIntervalMs: number;
  /** identifies this process as lease owner */
  ownerId: string;
}

export const DEFAULT_CACHE_OPTIONS: Omit<CacheOptions, "ownerId"> = {
  hotTtlMs: 24 * 3600_000,
  hotMaxEntryBytes: 1024 * 1024,
  hotTimeoutMs: 250,
  leaseMs: 60_000,
  waitTimeoutMs: 120_000,
  pollIntervalMs: 25,
};

export interface Timings {
  redisMs?: number;
  postgresMs?: number;
  generationMs?: number;
}

export interface CacheLookup {
  readonly matrixKey: string;
  readonly tier: Tier;
  readonly latencyMs: number;
  readonly matrix: DecodedMatrix;
  readonly meta: MatrixMeta;
  /** false when the durable tier could not take the result (down, or invalidated mid-generation) */
  readonly stored: boolean;
  readonly timings: Timings;
}

/** What the statistics recorder and the metrics see of every lookup. */
export interface LookupEvent {
  readonly matrixKey: string;
  readonly fundId: string;
  readonly purpose: Purpose;
  readonly outcome: "hit" | "miss";
  readonly tier: Tier;
  readonly latencyMs: number;
  readonly timings: Timings;
  readonly sizeBytes: number;
  /** generation time a hit avoided (the stored generationMs) */
  readonly generationMsSaved: number;
  readonly numScenarios: number;
  readonly numBuckets: number;
  readonly at: number;
}

export interface FaultEvent {
  readonly tier: "redis" | "postgres";
  readonly op: string;
  readonly matrixKey: string;
  readonly error: unknown;
}

export interface CacheObserver {
  /** Awaited before get() resolves, so a stats read right after a response includes it. */
  onLookup?(event: LookupEvent): Promise<void> | void;
  onFault?(event: FaultEvent): void;
}

export interface MatrixCacheDeps {
  hot: HotStore;
  durable: DurableStore;
  log?: Log;
  clock?: Clock;
  observer?: CacheObserver;
  /** the generator (injectable so tests can hold or fail it) */
  generate?: (config: ScenarioConfigWithMeta) => GeneratedMatrix | Promise<GeneratedMatrix>;
  options?: Partial<CacheOptions>;
}

export interface MatrixCache {
  get(config: ScenarioConfigWithMeta, opts?: { purpose?: Purpose }): Promise<CacheLookup>;
  /** Is the key complete in the durable tier (the authority)? Undefined when it cannot be read. */
  isCached(matrixKey: string): Promise<boolean | undefined>;
  readonly options: CacheOptions;
}

const NO_VALUE = Symbol("fault");

export function createMatrixCache(deps: MatrixCacheDeps): MatrixCache {
  const { hot, durable } = deps;
  const log = deps.log ?? silentLog;
  const clock = deps.clock ?? systemClock;
  const generate = deps.generate ?? generateScenarioMatrix;
  const options: CacheOptions = {
    ...DEFAULT_CACHE_OPTIONS,
    ownerId: `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
    ...deps.options,
  };
  const inflight = new Map<string, Promise<Omit<CacheLookup, "latencyMs">>>();

  const fault = (tier: "redis" | "postgres", op: string, matrixKey: string, error: unknown) => {
    log.warn(`${tier} ${op} failed; degrading`, { tier, op, matrixKey, error: String(error) });
    deps.observer?.onFault?.({ tier, op, matrixKey, error });
  };

  /** Hot-tier calls: a throw or a timeout is a counted fault, never an error to the caller. */
  async function tryHot<T>(op: string, key: string, f: () => Promise<T>): Promise<T | typeof NO_VALUE> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        f(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`hot tier ${op} timed out after ${options.hotTimeoutMs} ms`)), options.hotTimeoutMs);
        }),
      ]);
    } catch (e) {
      fault("redis", op, key, e);
      return NO_VALUE;
    } finally {
      clearTimeout(timer);
    }
  }

  async function tryDurable<T>(op: string, key: string, f: () => Promise<T>): Promise<T | typeof NO_VALUE> {
    try {
      return await f();
    } catch (e) {
      fault("postgres", op, key, e);
      return NO_VALUE;
    }
  }

  const elapsed = (t: number) => performance.now() - t;

  async function backfillHot(meta: MatrixMeta, matrixBytes: Uint8Array, epoch: EpochToken | undefined) {
    if (epoch === undefined) return; // the hot read faulted: no epoch to guard the write with
    const value = encodeEntry(meta, matrixBytes);
    if (value.byteLength > options.hotMaxEntryBytes) return; // large matrices stay durable-only
    const outcome = await tryHot("write", meta.matrixKey, () =>
      hot.write({ matrixKey: meta.matrixKey, fundId: meta.fundId, value, ttlMs: options.hotTtlMs, epoch }),
    );
    if (outcome === "stale-epoch") log.info("hot write skipped: scope invalidated meanwhile", { matrixKey: meta.matrixKey });
  }

  /** Reads the durable tier; a corrupt row is marked invalidated so the lease can replace it. */
  async function readDurable(key: string, timings: Timings) {
    const t = performance.now();
    const row = await tryDurable("read", key, () => durable.readComplete(key));
    timings.postgresMs = (timings.postgresMs ?? 0) + elapsed(t);
    if (row === NO_VALUE || row === null) return row;
    try {
      return { meta: row.meta, bytes: row.bytes, matrix: decodeMatrix(row.bytes) };
    } catch (e) {
      if (!(e instanceof MatrixCodecError)) throw e;
      log.error("corrupt matrix in the durable tier; regenerating", { matrixKey: key, reason: e.reason });
      await tryDurable("invalidate-corrupt", key, () => durable.invalidate({ kind: "matrix", matrixKey: key }, { mode: "soft", dryRun: false }));
      return null;
    }
  }

  async function generateAndStore(config: ScenarioConfigWithMeta, key: string, timings: Timings, owner: string | undefined, epoch: EpochToken | undefined) {
    const t = performance.now();
    let generated: GeneratedMatrix;
    try {
      generated = await generate(config);
    } catch (e) {
      if (owner) await tryDurable("fail", key, () => durable.fail(key, owner, e instanceof Error ? e.message : String(e)));
      throw new GenerationFailedError(`generation failed for ${key}`, key, { cause: e });
    }
    const generationMs = elapsed(t);
    timings.generationMs = generationMs;
    const meta: MatrixMeta = {
      matrixKey: key,
      fundId: config.fundId,
      taxonomyVersion: config.taxonomyVersion,
      numScenarios: generated.rows,
      numBuckets: generated.cols,
      recyclingMultiples: generated.recyclingMultiples,
      generationMs,
      createdAt: new Date(clock()).toISOString(),
    };
    const matrix: DecodedMatrix = { rows: generated.rows, cols: generated.cols, data: generated.cells };
    if (!owner) return { meta, matrix, stored: false };
    const tw = performance.now();
    const completed = await tryDurable("complete", key, () =>
      durable.complete(owner, { bytes: generated.bytes, meta, sizeBytes: generated.bytes.byteLength }),
    );
    timings.postgresMs = (timings.postgresMs ?? 0) + elapsed(tw);
    if (completed !== true) {
      // Lost the lease (invalidated mid-generation) or PostgreSQL failed: serve, but store nowhere,
      // so an invalidated scope is never resurrected.
      if (completed === false) log.info("generation not stored: lease lost (invalidated meanwhile)", { matrixKey: key });
      return { meta, matrix, stored: false };
    }
    await backfillHot(meta, generated.bytes, epoch);
    return { meta, matrix, stored: true };
  }

  async function resolve(config: ScenarioConfigWithMeta, key: string): Promise<Omit<CacheLookup, "latencyMs">> {
    const timings: Timings = {};
    /** A hot value as a hit, or undefined (after removing it) when it is corrupt. */
    const asHit = async (value: Uint8Array) => {
      try {
        const { meta, matrix } = decodeEntry(value);
        if (meta.matrixKey === key) return { matrixKey: key, tier: "redis" as const, matrix, meta, stored: true, timings };
        throw new MatrixCodecError("entry belongs to another key", "unsupported");
      } catch (e) {
        if (!(e instanceof MatrixCodecError)) throw e;
        log.error("corrupt hot entry; treating as a miss", { matrixKey: key, reason: e.reason });
        await tryHot("remove-corrupt", key, () => hot.remove(key));
        return undefined;
      }
    };
    // 1. hot tier: a plain GET (a hit needs nothing else); on a miss, the epoch token, read before the
    //    durable tier so a later write is refused if an invalidation lands in between
    const th = performance.now();
    const peeked = await tryHot("read", key, () => hot.peek(key));
    if (peeked !== NO_VALUE && peeked) {
      timings.redisMs = elapsed(th);
      const hit = await asHit(peeked);
      if (hit) return hit;
    }
    const hotRead = peeked === NO_VALUE ? NO_VALUE : await tryHot("read", key, () => hot.read(key, config.fundId));
    timings.redisMs = elapsed(th);
    const epoch = hotRead === NO_VALUE ? undefined : hotRead.epoch;
    if (hotRead !== NO_VALUE && hotRead.value && !peeked) {
      // written between the two reads
      const hit = await asHit(hotRead.value);
      if (hit) return hit;
    }

    const deadline = clock() + options.waitTimeoutMs;
    let poll = options.pollIntervalMs;
    for (;;) {
      // 2. durable tier
      const row = await readDurable(key, timings);
      if (row !== NO_VALUE && row !== null) {
        await backfillHot(row.meta, row.bytes, epoch);
        return { matrixKey: key, tier: "postgres", matrix: row.matrix, meta: row.meta, stored: true, timings };
      }
      if (row === NO_VALUE) {
        // PostgreSQL is down: generate here (once per process via the in-flight map), store nothing.
        const g = await generateAndStore(config, key, timings, undefined, undefined);
        return { matrixKey: key, tier: "generated", ...g, timings };
      }
      // 3. miss: take the lease or wait for its holder
      const lease = await tryDurable("lease", key, () =>
        durable.acquireLease({
          matrixKey: key,
          fundId: config.fundId,
          taxonomyVersion: config.taxonomyVersion,
          config,
          numScenarios: config.numScenarios,
          numBuckets: config.buckets.length,
          owner: options.ownerId,
          leaseMs: options.leaseMs,
        }),
      );
      if (lease === NO_VALUE) {
        const g = await generateAndStore(config, key, timings, undefined, undefined);
        return { matrixKey: key, tier: "generated", ...g, timings };
      }
      if (lease.acquired) {
        // Re-check after taking the lock (the stampede guard): a writer may have finished just before.
        const again = await readDurable(key, timings);
        if (again !== NO_VALUE && again !== null) {
          return { matrixKey: key, tier: "postgres", matrix: again.matrix, meta: again.meta, stored: true, timings };
        }
        const g = await generateAndStore(config, key, timings, options.ownerId, epoch);
        return { matrixKey: key, tier: "generated", ...g, timings };
      }
      if (lease.status === "complete") continue; // finished between our read and the lease attempt
      if (clock() > deadline) {
        throw new LeaseWaitTimeoutError(`waited ${options.waitTimeoutMs} ms for another generator of ${key}`, key);
      }
      await new Promise((r) => setTimeout(r, poll));
      poll = Math.min(poll * 2, 1000);
    }
  }

  async function get(config: ScenarioConfigWithMeta, opts: { purpose?: Purpose } = {}): Promise<CacheLookup> {
    const started = performance.now();
    const key = keyOf(config);
    let pending = inflight.get(key);
    const leader = pending === undefined;
    if (!pending) {
      pending = resolve(config, key).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const result = await pending;
    const latencyMs = elapsed(started);
    // A follower in this process waited for the leader: for it this was a miss served by generation
    // (or whichever tier the leader used), with its own latency.
    const lookup: CacheLookup = { ...result, latencyMs, timings: leader ? result.timings : {} };
    if (deps.observer?.onLookup) {
      try {
        await deps.observer.onLookup({
          matrixKey: key,
          fundId: config.fundId,
          purpose: opts.purpose ?? "request",
          outcome: result.tier === "generated" ? "miss" : "hit",
          tier: result.tier,
          latencyMs,
          timings: lookup.timings,
          sizeBytes: encodedSize(result.matrix.rows, result.matrix.cols),
          generationMsSaved: result.tier === "generated" ? 0 : result.meta.generationMs,
          numScenarios: result.matrix.rows,
          numBuckets: result.matrix.cols,
          at: clock(),
        });
      } catch (e) {
        fault("redis", "record-stats", key, e);
      }
    }
    return lookup;
  }

  async function isCached(key: string): Promise<boolean | undefined> {
    const s = await tryDurable("status", key, () => durable.status(key));
    return s === NO_VALUE ? undefined : s?.status === "complete";
  }

  return { get, isCached, options };
}
