// A two-tier cache over either the embedded stores (memory + PGlite) or the real servers
// (Redis + a fresh PostgreSQL database), for suites that run against both.
import { createDb, type DbHandle } from "../../adapters/db";
import { createDrizzleDurableStore } from "../../adapters/durable-drizzle";
import { createMemoryHotStore } from "../../adapters/hot-memory";
import { createRedisHotStore } from "../../adapters/hot-redis";
import { createMatrixCache, type DurableStore, type HotStore, type MatrixCache, type MatrixCacheDeps } from "../../core/cache";
import { freshPostgresDatabase, postgresTarget, redisTarget, uniquePrefix } from "./services";

export type Backend = "embedded" | "real";

export interface CacheFixture {
  readonly hot: HotStore;
  readonly durable: DurableStore;
  readonly db: DbHandle;
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly hotPrefix: string;
  cache(overrides?: Partial<MatrixCacheDeps>): MatrixCache;
  close(): Promise<void>;
}

export const realTargets = async () => {
  const [pg, redis] = await Promise.all([postgresTarget(), redisTarget()]);
  return { pg, redis, available: pg.available && redis.available };
};

export async function cacheFixture(backend: Backend, label: string): Promise<CacheFixture> {
  const hotPrefix = uniquePrefix(label);
  if (backend === "embedded") {
    const db = createDb({ pgliteDir: "memory://" });
    await db.migrate();
    const hot = createMemoryHotStore({ prefix: hotPrefix });
    const durable = createDrizzleDurableStore(db.db);
    return {
      hot,
      durable,
      db,
      hotPrefix,
      cache: (o = {}) => createMatrixCache({ hot, durable, ...o }),
      close: async () => {
        await hot.close();
        await db.close();
      },
    };
  }
  const { pg, redis } = await realTargets();
  const fresh = await freshPostgresDatabase(pg.url);
  const db = createDb({ url: fresh.url });
  await db.migrate();
  const hot = createRedisHotStore({ url: redis.url, prefix: hotPrefix });
  const durable = createDrizzleDurableStore(db.db);
  return {
    hot,
    durable,
    db,
    databaseUrl: fresh.url,
    redisUrl: redis.url,
    hotPrefix,
    cache: (o = {}) => createMatrixCache({ hot, durable, ...o }),
    close: async () => {
      await hot.close();
      await db.close();
      await fresh.drop();
    },
  };
}
