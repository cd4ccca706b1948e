// get-or-generate on real Redis and PostgreSQL: hot hit vs a bare client GET of the same bytes,
// durable hit, miss, and the codec's share of each.
import { Redis } from "ioredis";
import { createDb } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { createRedisHotStore } from "../adapters/hot-redis";
import { hotKeys } from "../adapters/redis-scripts";
import { decodeMatrix } from "../core/codec";
import { createMatrixCache, decodeEntry } from "../core/cache";
import { matrixKey, ScenarioConfigWithMeta } from "../core/scenario";
import { freshPostgresDatabase, postgresTarget, redisTarget } from "../tests/helpers/services";
import { median, timeIt } from "./util";

export async function benchCache(): Promise<string[]> {
  const [pg, redis] = await Promise.all([postgresTarget(), redisTarget()]);
  if (!pg.available || !redis.available) return [`(skipped: PostgreSQL or Redis unreachable)`];
  const fresh = await freshPostgresDatabase(pg.url);
  const db = createDb({ url: fresh.url });
  await db.migrate();
  const prefix = `bench:${Date.now()}:`;
  const hot = createRedisHotStore({ url: redis.url, prefix });
  const bare = new Redis(redis.url);
  const durable = createDrizzleDurableStore(db.db);
  // A hot cap large enough for the 100,000 × 20 matrix (8 MB) so its hot hit can be measured too.
  const cache = createMatrixCache({ hot, durable, options: { hotMaxEntryBytes: 64 * 2 ** 20 } });
  const lines = [
    "| matrix | bare GET ms | hot hit ms | hot / bare | decode share of hot hit | durable hit ms | decode share of durable hit | miss ms | generation share of miss |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  try {
    for (const [rows, cols, runs] of [[10_000, 5, 300], [100_000, 20, 15]] as const) {
      const mk = (seed: string) =>
        ScenarioConfigWithMeta.parse({
          fundId: "bench",
          numScenarios: rows,
          buckets: Array.from({ length: cols }, (_, j) => ({ name: `b${j}`, capitalAllocation: 100 / cols, moicCalibration: { median: 1.5, p90: 3.5 } })),
          seed,
        });
      // misses: a fresh seed each run
      const missTimes: number[] = [];
      const genShare: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await cache.get(mk(`miss-${rows}-${i}`));
        missTimes.push(r.latencyMs);
        genShare.push((r.timings.generationMs ?? 0) / r.latencyMs);
      }
      const cfg = mk(`hit-${rows}`);
      const key = matrixKey(cfg);
      await cache.get(cfg);
      const raw = (await bare.getBuffer(hotKeys(prefix).matrix(key)))!;
      await cache.get(cfg);
      // Interleaved so both see the same machine load.
      const bareTimes: number[] = [];
      const hotTimes: number[] = [];
      for (let i = 0; i < runs * 2; i++) {
        bareTimes.push(...(await timeIt(1, () => bare.getBuffer(hotKeys(prefix).matrix(key)))));
        hotTimes.push(
          ...(await timeIt(1, async () => {
            const r = await cache.get(cfg);
            if (r.tier !== "redis") throw new Error(`expected a hot hit, got ${r.tier}`);
          })),
        );
      }
      const bareMs = median(bareTimes);
      const hotMs = median(hotTimes);
      const decodeHotMs = median(await timeIt(runs, () => decodeEntry(raw)));
      // durable hits: remove the hot entry before each read (removal not timed)
      const durableTimes: number[] = [];
      for (let i = 0; i < Math.min(runs, 40); i++) {
        await hot.remove(key);
        const r = await cache.get(cfg);
        if (r.tier !== "postgres") throw new Error(`expected a durable hit, got ${r.tier}`);
        durableTimes.push(r.latencyMs);
      }
      const row = await durable.readComplete(key);
      const decodeDurableMs = median(await timeIt(runs, () => decodeMatrix(row!.bytes)));
      const durableMs = median(durableTimes);
      const missMs = median(missTimes);
      lines.push(
        `| ${rows.toLocaleString("en")} × ${cols} (${(raw.byteLength / 1e6).toFixed(2)} MB) | ${bareMs.toFixed(2)} | ${hotMs.toFixed(2)} | **${(hotMs / bareMs).toFixed(2)}** | ${((decodeHotMs / hotMs) * 100).toFixed(1)}% | ${durableMs.toFixed(2)} | ${((decodeDurableMs / durableMs) * 100).toFixed(1)}% | ${missMs.toFixed(1)} | ${(median(genShare) * 100).toFixed(0)}% |`,
      );
    }
  } finally {
    await hot.invalidate({ kind: "all" }, { dryRun: false });
    await hot.close();
    bare.disconnect();
    await db.close();
    await fresh.drop();
  }
  return lines;
}
