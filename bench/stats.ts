// Statistics on real Redis and PostgreSQL: GET /api/cache/stats with 1,000 and with 100,000 cached entries
// in both tiers (and a week of recorded traffic in the hour buckets), and the cost of recording on a hot hit.
// `npm run bench` calls benchStats(); `npx tsx bench/stats.ts` runs it alone.
import { sql } from "drizzle-orm";
import { createDb } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { createRedisHotStore } from "../adapters/hot-redis";
import { createMatrixCache, type DurableStore } from "../core/cache";
import { silentLog } from "../core/shared/log";
import { ScenarioConfigWithMeta } from "../core/scenario";
import { createHotStoreHistorySource, createStatsRecorder, createStatsService } from "../core/stats";
import { createApp } from "../functions/http/kernel";
import { statsRoutes } from "../functions/http/routes/stats";
import { freshPostgresDatabase, postgresTarget, redisTarget, unlinkKeysUnder } from "../tests/helpers/services";
import { syntheticEvent } from "../tests/helpers/stats-events";
import { Redis } from "ioredis";
import { median, percentile } from "./util";

const FUNDS = 100;
const HOUR = 3_600_000;

/** One cache deployment for the benchmark: its own database and Redis prefix, `n` entries in both tiers. */
async function fixture(pgUrl: string, redisUrl: string, label: string) {
  const fresh = await freshPostgresDatabase(pgUrl);
  const db = createDb({ url: fresh.url });
  await db.migrate();
  const prefix = `bench:stats:${label}:${Date.now()}:`;
  const hot = createRedisHotStore({ url: redisUrl, prefix, commandTimeoutMs: 10_000 });
  const durable = createDrizzleDurableStore(db.db);
  const auth = { tokens: [], deployed: false };
  const stats = createStatsService({ hot, durable });
  const app = statsRoutes(createApp({ auth, log: silentLog }), { auth, stats, history: createHotStoreHistorySource({ hot }) });
  let entries = 0;
  // The same route with the durable figure from a constant-time stand-in: what the rest of the read costs.
  const noDurable = { storage: async () => ({ entriesCount: entries, totalSizeBytes: 0 }) } as unknown as DurableStore;
  const appWithoutDurable = statsRoutes(createApp({ auth, log: silentLog }), {
    auth,
    stats: createStatsService({ hot, durable: noDurable }),
    history: createHotStoreHistorySource({ hot }),
  });

  /** Adds entries up to `n` in both tiers: one INSERT … SELECT in PostgreSQL, pipelined writes in Redis. */
  async function fillTo(n: number): Promise<void> {
    await db.db.execute(sql`
      INSERT INTO scenario_matrices (matrix_key, fund_id, taxonomy_version, config, status, moic_matrix, num_scenarios, num_buckets, size_bytes, generation_ms)
      SELECT 'bench-' || i, 'fund-' || (i % ${FUNDS}::int), 'v1', '{}'::jsonb, 'complete', decode(repeat('ab', 256), 'hex'), 100, 3, 256 + (i % 512), 100
      FROM generate_series(${entries}::int, ${n - 1}::int) AS i`);
    await db.db.execute(sql`VACUUM ANALYZE scenario_matrices`);
    const value = new Uint8Array(256);
    const epochs = new Map<string, string>();
    for (let f = 0; f < FUNDS; f++) epochs.set(`fund-${f}`, (await hot.read("none", `fund-${f}`)).epoch);
    for (let i = entries; i < n; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, n - i) }, (_, k) => {
          const fundId = `fund-${(i + k) % FUNDS}`;
          return hot.write({ matrixKey: `bench-${i + k}`, fundId, value, ttlMs: 24 * HOUR, epoch: epochs.get(fundId)! });
        }),
      );
    }
    entries = n;
  }

  /** A week of traffic in the hour buckets: 60 recorded lookups an hour, spread over the latency range. */
  async function recordWeek(now: number): Promise<void> {
    for (let h = 0; h < 168; h++) {
      const at = now - h * HOUR;
      const recorder = createStatsRecorder({ hot, clock: () => at, timeoutMs: 10_000 });
      await Promise.all(Array.from({ length: 60 }, (_, k) => recorder.onLookup(syntheticEvent(h * 60 + k, at))));
    }
  }

  /** One timed GET through the route (JSON included). */
  async function once(path = "/api/cache/stats", on = app): Promise<number> {
    const t = performance.now();
    const res = await on.request(path);
    await res.arrayBuffer();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return ms;
  }

  return {
    hot, durable, stats, app, appWithoutDurable, fillTo, recordWeek, once,
    close: async () => {
      // remove only what this run created: every key under its own prefix (entries, epochs, accounting,
      // counters) and a throwaway database
      await hot.close();
      const raw = new Redis(redisUrl);
      await unlinkKeysUnder(raw, prefix);
      raw.disconnect();
      await db.close();
      await fresh.drop();
    },
  };
}

/** Times `f(a)` and `f(b)` alternately so both see the same machine load. */
async function interleaved(runs: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  for (let i = 0; i < 5; i++) {
    await a();
    await b();
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < runs; i++) {
    xs.push(await a());
    ys.push(await b());
  }
  return [xs, ys];
}

