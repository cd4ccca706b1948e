// The statistics routes through app.request(): on the local app over a real runtime (every simulate is
// recorded and shows up in the stats), auth, query validation naming the field, partial answers and 503,
// the hot-store history, Prometheus on /api/metrics and the local unauthenticated /metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import type { DurableStore, HotStore } from "../core/cache";
import { silentLog } from "../core/shared/log";
import { createHotStoreHistorySource, createStatsRecorder, createStatsService, HistoryResponse, StatsResponse } from "../core/stats";
import { createApp, type App } from "../functions/http/kernel";
import { statsRoutes } from "../functions/http/routes/stats";
import { createLocalApp } from "../functions/local/app";
import { createRuntime, type Runtime } from "../functions/shared/runtime";
import { syntheticEvent } from "./helpers/stats-events";

const READ = "stats-read-token";
const ADMIN = "stats-admin-token";
const auth = {
  deployed: false,
  tokens: [
    { actor: "reader", role: "read" as const, token: READ },
    { actor: "admin", role: "admin" as const, token: ADMIN },
  ],
};
const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
type ErrorBody = { error: { code: string; details?: { path: string }[] } };

describe("stats routes on the local app", () => {
  let rt: Runtime;
  let app: App;
  beforeAll(async () => {
    rt = await createRuntime({ pgliteDir: "memory://", migrate: true, log: silentLog });
    app = createLocalApp({ runtime: rt, auth });
    const simulate = () =>
      app.request("/api/monte-carlo/simulate", { method: "POST", body: JSON.stringify({ fundId: "fund-1", runs: 200 }), headers: { ...as(READ).headers, "content-type": "application/json" } });
    expect((await simulate()).status).toBe(200);
    expect((await simulate()).status).toBe(200);
  }, 60_000);
  afterAll(async () => rt?.close());

  it("reports the simulate requests the server answered, with exact storage, right after their responses", async () => {
    const res = await app.request("/api/cache/stats", as(READ));

    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = StatsResponse.parse(await res.json());
    expect(body.overview).toMatchObject({ totalRequests: 2, cacheHits: 1, cacheMisses: 1, hitRate: 0.5, requestsByTier: { redis: 1, postgres: 0, generated: 1 } });
    expect(body.recentActivity?.last24Hours).toEqual({ requests: 2, hits: 1, misses: 1 });
    expect(body.storage.redis?.entriesCount).toBe(1);
    expect(body.storage.postgres?.entriesCount).toBe(1);
    expect(body.storage.redis!.totalSizeBytes).toBe((await rt.hot.storage()).totalSizeBytes);
    expect(body.performance?.slowestQueries).toHaveLength(2);
    expect(body.overview!.avgLatencyMs.generation).toBeGreaterThan(0);
    expect(body.errors).toEqual([]);
  });

  it("restricts storage to one fund with ?fundId= and validates it, naming the field", async () => {
    const other = StatsResponse.parse(await (await app.request("/api/cache/stats?fundId=fund-2", as(READ))).json());
    const bad = await app.request("/api/cache/stats?fundId=fund*", as(READ));
    const badWindow = await app.request("/api/cache/stats?window=1y", as(READ));

    expect(other.storage.redis?.entriesCount).toBe(0);
    expect(other.fundId).toBe("fund-2");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.details?.[0].path).toBe("fundId");
    expect(badWindow.status).toBe(400);
    expect(((await badWindow.json()) as ErrorBody).error.details?.[0].path).toBe("window");
  });

  it("requires a token with the read role (admin also reads)", async () => {
    expect((await app.request("/api/cache/stats")).status).toBe(401);
    expect((await app.request("/api/cache/stats", as("nope"))).status).toBe(401);
    expect((await app.request("/api/cache/stats", as(ADMIN))).status).toBe(200);
    expect((await app.request("/api/metrics")).status).toBe(401);
    expect((await app.request("/api/cache/stats/history")).status).toBe(401);
  });

  it("answers history from the hot store's hour buckets locally", async () => {
    const res = await app.request("/api/cache/stats/history", as(READ));

    expect(res.status).toBe(200);
    const body = HistoryResponse.parse(await res.json());
    expect(body.source).toBe("hot-store");
    expect(body.periodSeconds).toBe(3600);
    expect(body.points.reduce((s, p) => s + p.requests, 0)).toBe(2);
    expect(body.points.at(-1)!.byTier.generated.requests).toBe(1);
  });

  it("serves Prometheus text on /api/metrics and, without a token, on the local /metrics", async () => {
    const api = await app.request("/api/metrics", as(READ));
    const local = await app.request("/metrics");

    for (const res of [api, local]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const text = await res.text();
      expect(text).toContain('smc_requests_total{purpose="request",tier="generated"} 1');
      expect(text).toContain('smc_request_duration_seconds_count{tier="redis"} 1');
    }
  });

  it("refuses the unauthenticated /metrics to a client that is not on loopback", async () => {
    const remote = await app.request("/metrics", {}, { incoming: { socket: { remoteAddress: "203.0.113.7" } } });
    const loopback = await app.request("/metrics", {}, { incoming: { socket: { remoteAddress: "::ffff:127.0.0.1" } } });

    expect(remote.status).toBe(403);
    expect(loopback.status).toBe(200);
  });

  it("documents the routes in the OpenAPI document with their response schemas", async () => {
    const doc = (await (await app.request("/api/openapi.json")).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> };

    const stats = doc.paths["/api/cache/stats"].get.responses["200"].content["application/json"].schema;
    expect(Object.keys(stats.properties ?? {})).toEqual(expect.arrayContaining(["overview", "storage", "performance", "recentActivity", "errors"]));
    expect(doc.paths["/api/cache/stats/history"].get).toBeDefined();
    expect(Object.keys(doc.paths["/api/metrics"].get.responses["200"].content)).toEqual(["text/plain; version=0.0.4; charset=utf-8"]);
  });
});

