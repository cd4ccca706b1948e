// End to end: the real `npm start` process on embedded defaults, over HTTP.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "./helpers/local-server";

const json = (url: string, init?: RequestInit) =>
  fetch(url, { ...init, headers: { "content-type": "application/json", ...init?.headers } }).then(async (r) => ({
    status: r.status,
    headers: r.headers,
    body: (await r.json()) as any,
  }));

describe("local server on embedded defaults (no tokens)", () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer();
  }, 60_000);
  afterAll(async () => {
    await server?.stop("SIGKILL");
  });

  it("listens on loopback only and says loudly that auth is off", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toMatch(/AUTH IS OFF/);
  });

  it("reports each dependency on /health", async () => {
    const r = await json(`${server.url}/health`);
    expect(r.status).toBe(200);
    expect(r.body.dependencies.hot).toMatchObject({ kind: "memory", ok: true });
    expect(r.body.dependencies.durable).toMatchObject({ kind: "pglite", ok: true });
  });

  it("simulates the original plan's request: a miss, then a hot hit with the same figures", async () => {
    const req = { method: "POST", body: JSON.stringify({ fundId: "fund-e2e", runs: 1000 }) };
    const first = await json(`${server.url}/api/monte-carlo/simulate`, req);
    expect(first.status).toBe(200);
    expect(first.body.cache).toMatchObject({ hit: false, tier: "generated", stored: true });
    expect(first.body.cache.matrixKey).toMatch(/^[0-9a-f]{64}$/);
    expect(first.body.runs).toBe(1000);
    const p = first.body.percentiles;
    expect(p.p5).toBeLessThan(p.p25);
    expect(p.p25).toBeLessThan(p.p50);
    expect(p.p50).toBeLessThan(p.p75);
    expect(p.p75).toBeLessThan(p.p95);
    expect(first.body.probabilityBelow1x).toBeGreaterThan(0);
    expect(first.body.probabilityBelow1x).toBeLessThan(1);
    const second = await json(`${server.url}/api/monte-carlo/simulate`, req);
    expect(second.body.cache).toMatchObject({ hit: true, tier: "redis", matrixKey: first.body.cache.matrixKey });
    expect(second.body.percentiles).toEqual(first.body.percentiles);
  });

  it("runs the README's smoke test verbatim: simulate, stats, invalidate fund-1, warm, poll the job, simulate hits", async () => {
    const post = (path: string, body: string) => json(`${server.url}${path}`, { method: "POST", body });
    const sim = await post("/api/monte-carlo/simulate", '{"fundId":"fund-1","runs":1000}');
    expect(sim.status).toBe(200);
    const stats = await json(`${server.url}/api/cache/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body.overview.totalRequests).toBeGreaterThanOrEqual(1);
    expect(stats.body.storage.postgres.entriesCount).toBeGreaterThanOrEqual(1);
    const inv = await post("/api/cache/invalidate", '{"scope":"fund","fundId":"fund-1","reason":"smoke test"}');
    expect(inv.status).toBe(200);
    expect(inv.body.invalidated.postgres).toBeGreaterThanOrEqual(1);
    expect(inv.body.auditLog).toMatchObject({ user: "local-anonymous", reason: "smoke test" });
    expect((await post("/api/monte-carlo/simulate", '{"fundId":"fund-1","runs":1000}')).body.cache.hit).toBe(false);
    const warm = await post(
      "/api/cache/warm",
      '{"fundIds":["fund-1"],"taxonomyVersion":"v1","priority":"high","configs":[{"numScenarios":1000,"buckets":[]}]}',
    );
    expect(warm.status).toBeLessThan(300);
    expect(warm.body.jobs[0].configHash).toBe(sim.body.cache.matrixKey); // same fund, taxonomy and config
    const jobId = warm.body.jobs[0].jobId;
    let status = "";
    for (let i = 0; i < 100 && status !== "complete"; i++) {
      status = (await json(`${server.url}/api/cache/warm/jobs/${jobId}`)).body.status;
      if (status !== "complete") await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("complete");
    expect((await post("/api/monte-carlo/simulate", '{"fundId":"fund-1","runs":1000}')).body.cache.hit).toBe(true);
  });

  it("answers bad input with a 400 naming the field and a request id", async () => {
    const r = await json(`${server.url}/api/monte-carlo/simulate`, { method: "POST", body: JSON.stringify({ fundId: "fund 1", runs: 0 }) });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("validation_error");
    expect(r.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(["fundId", "runs"]));
    expect(r.body.error.requestId).toBe(r.headers.get("x-request-id"));
  });

  it("serves an OpenAPI 3.1 document", async () => {
    const r = await json(`${server.url}/api/openapi.json`);
    expect(r.body.openapi).toBe("3.1.0");
    expect(r.body.paths["/api/monte-carlo/simulate"].post["x-required-role"]).toBe("read");
  });
});

describe("local server shutdown", () => {
  it("drains an in-flight request on SIGTERM and exits 0", async () => {
    const server = await startLocalServer();
    // The request is in flight for sure: its headers are sent, its body is held back until after SIGTERM.
    const body = JSON.stringify({ fundId: "fund-drain", runs: 20_000 });
    const u = new URL(server.url);
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: u.hostname, port: u.port, path: "/api/monte-carlo/simulate", method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        const code = server.stop("SIGTERM");
        setTimeout(() => req.end(body.slice(10)), 300); // the rest arrives after the signal
        exit = code;
      }, 500);
    });
    let exit: Promise<number | null> | undefined;
    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).runs).toBe(20_000);
    expect(await exit).toBe(0);
  }, 60_000);

  it("with tokens configured requires them: 401 without or with an unknown token, 403 for the wrong role, the actor from the token", async () => {
    const tokens = [
      { actor: "reader", role: "read", token: "read-token-123" },
      { actor: "ops", role: "admin", token: "admin-token-456" },
    ];
    const server = await startLocalServer({ API_TOKENS: JSON.stringify(tokens) });
    try {
      expect(server.output()).not.toMatch(/AUTH IS OFF/);
      const body = JSON.stringify({ fundId: "fund-1", runs: 10 });
      const none = await json(`${server.url}/api/monte-carlo/simulate`, { method: "POST", body });
      expect(none.status).toBe(401);
      const bad = await json(`${server.url}/api/monte-carlo/simulate`, { method: "POST", body, headers: { authorization: "Bearer nope" } });
      expect(bad.status).toBe(401);
      const ok = await json(`${server.url}/api/monte-carlo/simulate`, { method: "POST", body, headers: { authorization: "Bearer read-token-123" } });
      expect(ok.status).toBe(200);
      const inv = JSON.stringify({ scope: "fund", fundId: "fund-1", reason: "auth test" });
      const wrongRole = await json(`${server.url}/api/cache/invalidate`, { method: "POST", body: inv, headers: { authorization: "Bearer read-token-123" } });
      expect(wrongRole.status).toBe(403);
      const admin = await json(`${server.url}/api/cache/invalidate`, { method: "POST", body: inv, headers: { authorization: "Bearer admin-token-456" } });
      expect(admin.status).toBe(200);
      expect(admin.body.auditLog.user).toBe("ops"); // the actor comes from the credential
    } finally {
      await server.stop("SIGKILL");
    }
  }, 60_000);
});
