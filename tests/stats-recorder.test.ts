// Recording statistics: one hot-store apply per lookup, exact totals under concurrent writers (in one
// process on the memory store and on Redis, and across two processes on Redis), warming counted apart,
// and nothing lost or double counted while the hot store fails or is slow.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import { createRedisHotStore } from "../adapters/hot-redis";
import type { CounterOp, HotStore, LookupEvent } from "../core/cache";
import { aggregate, bucketIndex, createStatsRecorder, hourId, STATS_KEY, StatsRecordTimeoutError } from "../core/stats";
import { cacheFixture, realTargets } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";
import { redisTarget, uniquePrefix, unlinkRedisPrefixes } from "./helpers/services";
import { indexesOf, syntheticEvent } from "./helpers/stats-events";

const run = promisify(execFile);
const redis = await redisTarget();
const targets = await realTargets();
const AT = Date.UTC(2026, 10, 26, 10, 17, 0);
const HOUR = hourId(AT);
const prefixes: string[] = [];

afterAll(async () => {
  if (redis.available) await unlinkRedisPrefixes(redis.url, prefixes);
});

/** Counts the calls reaching a store, by method. */
function counting(hot: HotStore) {
  const calls: Record<string, number> = {};
  const store = new Proxy(hot, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

type Backend = { name: string; available: boolean; make: () => HotStore };
const backends: Backend[] = [
  { name: "memory", available: true, make: () => createMemoryHotStore() },
  {
    name: "redis",
    available: redis.available,
    make: () => {
      const prefix = uniquePrefix("stats-rec");
      prefixes.push(prefix);
      return createRedisHotStore({ url: redis.url, prefix, commandTimeoutMs: 10_000 });
    },
  },
];

/** What the store must hold after recording exactly these events. */
function expectedTotals(indexes: readonly number[]) {
  const events = indexes.map((g) => syntheticEvent(g, AT));
  const by = (t: string) => events.filter((e) => e.tier === t);
  const latencyUs = (t: string) => by(t).reduce((s, e) => s + Math.round(e.latencyMs * 1000), 0);
  const histogram = new Map<number, number>();
  for (const e of by("redis")) histogram.set(bucketIndex(e.latencyMs), (histogram.get(bucketIndex(e.latencyMs)) ?? 0) + 1);
  const slowest = [...events].sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 10);
  return {
    requests: events.length,
    hits: events.filter((e) => e.outcome === "hit").length,
    misses: events.filter((e) => e.outcome === "miss").length,
    servedBy: { redis: by("redis").length, postgres: by("postgres").length, generated: by("generated").length },
    latencyUs: { redis: latencyUs("redis"), postgres: latencyUs("postgres"), generated: latencyUs("generated") },
    redisHistogram: histogram,
    bytes: events.reduce((s, e) => s + e.sizeBytes, 0),
    slowest: slowest.map((e) => ({ matrixKey: e.matrixKey, latencyMs: e.latencyMs })),
  };
}

async function assertTotals(hot: HotStore, indexes: readonly number[]) {
  const want = expectedTotals(indexes);
  const [counters, histograms, total] = await hot.readHashes([STATS_KEY.counters(HOUR), STATS_KEY.histograms(HOUR), STATS_KEY.total]);
  const hour = aggregate([counters, histograms]);
  const allTime = aggregate([total]);
  for (const agg of [hour, allTime]) {
    expect(agg.purposes.request).toMatchObject({ requests: want.requests, hits: want.hits, misses: want.misses, servedBy: want.servedBy, bytes: want.bytes });
    expect(agg.servedLatencyUs).toEqual(want.latencyUs);
    expect([...agg.servedHistograms.redis].sort((a, b) => a[0] - b[0])).toEqual([...want.redisHistogram].sort((a, b) => a[0] - b[0]));
  }
  const top = await hot.readTop(STATS_KEY.slowLog(HOUR), 10);
  expect(top.map((t) => ({ matrixKey: t.member.split("|")[1], latencyMs: t.score }))).toEqual(want.slowest);
}

for (const b of backends) {
  describe.skipIf(!b.available)(`stats recorder on the ${b.name} hot store`, () => {
    it("gives exact totals for 20 concurrent writers × 500 events in one process", async () => {
      const hot = b.make();
      const recorder = createStatsRecorder({ hot, clock: () => AT, timeoutMs: 10_000 });
      const spec = { processIndex: 0, writers: 20, events: 500, at: AT };

      await Promise.all(
        Array.from({ length: spec.writers }, async (_, w) => {
          for (const g of indexesOf(spec, w)) await recorder.onLookup(syntheticEvent(g, AT));
        }),
      );

      expect(recorder.pending()).toBe(0);
      await assertTotals(hot, Array.from({ length: 10_000 }, (_, g) => g));
      await hot.close();
    }, 60_000);

    it("counts warm lookups apart from client requests", async () => {
      const hot = b.make();
      const recorder = createStatsRecorder({ hot, clock: () => AT });
      const warm: LookupEvent = { ...syntheticEvent(9, AT), purpose: "warm" }; // a generated one

      await recorder.onLookup(warm);
      await recorder.onLookup(syntheticEvent(0, AT));

      const [counters] = await hot.readHashes([STATS_KEY.counters(HOUR)]);
      const agg = aggregate([counters]);
      expect(agg.purposes.request).toMatchObject({ requests: 1, hits: 1, misses: 0 });
      expect(agg.purposes.warm).toMatchObject({ requests: 1, hits: 0, misses: 1, servedBy: { redis: 0, postgres: 0, generated: 1 } });
      expect(agg.purposes.warm.generationUs).toBe(Math.round(warm.timings.generationMs! * 1000));
      // warm latencies stay out of the client histograms and slow log
      expect(agg.servedLatencyUs.generated).toBe(0);
      expect((await hot.readTop(STATS_KEY.slowLog(HOUR), 10)).map((t) => t.member.split("|")[1])).toEqual(["k0"]);
      await hot.close();
    });
  });
}

describe("stats retention", () => {
  it("lets hour buckets expire 8 days after their last update and keeps the all-time totals (memory)", async () => {
    let now = Date.now();
    const hot = createMemoryHotStore({ now: () => now });
    await createStatsRecorder({ hot, clock: () => AT }).onLookup(syntheticEvent(1, AT));
    const read = () => hot.readHashes([STATS_KEY.counters(HOUR), STATS_KEY.histograms(HOUR), STATS_KEY.activity(HOUR), STATS_KEY.total]);

    now += 8 * 24 * 3_600_000 - 1000;
    const before = await read();
    now += 2000;
    const after = await read();

    expect(before.map((h) => Object.keys(h).length > 0)).toEqual([true, true, true, true]);
    expect(after.map((h) => Object.keys(h).length > 0)).toEqual([false, false, false, true]);
    expect(await hot.readTop(STATS_KEY.slowLog(HOUR), 10)).toEqual([]);
  });

  it.skipIf(!redis.available)("sets an 8-day expiry on every hour key and none on the totals (Redis)", async () => {
    const prefix = uniquePrefix("stats-ttl");
    prefixes.push(prefix);
    const hot = createRedisHotStore({ url: redis.url, prefix });
    await createStatsRecorder({ hot, clock: () => AT }).onLookup(syntheticEvent(1, AT));
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const ttl = (k: string) => admin.ttl(`${prefix}c:${k}`);

    const hourly = await Promise.all([STATS_KEY.counters(HOUR), STATS_KEY.histograms(HOUR), STATS_KEY.activity(HOUR), STATS_KEY.slowLog(HOUR)].map(ttl));

    for (const t of hourly) expect(t).toBeGreaterThan(8 * 24 * 3600 - 60);
    for (const t of hourly) expect(t).toBeLessThanOrEqual(8 * 24 * 3600);
    expect(await ttl(STATS_KEY.total)).toBe(-1); // exists, no expiry
    await admin.quit();
    await hot.close();
  });
});

describe.skipIf(!redis.available)("stats recorder across two processes (real Redis)", () => {
  it("gives exact totals for 20 concurrent writers × 500 events in each of two processes", async () => {
    const prefix = uniquePrefix("stats-procs");
    prefixes.push(prefix);
    const env = {
      ...process.env,
      REDIS_URL: redis.url,
      HOT_PREFIX: prefix,
      WRITERS: "20",
      EVENTS: "500",
      AT: String(AT),
      START_AT: String(Date.now() + 2500), // after both children have loaded
    };
    const child = (i: number) =>
      run(process.execPath, ["--import", "tsx", "tests/helpers/stats-writer-child.ts"], { env: { ...env, PROCESS_INDEX: String(i) }, cwd: process.cwd() });

    const outs = await Promise.all([child(0), child(1)]);

    for (const o of outs) expect(JSON.parse(o.stdout.trim().split("\n").pop()!)).toEqual({ recorded: 10_000, pending: 0 });
    const hot = createRedisHotStore({ url: redis.url, prefix });
    await assertTotals(hot, Array.from({ length: 20_000 }, (_, g) => g));
    await hot.close();
  }, 90_000);
});

describe("stats recorder: one round trip per lookup", () => {
  for (const backend of ["embedded", "real"] as const) {
    it.skipIf(backend === "real" && !targets.available)(`adds exactly one hot-store apply to each get-or-generate (${backend})`, async () => {
      const fx = await cacheFixture(backend, "stats-rt");
      if (fx.hotPrefix) prefixes.push(fx.hotPrefix);
      const { store, calls } = counting(fx.hot);
      const recorder = createStatsRecorder({ hot: store });
      const cache = fx.cache({ hot: store, observer: recorder });
      const cfg = config({ fundId: "fund-rt", numScenarios: 100 });

      const miss = await cache.get(cfg);
      const afterMiss = { ...calls };
      const hit = await cache.get(cfg);

      expect([miss.tier, hit.tier]).toEqual(["generated", "redis"]);
      expect(afterMiss.apply).toBe(1);
      expect(calls.apply).toBe(2);
      // a hot hit is its plain read (peek) plus the one apply: nothing else reaches the hot store
      const hitCalls = Object.fromEntries(
        Object.entries(calls)
          .map(([k, n]): [string, number] => [k, n - (afterMiss[k] ?? 0)])
          .filter(([, n]) => n > 0),
      );
      expect(hitCalls).toEqual({ peek: 1, apply: 1 });
      // a miss: peek, then the epoch read, the back-fill write and the apply
      expect(afterMiss).toEqual({ peek: 1, read: 1, write: 1, apply: 1 });
      const [counters] = await fx.hot.readHashes([STATS_KEY.counters(hourId(Date.now()))]);
      expect(aggregate([counters]).purposes.request).toMatchObject({ requests: 2, hits: 1, misses: 1 });
      await fx.close();
    }, 90_000); // PGlite's migrations alone take seconds on a loaded machine
  }
});

describe("stats recorder when the hot store fails", () => {
  /** A memory store whose apply fails while `down`, or answers after `delayMs`. */
  function flaky() {
    const inner = createMemoryHotStore();
    const state = { down: false, delayMs: 0, applies: 0 };
    const store: HotStore = {
      ...inner,
      async apply(ops: readonly CounterOp[]) {
        state.applies += 1;
        if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
        if (state.down) throw new Error("connection refused");
        return inner.apply(ops);
      },
    };
    return { store, state };
  }
  const requests = async (hot: HotStore) => aggregate(await hot.readHashes([STATS_KEY.total])).purposes.request.requests;

  it("queues updates during an outage and sends them with the first apply that succeeds", async () => {
    const { store, state } = flaky();
    const recorder = createStatsRecorder({ hot: store, clock: () => AT, retryAfterMs: 0 });
    state.down = true;

    await expect(recorder.onLookup(syntheticEvent(1, AT))).rejects.toThrow("connection refused");
    recorder.onFault({ tier: "redis", op: "read", matrixKey: "k2", error: new Error("down") });
    await expect(recorder.onLookup(syntheticEvent(2, AT))).rejects.toThrow();
    expect(recorder.pending()).toBeGreaterThan(0);
    state.down = false;
    await recorder.onLookup(syntheticEvent(3, AT));

    expect(recorder.pending()).toBe(0);
    expect(await requests(store)).toBe(3);
    const agg = aggregate(await store.readHashes([STATS_KEY.counters(HOUR)]));
    expect(agg.faults.redis).toBe(1);
    expect(agg.faultsByOperation).toEqual({ "redis:read": 1 });
  });

  it("after a hot-tier fault, skips the hot store for retryAfterMs instead of waiting on it for every request", async () => {
    const { store, state } = flaky();
    const recorder = createStatsRecorder({ hot: store, clock: () => AT, retryAfterMs: 60_000 });

    recorder.onFault({ tier: "redis", op: "read", matrixKey: "k1", error: new Error("timeout") });
    for (let g = 0; g < 5; g++) await recorder.onLookup(syntheticEvent(g, AT));

    expect(state.applies).toBe(0);
    expect(recorder.pending()).toBeGreaterThan(0);
    expect(await requests(store)).toBe(0);
  });

  it("gives up waiting after timeoutMs without counting the late apply twice", async () => {
    const { store, state } = flaky();
    const recorder = createStatsRecorder({ hot: store, clock: () => AT, timeoutMs: 20, retryAfterMs: 0 });
    state.delayMs = 150;

    const t = performance.now();
    await expect(recorder.onLookup(syntheticEvent(1, AT))).rejects.toBeInstanceOf(StatsRecordTimeoutError);
    expect(performance.now() - t).toBeLessThan(140);
    await new Promise((r) => setTimeout(r, 200)); // the late apply lands
    state.delayMs = 0;
    await recorder.onLookup(syntheticEvent(2, AT));
    await recorder.flush();

    expect(await requests(store)).toBe(2);
    expect(recorder.pending()).toBe(0);
  });
});
