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
import { freshPostgresDatabase, postgresTarget, redisTarget } from "../tests/helpers/services";
import { syntheticEvent } from "../tests/helpers/stats-events";
import { median, percentile, timeIt } from "./util";

const FUNDS = 100;
const HOUR = 3_600_000;

export async function benchStats(): Promise<string[]> {
  const [pg, redis] = await Promise.all([postgresTarget(), redisTarget()]);
  if (!pg.available || !redis.available) return ["(skipped: PostgreSQL or Redis unreachable)"];
  const fresh = await freshPostgresDatabase(pg.url);
  const db = createDb({ url: fresh.url });
  await db.migrate();
  const prefix = `bench:stats:${Date.now()}:`;
  const hot = createRedisHotStore({ url: redis.url, prefix, commandTimeoutMs: 10_000 });
  const durable = createDrizzleDurableStore(db.db);
  const auth = { tokens: [], deployed: false };
  const stats = createStatsService({ hot, durable });
  const app = statsRoutes(createApp({ auth, log: silentLog }), { auth, stats, history: createHotStoreHistorySource({ hot }) });
  const lines: string[] = [];
  let entries = 0;

  /** Adds entries up to `n` in both tiers: one INSERT … SELECT in PostgreSQL, pipelined writes in Redis. */
  async function fillTo(n: number): Promise<void> {
    await db.db.execute(sql`
      INSERT INTO scenario_matrices (matrix_key, fund_id, taxonomy_version, config, status, moic_matrix, num_scenarios, num_buckets, size_bytes, generation_ms)
      SELECT 'bench-' || i, 'fund-' || (i % ${FUNDS}::int), 'v1', '{}'::jsonb, 'complete', decode(repeat('ab', 256), 'hex'), 100, 3, 256 + (i % 512), 100
      FROM generate_series(${entries}::int, ${n - 1}::int) AS i`);
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

  // The same route with the durable figure from a constant-time stand-in: what the rest of the read costs.
  const noDurable = { storage: async () => ({ entriesCount: entries, totalSizeBytes: 0 }) } as unknown as DurableStore;
  const appWithoutDurable = statsRoutes(createApp({ auth, log: silentLog }), {
    auth,
    stats: createStatsService({ hot, durable: noDurable }),
    history: createHotStoreHistorySource({ hot }),
  });

  /** Timed GET /api/cache/stats through the route (JSON included), after a few warm-up calls. */
  async function timeStats(runs: number, path = "/api/cache/stats", on = app): Promise<number[]> {
    for (let i = 0; i < 5; i++) await on.request(path);
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const res = await on.request(path);
      await res.arrayBuffer();
      out.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`stats answered ${res.status}`);
    }
    return out;
  }

  try {
    // A week of traffic in the hour buckets: 60 recorded lookups an hour, spread over the latency range.
    const now = Date.now();
    for (let h = 0; h < 168; h++) {
      const at = now - h * HOUR;
      const recorder = createStatsRecorder({ hot, clock: () => at, timeoutMs: 10_000 });
      await Promise.all(Array.from({ length: 60 }, (_, k) => recorder.onLookup(syntheticEvent(h * 60 + k, at))));
    }

    await fillTo(1_000);
    const small = await timeStats(200);
    const smallRest = await timeStats(200, "/api/cache/stats", appWithoutDurable);
    const smallMetrics = await timeStats(100, "/api/metrics");
    const smallDurable = await timeIt(100, () => durable.storage());
    const smallHot = await timeIt(100, () => hot.storage());
    const t0 = performance.now();
    await fillTo(100_000);
    const fillSeconds = (performance.now() - t0) / 1000;
    const large = await timeStats(200);
    const largeRest = await timeStats(200, "/api/cache/stats", appWithoutDurable);
    const largeMetrics = await timeStats(100, "/api/metrics");
    const check = await stats.read();
    if (check.storage.redis?.entriesCount !== 100_000 || check.storage.postgres?.entriesCount !== 100_000) {
      throw new Error(`expected 100,000 entries per tier, stats say ${JSON.stringify(check.storage)}`);
    }
    const largeDurable = await timeIt(100, () => durable.storage());
    const hotOnly = await timeIt(100, () => hot.storage());
    const row = (label: string, a: number, b: number, goal = "", bold = false) => {
      const f = (x: number) => (bold ? `**${x.toFixed(2)}**` : x.toFixed(2));
      return `| ${label} | ${a.toFixed(2)} | ${bold ? f(b) : b.toFixed(2)} | ${f(b / a)} | ${goal} |`;
    };

    lines.push(
      `Both tiers filled directly (PostgreSQL INSERT … SELECT, Redis writes pipelined 1,000 at a time; 99,000 more entries in ${fillSeconds.toFixed(1)} s), ` +
        `${FUNDS} funds, and 168 hour buckets of recorded traffic (60 lookups each). Timed through the route with app.request (JSON included), 200 calls after 5 warm-ups.`,
      "",
      "| measure | 1,000 entries | 100,000 entries | 100k / 1k | goal |",
      "|---|---|---|---|---|",
      row("GET /api/cache/stats p50 ms", median(small), median(large)),
      row("GET /api/cache/stats p95 ms", percentile(small, 0.95), percentile(large, 0.95), "p95 ≤ 50 ms, ratio ≤ 1.5", true),
      row("durable storage() alone, p50 ms (trigger-maintained per-fund totals)", median(smallDurable), median(largeDurable)),
      row("hot storage() alone, p50 ms (maintained counters)", median(smallHot), median(hotOnly)),
      row("the stats read without the durable storage query, p95 ms", percentile(smallRest, 0.95), percentile(largeRest, 0.95)),
      row("GET /api/metrics (Prometheus) p95 ms", percentile(smallMetrics, 0.95), percentile(largeMetrics, 0.95)),
      "",
    );

    // Recording overhead: the same hot hit through a cache without and with the recorder, interleaved.
    const cfg = ScenarioConfigWithMeta.parse({
      fundId: "bench-rec",
      numScenarios: 1000,
      buckets: [{ name: "b", capitalAllocation: 100, moicCalibration: { median: 1.5, p90: 3.5 } }],
      seed: "bench-rec",
    });
    const bare = createMatrixCache({ hot, durable });
    const recorded = createMatrixCache({ hot, durable, observer: createStatsRecorder({ hot }) });
    await bare.get(cfg);
    const without: number[] = [];
    const withRec: number[] = [];
    for (let i = 0; i < 50; i++) {
      await bare.get(cfg);
      await recorded.get(cfg);
    }
    for (let i = 0; i < 1000; i++) {
      let t = performance.now();
      if ((await bare.get(cfg)).tier !== "redis") throw new Error("expected a hot hit");
      without.push(performance.now() - t);
      t = performance.now();
      if ((await recorded.get(cfg)).tier !== "redis") throw new Error("expected a hot hit");
      withRec.push(performance.now() - t);
    }
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
    // remove only what this run created: its own prefix's entries and a throwaway database
    await hot.invalidate({ kind: "all" }, { dryRun: false });
    await hot.close();
    await db.close();
    await fresh.drop();
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
