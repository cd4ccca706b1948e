// Faults at the service level (the local app over its own stores): PostgreSQL cut through a private TCP
// proxy, Redis killed (a private redis-server), both restored. The service keeps answering what it can,
// never serves a wrong matrix, never claims an invalidation it could not audit, and recovers.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLog } from "../../core/shared/log";
import { generateScenarioMatrix, ScenarioConfigWithMeta } from "../../core/scenario";
import { resolveSimulateConfig, SimulateRequest } from "../../core/simulate";
import type { App } from "../../functions/http/kernel";
import { createLocalApp } from "../../functions/local/app";
import { createLocalWarming, type LocalWarming } from "../../functions/local/warming";
import { createRuntime, type Runtime } from "../../functions/shared/runtime";
import { realTargets } from "../helpers/cache-fixture";
import { hasRedisServer, privateRedis, type PrivateRedis } from "../helpers/private-redis";
import { freshPostgresDatabase, isCI } from "../helpers/services";
import { tcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const targets = await realTargets();
if (isCI && !hasRedisServer) throw new Error("redis-server is required for the fault tests under CI");

const auth = { deployed: false, tokens: [] };
const call = async (app: App, method: string, path: string, body?: unknown) => {
  const r = await app.request(path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any };
};
/** The fund MOIC percentiles simulate must report for a request, computed without any cache. */
function expectedP50(req: unknown): number {
  const cfg: ScenarioConfigWithMeta = resolveSimulateConfig(SimulateRequest.parse(req));
  const m = generateScenarioMatrix(cfg);
  const w = cfg.buckets.map((b) => b.capitalAllocation / 100);
  const fund = Array.from({ length: m.rows }, (_, i) => w.reduce((s, wj, j) => s + wj * m.cells[i * m.cols + j], 0)).sort((a, b) => a - b);
  const h = (fund.length - 1) * 0.5;
  const lo = Math.floor(h);
  return fund[lo] + (h - lo) * (fund[Math.min(lo + 1, fund.length - 1)] - fund[lo]);
}

describe.skipIf(!targets.available || !hasRedisServer)("service under storage faults", () => {
  let proxy: TcpProxy;
  let redis: PrivateRedis;
  let rt: Runtime;
  let warming: LocalWarming;
  let app: App;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshPostgresDatabase(targets.pg.url);
    drop = fresh.drop;
    const u = new URL(fresh.url);
    proxy = await tcpProxy(u.hostname, Number(u.port || 5432));
    u.host = `127.0.0.1:${proxy.port}`;
    redis = await privateRedis();
    rt = await createRuntime({ databaseUrl: u.toString(), redisUrl: redis.url, migrate: true, log: silentLog, cacheOptions: { hotTimeoutMs: 300 } });
    warming = createLocalWarming(rt);
    app = createLocalApp({ runtime: rt, auth, warming });
  }, 60_000);
  afterAll(async () => {
    await warming?.close(1000);
    await rt?.close();
    await proxy?.close();
    await redis?.stop().catch(() => {});
    await drop?.();
  });

  it("keeps simulating correctly with PostgreSQL cut, refuses unauditable admin work, and recovers", async () => {
    const hot = { fundId: "fund-pg", runs: 400 };
    const cold = { fundId: "fund-pg", runs: 401 };
    expect((await call(app, "POST", "/api/monte-carlo/simulate", hot)).body.cache.tier).toBe("generated");
    const auditBefore = (await call(app, "GET", "/api/cache/audit")).body;

    await proxy.cut();
    const hit = await call(app, "POST", "/api/monte-carlo/simulate", hot);
    expect(hit.status).toBe(200);
    expect(hit.body.cache.tier).toBe("redis");
    expect(hit.body.percentiles.p50).toBeCloseTo(expectedP50(hot), 5);
    const miss = await call(app, "POST", "/api/monte-carlo/simulate", cold);
    expect(miss.status).toBe(200);
    expect(miss.body.cache).toMatchObject({ tier: "generated", stored: false });
    expect(miss.body.percentiles.p50).toBeCloseTo(expectedP50(cold), 5);

    const inv = await call(app, "POST", "/api/cache/invalidate", { scope: "fund", fundId: "fund-pg", reason: "during outage" });
    expect(inv.status).toBe(503); // never a silent, unaudited or partial success
    const warm = await call(app, "POST", "/api/cache/warm", { fundIds: ["fund-pg"], taxonomyVersion: "v1", priority: "high", configs: [{ numScenarios: 300 }] });
    expect([warm.status, warm.body.error?.code]).toEqual([503, "unavailable"]); // no job can be recorded: refused, not dropped
    const stats = await call(app, "GET", "/api/cache/stats");
    expect(stats.body.storage.postgres).toBeNull();
    expect(stats.body.errors.map((e: { tier: string }) => e.tier)).toContain("postgres");

    await proxy.restore();
    let stored = false;
    for (let i = 0; i < 40 && !stored; i++) {
      const r = await call(app, "POST", "/api/monte-carlo/simulate", { ...cold, runs: 402 + i });
      stored = r.status === 200 && r.body.cache.stored === true;
      if (!stored) await new Promise((res) => setTimeout(res, 250));
    }
    expect(stored).toBe(true);
    const retried = await call(app, "POST", "/api/cache/invalidate", { scope: "fund", fundId: "fund-pg", reason: "after outage" });
    expect(retried.status).toBe(200);
    const auditAfter = (await call(app, "GET", "/api/cache/audit")).body;
    expect(JSON.stringify(auditAfter)).toContain("after outage");
    expect(JSON.stringify(auditBefore)).not.toContain("after outage");
    expect((await call(app, "POST", "/api/monte-carlo/simulate", hot)).body.cache.tier).toBe("generated"); // invalidated
  }, 90_000);

  it("keeps serving from PostgreSQL with Redis killed, reports the hot tier unavailable, and recovers", async () => {
    const req = { fundId: "fund-redis", runs: 300 };
    const first = await call(app, "POST", "/api/monte-carlo/simulate", req);
    expect(first.body.cache.tier).toBe("generated");

    await redis.stop();
    const during = await call(app, "POST", "/api/monte-carlo/simulate", req);
    expect(during.status).toBe(200);
    expect(during.body.cache.tier).toBe("postgres");
    expect(during.body.percentiles).toEqual(first.body.percentiles);
    const stats = await call(app, "GET", "/api/cache/stats");
    expect(stats.status).toBe(200);
    expect(stats.body.storage.redis).toBeNull(); // never zeros for a tier it could not read
    expect(stats.body.errors.some((e: { tier: string }) => e.tier === "redis")).toBe(true);
    const inv = await call(app, "POST", "/api/cache/invalidate", { scope: "fund", fundId: "fund-redis", reason: "redis down" });
    expect(inv.status).toBe(503); // the hot tier could not be cleared: the operator must retry
    expect(inv.body.invalidated?.redis ?? null).toBeNull();

    await redis.start();
    let tier = "";
    for (let i = 0; i < 40 && tier !== "redis"; i++) {
      tier = (await call(app, "POST", "/api/monte-carlo/simulate", { fundId: "fund-redis", runs: 350 })).body.cache.tier;
      if (tier !== "redis") await new Promise((res) => setTimeout(res, 250));
    }
    expect(tier).toBe("redis");
  }, 90_000);
});