export async function benchStats(): Promise<string[]> {
  const [pg, redis] = await Promise.all([postgresTarget(), redisTarget()]);
  if (!pg.available || !redis.available) return ["(skipped: PostgreSQL or Redis unreachable)"];
  const small = await fixture(pg.url, redis.url, "1k");
  const large = await fixture(pg.url, redis.url, "100k");
  const lines: string[] = [];
  try {
    const now = Date.now();
    await small.recordWeek(now);
    await large.recordWeek(now);
    await small.fillTo(1_000);
    const t0 = performance.now();
    await large.fillTo(100_000);
    const fillSeconds = (performance.now() - t0) / 1000;
    const check = await large.stats.read();
    if (check.storage.redis?.entriesCount !== 100_000 || check.storage.postgres?.entriesCount !== 100_000) {
      throw new Error(`expected 100,000 entries per tier, stats say ${JSON.stringify(check.storage)}`);
    }

    const [s, l] = await interleaved(300, () => small.once(), () => large.once());
    const [sRest, lRest] = await interleaved(200, () => small.once("/api/cache/stats", small.appWithoutDurable), () => large.once("/api/cache/stats", large.appWithoutDurable));
    const [sMetrics, lMetrics] = await interleaved(100, () => small.once("/api/metrics"), () => large.once("/api/metrics"));
    const timed = (f: () => Promise<unknown>) => async () => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const [sDurable, lDurable] = await interleaved(100, timed(() => small.durable.storage()), timed(() => large.durable.storage()));
    const [sHot, lHot] = await interleaved(100, timed(() => small.hot.storage()), timed(() => large.hot.storage()));
    const row = (label: string, a: number, b: number, goal = "", bold = false) => {
      const f = (x: number) => (bold ? `**${x.toFixed(2)}**` : x.toFixed(2));
      return `| ${label} | ${a.toFixed(2)} | ${bold ? f(b) : b.toFixed(2)} | ${f(b / a)} | ${goal} |`;
    };

    lines.push(
      `Two deployments side by side, each with its own database and Redis prefix: one with 1,000 entries in both tiers, one with 100,000 ` +
        `(filled directly: PostgreSQL INSERT … SELECT then VACUUM ANALYZE, Redis writes pipelined 1,000 at a time; ${fillSeconds.toFixed(1)} s), ${FUNDS} funds, ` +
        `and the same 168 hour buckets of recorded traffic (60 lookups each). Timed through the route with app.request (JSON included), the two alternating call by call.`,
      "",
      "| measure | 1,000 entries | 100,000 entries | 100k / 1k | goal |",
      "|---|---|---|---|---|",
      row("GET /api/cache/stats p50 ms", median(s), median(l)),
      row("GET /api/cache/stats p95 ms", percentile(s, 0.95), percentile(l, 0.95), "p95 ≤ 50 ms, ratio ≤ 1.5", true),
      row("durable storage() alone, p50 ms (trigger-maintained per-fund totals)", median(sDurable), median(lDurable)),
      row("hot storage() alone, p50 ms (maintained counters)", median(sHot), median(lHot)),
      row("the stats read without the durable storage query, p95 ms", percentile(sRest, 0.95), percentile(lRest, 0.95)),
      row("GET /api/metrics (Prometheus) p95 ms", percentile(sMetrics, 0.95), percentile(lMetrics, 0.95)),
      "",
    );

    // Recording overhead: the same hot hit through a cache without and with the recorder, interleaved.
    const { hot, durable } = small;
    const cfg = ScenarioConfigWithMeta.parse({
      fundId: "bench-rec",
      numScenarios: 1000,
      buckets: [{ name: "b", capitalAllocation: 100, moicCalibration: { median: 1.5, p90: 3.5 } }],
      seed: "bench-rec",
    });
    const bare = createMatrixCache({ hot, durable });
    const recorded = createMatrixCache({ hot, durable, observer: createStatsRecorder({ hot }) });
    await bare.get(cfg);
    const hit = (c: typeof bare) => async () => {
      const t = performance.now();
      if ((await c.get(cfg)).tier !== "redis") throw new Error("expected a hot hit");
      return performance.now() - t;
    };
    const [without, withRec] = await interleaved(1000, hit(bare), hit(recorded));
    lines.push(
      "Recording on a hot hit (1,000 × 4 KB matrix, 1,000 interleaved pairs): the recorder adds one `apply` script (one round trip) after the hit's own read.",
      "",
      "| hot hit | p50 ms | p95 ms |",
      "|---|---|---|",
      `| without recording | ${median(without).toFixed(3)} | ${percentile(without, 0.95).toFixed(3)} |`,
      `| with recording | ${median(withRec).toFixed(3)} | ${percentile(withRec, 0.95).toFixed(3)} |`,
      `| **ratio** | **${(median(withRec) / median(without)).toFixed(2)}** | ${(percentile(withRec, 0.95) / percentile(without, 0.95)).toFixed(2)} |`,
    );
  } finally {
    await small.close();
    await large.close();
  }
  return lines;
}

// run alone: npx tsx bench/stats.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  benchStats()
    .then((lines) => {
      console.log(lines.join("\n"));
      process.exit(0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
