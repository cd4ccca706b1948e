// The hot tier stops mid-run (a private redis-server, killed and restarted): requests keep being
// served from PostgreSQL or generated, never an error, and the hot tier is used again once it is back.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { createRedisHotStore } from "../adapters/hot-redis";
import { createMatrixCache, type FaultEvent, type HotStore } from "../core/cache";
import { generateScenarioMatrix } from "../core/scenario";
import { config } from "./helpers/factories";
import { hasRedisServer, privateRedis, type PrivateRedis } from "./helpers/private-redis";
import { isCI } from "./helpers/services";

if (!hasRedisServer && isCI) throw new Error("redis-server is required for the fault tests under CI");

describe.skipIf(!hasRedisServer)("hot tier stopped mid-run", () => {
  let redis: PrivateRedis;
  let db: DbHandle;
  let hot: HotStore;
  beforeAll(async () => {
    redis = await privateRedis();
    db = createDb({ pgliteDir: "memory://" });
    await db.migrate();
    hot = createRedisHotStore({ url: redis.url, prefix: "fault:" });
  });
  afterAll(async () => {
    await hot?.close();
    await db?.close();
    await redis?.stop().catch(() => {});
  });

  it("degrades to PostgreSQL while Redis is down and recovers when it returns", async () => {
    const faults: FaultEvent[] = [];
    const cache = createMatrixCache({
      hot,
      durable: createDrizzleDurableStore(db.db),
      observer: { onFault: (f) => void faults.push(f) },
      options: { hotTimeoutMs: 300 },
    });
    const cfgs = Array.from({ length: 4 }, (_, i) => config({ fundId: "f-fault", seed: `fault-${i}` }));
    const hash = (d: Float32Array) => createHash("sha256").update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest("hex");
    const expected = cfgs.map((c) => hash(generateScenarioMatrix(c).cells));

    for (const c of cfgs) expect((await cache.get(c)).tier).toBe("generated");
    for (const c of cfgs) expect((await cache.get(c)).tier).toBe("redis");

    await redis.stop();
    const during = await Promise.all(cfgs.map((c) => cache.get(c)));
    expect(during.map((r) => r.tier)).toEqual(["postgres", "postgres", "postgres", "postgres"]);
    expect(during.map((r) => hash(r.matrix.data))).toEqual(expected);
    expect(faults.filter((f) => f.tier === "redis").length).toBeGreaterThanOrEqual(4);

    await redis.start(); // empty: it kept nothing on disk
    let tiers: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      tiers = [];
      for (const c of cfgs) tiers.push((await cache.get(c)).tier);
      if (tiers.every((t) => t === "redis")) break;
      await new Promise((r) => setTimeout(r, 200)); // the client reconnects with backoff
    }
    expect(tiers).toEqual(["redis", "redis", "redis", "redis"]);
  }, 60_000);
});
