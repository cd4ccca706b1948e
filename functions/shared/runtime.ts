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
    options: s.cacheOptions,
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
