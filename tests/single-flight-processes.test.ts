// Single-flight across processes: two child processes sharing PostgreSQL and Redis, each with several
// concurrent callers for one uncached key, cause exactly one generation between them.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheFixture, realTargets, type CacheFixture } from "./helpers/cache-fixture";
import { configInput } from "./helpers/factories";

const run = promisify(execFile);
const targets = await realTargets();

describe.skipIf(!targets.available)("single-flight across two processes (real PostgreSQL + Redis)", () => {
  let fx: CacheFixture;
  beforeAll(async () => {
    fx = await cacheFixture("real", "flight");
  });
  afterAll(async () => fx?.close());

  it("generates exactly once and every caller in both processes gets the same bytes", async () => {
    const env = {
      ...process.env,
      DATABASE_URL: fx.databaseUrl,
      REDIS_URL: fx.redisUrl,
      HOT_PREFIX: fx.hotPrefix,
      CONFIG: JSON.stringify(configInput({ fundId: "f-procs", seed: "two-processes", numScenarios: 2000 })),
      CALLERS: "6",
      START_AT: String(Date.now() + 2500), // after both children have loaded
    };
    const child = () => run(process.execPath, ["--import", "tsx", "tests/helpers/flight-child.ts"], { env, cwd: process.cwd() });
    const outs = await Promise.all([child(), child()]);
    const results = outs.map((o) => JSON.parse(o.stdout.trim().split("\n").pop()!) as { generations: number; tiers: string[]; hashes: string[] });
    expect(results.reduce((s, r) => s + r.generations, 0)).toBe(1);
    expect(new Set(results.flatMap((r) => r.hashes)).size).toBe(1);
    expect(results.flatMap((r) => r.tiers).filter((t) => t === "generated").length).toBe(6); // the leader's process
  }, 60_000);
});
