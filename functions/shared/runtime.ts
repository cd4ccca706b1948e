// Builds the service's dependencies from settings, once per process (module scope in a Lambda, once
// in the local server): the hot tier (Upstash, TCP Redis or in-memory), the durable tier (PostgreSQL
// or PGlite) and the two-tier cache over them.
import { createDb, type DbHandle } from "../../adapters/db";
import { createDrizzleDurableStore } from "../../adapters/durable-drizzle";
import { createMemoryHotStore } from "../../adapters/hot-memory";
import { createRedisHotStore } from "../../adapters/hot-redis";
import { createUpstashHotStore } from "../../adapters/hot-upstash";
import { createMatrixCache, type CacheObserver, type CacheOptions, type DurableStore, type HotStore, type MatrixCache } from "../../core/cache";
import type { Log } from "../../core/shared/log";
import { composeObservers, createStatsRecorder } from "../../core/stats";

export interface RuntimeSettings {
  readonly databaseUrl?: string;
  /** PGlite folder (or 'memory://') when no databaseUrl */
  readonly pgliteDir?: string;
  /** postgres.js prepared statements; false behind a transaction pooler */
  readonly prepare?: boolean;
  readonly upstash?: { readonly url: string; readonly token: string };
  readonly redisUrl?: string;
  /** key prefix in the hot tier (tests isolate themselves with it) */
  readonly hotPrefix?: string;
  /** byte budget of the in-memory hot tier */
  readonly memoryHotMaxBytes?: number;
  readonly cacheOptions?: Partial<CacheOptions>;
  /** apply migrations before serving (local server, tests) */
  readonly migrate?: boolean;
  readonly log: Log;
  readonly observer?: (parts: { hot: HotStore; durable: DurableStore; db: DbHandle }) => CacheObserver;
  /** record every lookup in the hot store's statistics (default true; `observer` is added beside it) */
  readonly recordStats?: boolean;
}

export interface Runtime {
  readonly db: DbHandle;
  readonly hot: HotStore;
  readonly durable: DurableStore;
  readonly cache: MatrixCache;
  readonly log: Log;
  /** which implementation each tier uses, for /health and the start-up banner */
  readonly tiers: { readonly hot: HotStore["kind"]; readonly durable: DbHandle["kind"] };
  close(): Promise<void>;
}

const positive = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
};

/**
 * Cache tuning from the environment (same names locally and in Lambda): HOT_TTL_SECONDS (default 24 h),
 * HOT_MAX_ENTRY_BYTES (entries above stay durable-only; default 1 MiB), HOT_TIMEOUT_MS (default 250),
 * LEASE_SECONDS (default 60), LEASE_WAIT_SECONDS (default 120).
 */
export function cacheOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<CacheOptions> {
  const ttl = positive("HOT_TTL_SECONDS", env.HOT_TTL_SECONDS);
  const lease = positive("LEASE_SECONDS", env.LEASE_SECONDS);
  const wait = positive("LEASE_WAIT_SECONDS", env.LEASE_WAIT_SECONDS);
  const options: Partial<CacheOptions> = {
    hotTtlMs: ttl && ttl * 1000,
    hotMaxEntryBytes: positive("HOT_MAX_ENTRY_BYTES", env.HOT_MAX_ENTRY_BYTES),
    hotTimeoutMs: positive("HOT_TIMEOUT_MS", env.HOT_TIMEOUT_MS),
    leaseMs: lease && lease * 1000,
    waitTimeoutMs: wait && wait * 1000,
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<CacheOptions>;
}

export function createHotStore(s: Pick<RuntimeSettings, "upstash" | "redisUrl" | "hotPrefix" | "memoryHotMaxBytes">): HotStore {
  if (s.upstash) return createUpstashHotStore({ url: s.upstash.url, token: s.upstash.token, prefix: s.hotPrefix });
  if (s.redisUrl) return createRedisHotStore({ url: s.redisUrl, prefix: s.hotPrefix });
  return createMemoryHotStore({ prefix: s.hotPrefix, maxBytes: s.memoryHotMaxBytes });
}

export async function createRuntime(s: RuntimeSettings): Promise<Runtime> {
  const db = createDb(s.databaseUrl ? { url: s.databaseUrl, prepare: s.prepare } : { pgliteDir: s.pgliteDir ?? "memory://" });
  if (s.migrate) await db.migrate();
  const hot = createHotStore(s);
  const durable = createDrizzleDurableStore(db.db);
  const cache = createMatrixCache({
    hot,
    durable,
    log: s.log,
    // every process records into the shared hot store, so GET /api/cache/stats sees the whole service
    observer: composeObservers(s.recordStats === false ? undefined : createStatsRecorder({ hot, log: s.log }), s.observer?.({ hot, durable, db })),
    options: { ...cacheOptionsFromEnv(), ...s.cacheOptions },
  });
  return {
    db,
    hot,
    durable,
    cache,
    log: s.log,
    tiers: { hot: hot.kind, durable: db.kind },
    async close() {
      await Promise.allSettled([hot.close(), db.close()]);
    },
  };
}
