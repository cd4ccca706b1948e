// The stats service: rolling windows on an injected clock, figures equal to what was recorded (percentiles
// within the stated bound), exact storage per tier and per fund, and partial answers when a tier fails.
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import { createRedisHotStore } from "../adapters/hot-redis";
import type { DurableStore, HotStore, LookupEvent } from "../core/cache";
import { UnavailableError } from "../core/shared/errors";
import { createStatsRecorder, createStatsService, RELATIVE_ERROR_BOUND, StatsResponse } from "../core/stats";
import { cacheFixture, realTargets } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";
import { redisTarget, uniquePrefix, unlinkRedisPrefixes } from "./helpers/services";
import { syntheticEvent } from "./helpers/stats-events";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10, 17, 0);
const redis = await redisTarget();
const targets = await realTargets();
const prefixes: string[] = [];

afterAll(async () => {
  if (redis.available) await unlinkRedisPrefixes(redis.url, prefixes);
});

/** A durable tier that only answers `storage` (all the service reads from it). */
const durableWith = (storage: DurableStore["storage"]) => ({ storage }) as unknown as DurableStore;
const emptyDurable = durableWith(async () => ({ entriesCount: 0, totalSizeBytes: 0 }));

const hotStores: { name: string; available: boolean; make: () => HotStore }[] = [
  { name: "memory", available: true, make: () => createMemoryHotStore() },
  {
    name: "redis",
    available: redis.available,
    make: () => {
      const prefix = uniquePrefix("stats-svc");
      prefixes.push(prefix);
      return createRedisHotStore({ url: redis.url, prefix });
    },
  },
];

const exactPercentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil((p * s.length) / 100)) - 1];
};
const within = (estimate: number | null, exact: number) => {
  expect(estimate).not.toBeNull();
  expect(Math.abs(estimate! - exact) / exact).toBeLessThanOrEqual(RELATIVE_ERROR_BOUND + 1e-6);
};

