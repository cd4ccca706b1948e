// Bounded load against the real local server process on real Redis and PostgreSQL (loopback only, a
// fixed number of requests per scenario, so every one is answered before the count is compared):
// simulate on a warm key, stats, and both at once. Asserts behaviour, not speed:
// every request answered 2xx and /api/cache/stats counts exactly the simulate requests sent.
// The figures are printed (and written to reliability-results/load.json) for RELIABILITY.md.
import autocannon from "autocannon";
import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realTargets } from "../helpers/cache-fixture";
import { startLocalServer, type LocalServer } from "../helpers/local-server";
import { freshPostgresDatabase, uniquePrefix } from "../helpers/services";

const targets = await realTargets();
const SCALE = Number(process.env.LOAD_SCALE ?? 1); // 1 ≈ 10 s of load on 2 cores
const CONNECTIONS = 8;

type Figures = { scenario: string; sent: number; requests: number; rps: number; p50: number; p99: number; non2xx: number; errors: number };

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function figures(scenario: string, r: autocannon.Result): Figures {
  return {
    scenario,
    sent: r.requests.sent,
    requests: r["2xx"] + r.non2xx,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

describe.skipIf(!targets.available)("load on the local server (real Redis + PostgreSQL)", () => {
  let server: LocalServer;
  let drop: () => Promise<void>;
  const results: Figures[] = [];
  const simulateBody = JSON.stringify({ fundId: "fund-load", runs: 1000 });

  beforeAll(async () => {
    const fresh = await freshPostgresDatabase(targets.pg.url);
    drop = fresh.drop;
    server = await startLocalServer({ DATABASE_URL: fresh.url, REDIS_URL: targets.redis.url, HOT_PREFIX: uniquePrefix("load") });
  }, 90_000);
  afterAll(async () => {
    await server?.stop("SIGTERM");
    await drop?.();
    mkdirSync("reliability-results", { recursive: true });
    writeFileSync("reliability-results/load.json", JSON.stringify({ at: new Date().toISOString(), connections: CONNECTIONS, results }, null, 2));
    console.log(["| scenario | requests | req/s | p50 ms | p99 ms | non-2xx | errors |", "|---|---|---|---|---|---|---|",
      ...results.map((f) => `| ${f.scenario} | ${f.requests} | ${f.rps.toFixed(0)} | ${f.p50} | ${f.p99} | ${f.non2xx} | ${f.errors} |`)].join("\n"));
  }, 60_000);

  it("answers every request and loses none from the statistics", async () => {
    const post = { method: "POST" as const, headers: { "content-type": "application/json" }, body: simulateBody };
    const warm = await fetch(`${server.url}/api/monte-carlo/simulate`, post);
    expect(warm.status).toBe(200); // the miss that makes the key warm

    const n = (k: number) => Math.max(50, Math.round(k * SCALE));
    const sim = await run({ url: `${server.url}/api/monte-carlo/simulate`, ...post, connections: CONNECTIONS, amount: n(6000), timeout: 20 });
    results.push(figures("simulate, warm key", sim));
    const stats = await run({ url: `${server.url}/api/cache/stats`, connections: CONNECTIONS, amount: n(1500), timeout: 20 });
    results.push(figures("GET /api/cache/stats", stats));
    const [mixSim, mixStats] = await Promise.all([
      run({ url: `${server.url}/api/monte-carlo/simulate`, ...post, connections: CONNECTIONS / 2, amount: n(2000), timeout: 20 }),
      run({ url: `${server.url}/api/cache/stats`, connections: CONNECTIONS / 2, amount: n(1000), timeout: 20 }),
    ]);
    results.push(figures("mix: simulate", mixSim), figures("mix: stats", mixStats));

    for (const f of results) {
      expect(f.non2xx, f.scenario).toBe(0);
      expect(f.errors, f.scenario).toBe(0);
      expect(f.requests, f.scenario).toBeGreaterThan(0);
      expect(f.requests, f.scenario).toBe(f.sent);
    }
    const sent = 1 + sim["2xx"] + mixSim["2xx"];
    const body = (await (await fetch(`${server.url}/api/cache/stats`)).json()) as {
      overview: { totalRequests: number; cacheHits: number; cacheMisses: number };
    };
    expect(body.overview.totalRequests).toBe(sent);
    expect(body.overview.cacheMisses).toBe(1);
    expect(body.overview.cacheHits).toBe(sent - 1);
  }, 120_000);
});