describe("stats routes when tiers fail", () => {
  const durable = (storage: DurableStore["storage"]) => ({ storage }) as unknown as DurableStore;
  const down = (hot: HotStore): HotStore => ({
    ...hot,
    readHashes: () => Promise.reject(new Error("ECONNREFUSED")),
    readTop: () => Promise.reject(new Error("ECONNREFUSED")),
    storage: () => Promise.reject(new Error("ECONNREFUSED")),
  });
  const appOver = (hot: HotStore, d: DurableStore, clock = () => Date.now()) =>
    statsRoutes(createApp({ auth, log: silentLog }), { auth, stats: createStatsService({ hot, durable: d, clock }), history: createHotStoreHistorySource({ hot, clock }), clock });

  it("answers 200 with the failed tier null and listed in errors", async () => {
    const hot = createMemoryHotStore();
    await createStatsRecorder({ hot }).onLookup(syntheticEvent(1, Date.now()));
    const res = await appOver(hot, durable(() => Promise.reject(new Error("too many connections")))).request("/api/cache/stats", as(READ));

    expect(res.status).toBe(200);
    const body = StatsResponse.parse(await res.json());
    expect(body.storage.postgres).toBeNull();
    expect(body.overview?.totalRequests).toBe(1);
    expect(body.errors).toEqual([{ tier: "postgres", part: "storage", message: "too many connections" }]);
  });

  it("answers 503 naming every part when nothing can be read, and 503 on /api/metrics without counters", async () => {
    const app = appOver(down(createMemoryHotStore()), durable(() => Promise.reject(new Error("down"))));

    const stats = await app.request("/api/cache/stats", as(READ));
    const metrics = await app.request("/api/metrics", as(READ));

    expect(stats.status).toBe(503);
    const body = (await stats.json()) as ErrorBody;
    expect(body.error.code).toBe("unavailable");
    expect(body.error.details?.map((d) => d.path)).toEqual(["redis.counters", "redis.storage", "postgres.storage"]);
    expect(metrics.status).toBe(503);
  });
});

describe("GET /api/cache/stats/history validation", () => {
  const NOW = Date.UTC(2026, 10, 26, 12, 30, 0);
  const hot = createMemoryHotStore();
  const app = statsRoutes(createApp({ auth, log: silentLog }), {
    auth,
    stats: createStatsService({ hot, durable: { storage: async () => ({ entriesCount: 0, totalSizeBytes: 0 }) } as unknown as DurableStore }),
    history: createHotStoreHistorySource({ hot, clock: () => NOW }),
    clock: () => NOW,
  });
  const iso = (hoursAgo: number) => new Date(NOW - hoursAgo * 3_600_000).toISOString();
  const fieldOf = async (query: string) => {
    const res = await app.request(`/api/cache/stats/history?${query}`, as(READ));
    return res.status === 400 ? ((await res.json()) as ErrorBody).error.details?.[0].path : res.status;
  };

  it("names the field of every invalid query", async () => {
    expect(await fieldOf("from=yesterday")).toBe("from");
    expect(await fieldOf("to=2026-13-01T00:00:00Z")).toBe("to");
    expect(await fieldOf("period=abc")).toBe("period");
    expect(await fieldOf("period=90")).toBe("period"); // not a multiple of 60
    expect(await fieldOf("period=-3600")).toBe("period");
    expect(await fieldOf(`from=${iso(1)}&to=${iso(2)}`)).toBe("from"); // from after to
    expect(await fieldOf(`from=${iso(-5)}`)).toBe("from"); // in the future
    expect(await fieldOf(`from=${iso(24 * 500)}`)).toBe("from"); // beyond any retention
    expect(await fieldOf(`from=${iso(24 * 100)}&period=3600`)).toBe("period"); // 2400 points
  });

  it("names the field when the local hour buckets cannot answer", async () => {
    expect(await fieldOf("period=60")).toBe("period"); // the hot store has hour buckets
    expect(await fieldOf(`from=${iso(24 * 9)}&period=86400`)).toBe("from"); // older than the 8 days kept
    expect(await fieldOf(`from=${iso(24 * 7)}&period=21600`)).toBe(200);
  });

  it("cuts a `to` in the future to now", async () => {
    const res = await app.request(`/api/cache/stats/history?to=${new Date(NOW + 86_400_000 * 1000).toISOString()}`, as(READ));

    expect(res.status).toBe(200);
    expect(HistoryResponse.parse(await res.json()).to).toBe(new Date(NOW).toISOString());
  });
});