for (const b of hotStores) {
  describe.skipIf(!b.available)(`stats service on the ${b.name} hot store`, () => {
    it("rolls its windows: events older than 24 h leave last24Hours, older than 7 days leave last7Days", async () => {
      const hot = b.make();
      let now = T0;
      const clock = () => now;
      const recorder = createStatsRecorder({ hot, clock });
      const stats = createStatsService({ hot, durable: emptyDurable, clock });
      for (let g = 0; g < 10; g++) await recorder.onLookup(syntheticEvent(g, now)); // 9 hits, 1 miss
      const at = async (t: number) => {
        now = t;
        return stats.read();
      };

      // hour buckets: the last 23 (167) hours are always in, nothing older than 24 (168) hours ever is
      const fresh = await at(T0 + 23 * HOUR);
      const day = await at(T0 + 24 * HOUR + 1);
      const week = await at(T0 + 167 * HOUR);
      const gone = await at(T0 + 7 * 24 * HOUR + 1);

      expect(fresh.recentActivity).toEqual({ last24Hours: { requests: 10, hits: 9, misses: 1 }, last7Days: { requests: 10, hits: 9, misses: 1 } });
      expect(fresh.overview?.totalRequests).toBe(10);
      expect(fresh.window).toEqual({
        name: "24h",
        from: new Date(Math.floor((T0 + 23 * HOUR) / HOUR) * HOUR - 23 * HOUR).toISOString(),
        to: new Date(T0 + 23 * HOUR).toISOString(),
        granularity: "hour",
        hours: 24,
      });
      expect(day.recentActivity).toEqual({ last24Hours: { requests: 0, hits: 0, misses: 0 }, last7Days: { requests: 10, hits: 9, misses: 1 } });
      expect(day.overview?.totalRequests).toBe(0);
      expect(day.overview?.hitRate).toBeNull();
      expect(day.performance?.slowestQueries).toEqual([]);
      expect(week.recentActivity?.last7Days.requests).toBe(10);
      expect(gone.recentActivity?.last7Days.requests).toBe(0);
      // the 7-day window of the overview follows the same rule
      now = T0 + 6 * 24 * HOUR;
      expect((await stats.read({ window: "7d" })).overview?.totalRequests).toBe(10);
      await hot.close();
    });

    it("reports exactly what was recorded: counts, averages, percentiles within the bound, the 10 slowest", async () => {
      const hot = b.make();
      const clock = () => T0;
      const recorder = createStatsRecorder({ hot, clock });
      const stats = createStatsService({ hot, durable: emptyDurable, clock });
      const events: LookupEvent[] = Array.from({ length: 400 }, (_, g) => syntheticEvent(g, T0 - 5 * HOUR + g * 1000));
      const warm: LookupEvent = { ...syntheticEvent(9, T0), purpose: "warm" };
      for (const e of events) await recorder.onLookup(e);
      await recorder.onLookup(warm);
      recorder.onFault({ tier: "postgres", op: "read", matrixKey: "k1", error: new Error("x") });
      await recorder.onLookup(events[0]);
      events.push(events[0]);

      const body = StatsResponse.parse(await stats.read());

      const hits = events.filter((e) => e.outcome === "hit");
      expect(body.overview).toMatchObject({
        totalRequests: 401,
        cacheHits: hits.length,
        cacheMisses: 401 - hits.length,
        hitRate: hits.length / 401,
        requestsByTier: {
          redis: events.filter((e) => e.tier === "redis").length,
          postgres: events.filter((e) => e.tier === "postgres").length,
          generated: events.filter((e) => e.tier === "generated").length,
        },
        bytesServed: events.reduce((s, e) => s + e.sizeBytes, 0),
      });
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const redisTimes = events.map((e) => e.timings.redisMs!);
      const pgTimes = events.flatMap((e) => (e.timings.postgresMs === undefined ? [] : [e.timings.postgresMs]));
      const genTimes = events.flatMap((e) => (e.timings.generationMs === undefined ? [] : [e.timings.generationMs]));
      expect(body.overview!.avgLatencyMs.redis).toBeCloseTo(mean(redisTimes), 2);
      expect(body.overview!.avgLatencyMs.postgres).toBeCloseTo(mean(pgTimes), 2);
      expect(body.overview!.avgLatencyMs.generation).toBeCloseTo(mean(genTimes), 2);
      expect(body.overview!.generationSecondsSaved).toBeCloseTo((hits.length * 12.5) / 1000, 5);

      const latencies = events.map((e) => e.latencyMs);
      within(body.performance!.p50LatencyMs, exactPercentile(latencies, 50));
      within(body.performance!.p95LatencyMs, exactPercentile(latencies, 95));
      within(body.performance!.p99LatencyMs, exactPercentile(latencies, 99));
      within(body.performance!.tiers.postgres.p95LatencyMs, exactPercentile(pgTimes, 95));
      within(body.performance!.servedBy.generated.p50LatencyMs, exactPercentile(events.filter((e) => e.tier === "generated").map((e) => e.latencyMs), 50));
      expect(body.performance!.tiers.redis.count).toBe(401);
      expect(body.performance!.relativeErrorBound).toBeLessThanOrEqual(0.05);

      const slowest = [...events].sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 10);
      expect(body.performance!.slowestQueries).toEqual(
        slowest.map((e) => ({ matrixKey: e.matrixKey, latencyMs: e.latencyMs, timestamp: new Date(e.at).toISOString() })),
      );
      expect(body.warming).toEqual({ requests: 1, hits: 0, misses: 1, generated: 1, generationSeconds: Math.round(warm.timings.generationMs! * 1000) / 1e6 });
      expect(body.faults).toEqual({ redis: 0, postgres: 1, byOperation: { "postgres:read": 1 } });
      expect(body.errors).toEqual([]);
      await hot.close();
    });
  });
}

describe("stats service storage", () => {
  for (const backend of ["embedded", "real"] as const) {
    it.skipIf(backend === "real" && !targets.available)(`reports exact entries and bytes per tier, in total and per fund (${backend})`, async () => {
      const fx = await cacheFixture(backend, "stats-storage");
      prefixes.push(fx.hotPrefix);
      const cache = fx.cache();
      const stats = createStatsService({ hot: fx.hot, durable: fx.durable });
      const configs = [
        config({ fundId: "fund-a", seed: "s1", numScenarios: 100 }),
        config({ fundId: "fund-a", seed: "s2", numScenarios: 300 }),
        config({ fundId: "fund-b", seed: "s3", numScenarios: 200 }),
      ];
      const keys: { key: string; fundId: string }[] = [];
      for (const c of configs) keys.push({ key: (await cache.get(c)).matrixKey, fundId: c.fundId });
      // sizes read entry by entry, independently of the counters the service uses
      const hotSize = async (fund?: string) => {
        let n = 0;
        for (const k of keys.filter((k) => !fund || k.fundId === fund)) n += (await fx.hot.read(k.key, k.fundId)).value!.byteLength;
        return n;
      };
      const durableSize = async (fund?: string) => {
        let n = 0;
        for (const k of keys.filter((k) => !fund || k.fundId === fund)) n += (await fx.durable.readComplete(k.key))!.bytes.byteLength;
        return n;
      };

      const all = await stats.read();
      const fundA = await stats.read({ fundId: "fund-a" });
      const none = await stats.read({ fundId: "fund-none" });

      expect(all.storage.redis).toEqual({ entriesCount: 3, totalSizeBytes: await hotSize(), avgEntrySizeBytes: expect.closeTo((await hotSize()) / 3, 3) });
      expect(all.storage.postgres).toMatchObject({ entriesCount: 3, totalSizeBytes: await durableSize() });
      expect(fundA.fundId).toBe("fund-a");
      expect(fundA.storage.redis).toMatchObject({ entriesCount: 2, totalSizeBytes: await hotSize("fund-a") });
      expect(fundA.storage.postgres).toMatchObject({ entriesCount: 2, totalSizeBytes: await durableSize("fund-a") });
      expect(none.storage).toEqual({
        redis: { entriesCount: 0, totalSizeBytes: 0, avgEntrySizeBytes: null },
        postgres: { entriesCount: 0, totalSizeBytes: 0, avgEntrySizeBytes: null },
      });
      await fx.close();
    }, 90_000); // PGlite's migrations alone take seconds on a loaded machine
  }
});

describe("stats service when a tier cannot be read", () => {
  const failing = (hot: HotStore): HotStore => ({
    ...hot,
    readHashes: async () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:6379")),
    readTop: async () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:6379")),
    storage: async () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:6379")),
  });

  it("answers without the durable tier: its storage is null and named in errors, the rest is real", async () => {
    const hot = createMemoryHotStore();
    await createStatsRecorder({ hot }).onLookup(syntheticEvent(0, Date.now()));
    const stats = createStatsService({ hot, durable: durableWith(() => Promise.reject(new Error("password authentication failed"))) });

    const body = StatsResponse.parse(await stats.read());

    expect(body.storage.postgres).toBeNull();
    expect(body.storage.redis).toEqual({ entriesCount: 0, totalSizeBytes: 0, avgEntrySizeBytes: null });
    expect(body.overview?.totalRequests).toBe(1);
    expect(body.errors).toEqual([{ tier: "postgres", part: "storage", message: "password authentication failed" }]);
  });

  it("answers without the hot tier: counters and hot storage are null, never zeros", async () => {
    const stats = createStatsService({ hot: failing(createMemoryHotStore()), durable: durableWith(async () => ({ entriesCount: 4, totalSizeBytes: 4000 })) });

    const body = StatsResponse.parse(await stats.read());

    expect(body).toMatchObject({ overview: null, performance: null, recentActivity: null, warming: null, faults: null });
    expect(body.storage).toEqual({ redis: null, postgres: { entriesCount: 4, totalSizeBytes: 4000, avgEntrySizeBytes: 1000 } });
    expect(body.errors.map((e) => `${e.tier}.${e.part}`)).toEqual(["redis.counters", "redis.storage"]);
  });

  it("treats a tier that hangs as unreadable after timeoutMs", async () => {
    const stats = createStatsService({ hot: createMemoryHotStore(), durable: durableWith(() => new Promise(() => {})), timeoutMs: 50 });

    const body = await stats.read();

    expect(body.storage.postgres).toBeNull();
    expect(body.errors[0]).toMatchObject({ tier: "postgres", part: "storage", message: expect.stringMatching(/within 50 ms/) });
  });

  it("throws UnavailableError (503) naming every part when nothing can be read", async () => {
    const stats = createStatsService({ hot: failing(createMemoryHotStore()), durable: durableWith(() => Promise.reject(new Error("down"))) });

    const err = await stats.read().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).details?.map((d) => d.path)).toEqual(["redis.counters", "redis.storage", "postgres.storage"]);
  });
});
