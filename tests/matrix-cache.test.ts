// get-or-generate over both tiers, against the embedded stores and the real servers.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEntry, type CacheObserver, type FaultEvent, type HotStore, type LookupEvent } from "../core/cache";
import { generateScenarioMatrix, matrixKey, type ScenarioConfigWithMeta } from "../core/scenario";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";

const sha = (b: ArrayBufferView) => createHash("sha256").update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest("hex");
const expectedHash = (c: ScenarioConfigWithMeta) => sha(generateScenarioMatrix(c).cells);

function recorder(): CacheObserver & { lookups: LookupEvent[]; faults: FaultEvent[] } {
  const lookups: LookupEvent[] = [];
  const faults: FaultEvent[] = [];
  return { lookups, faults, onLookup: (e) => void lookups.push(e), onFault: (e) => void faults.push(e) };
}

function countingGenerator() {
  const calls: string[] = [];
  return {
    calls,
    generate: async (c: ScenarioConfigWithMeta) => {
      calls.push(matrixKey(c));
      await new Promise((r) => setTimeout(r, 30)); // long enough for callers to pile up
      return generateScenarioMatrix(c);
    },
  };
}

/** A hot store whose every call fails (Redis down) or never answers (Redis hung). */
function brokenHot(mode: "throw" | "hang"): HotStore {
  const fail = () => (mode === "throw" ? Promise.reject(new Error("ECONNREFUSED")) : new Promise<never>(() => {}));
  return {
    kind: "redis",
    peek: fail,
    read: fail,
    write: fail,
    remove: fail,
    invalidate: fail,
    storage: fail,
    apply: fail,
    readHashes: fail,
    readTop: fail,
    ping: fail,
    close: async () => {},
  };
}

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`get-or-generate (${backend})`, () => {
    let fx: CacheFixture;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "cache");
    });
    afterAll(async () => fx?.close());

    it("generates on a miss, then serves the hot tier, then the durable tier with a back-fill", async () => {
      const cfg = config({ fundId: "f-tiers", seed: "tiers" });
      const cache = fx.cache();
      const first = await cache.get(cfg);
      expect(first.tier).toBe("generated");
      expect(first.stored).toBe(true);
      expect(first.matrixKey).toBe(matrixKey(cfg));
      expect(sha(first.matrix.data)).toBe(expectedHash(cfg));

      const second = await cache.get(cfg);
      expect(second.tier).toBe("redis");
      expect(sha(second.matrix.data)).toBe(expectedHash(cfg));

      await fx.hot.remove(first.matrixKey);
      const third = await cache.get(cfg);
      expect(third.tier).toBe("postgres");
      expect(sha(third.matrix.data)).toBe(expectedHash(cfg));
      expect((await cache.get(cfg)).tier).toBe("redis"); // back-filled
    });

    it("returns the recycling multiples on every tier", async () => {
      const cfg = config({
        fundId: "f-rec",
        recycling: { enabled: true, mode: "same-bucket", reinvestmentRate: 0.4, avgHoldingPeriod: 3, fundLifetime: 10 },
      });
      const cache = fx.cache();
      const g = await cache.get(cfg);
      const h = await cache.get(cfg);
      await fx.hot.remove(g.matrixKey);
      const p = await cache.get(cfg);
      expect(g.meta.recyclingMultiples.length).toBe(3);
      expect(g.meta.recyclingMultiples[0]).toBeGreaterThan(1);
      expect(h.meta.recyclingMultiples).toEqual(g.meta.recyclingMultiples);
      expect(p.meta.recyclingMultiples).toEqual(g.meta.recyclingMultiples);
    });

    it("keeps entries over the hot size cap durable-only", async () => {
      const cfg = config({ fundId: "f-big", numScenarios: 5000 });
      const cache = fx.cache({ options: { hotMaxEntryBytes: 10_000 } });
      expect((await cache.get(cfg)).tier).toBe("generated");
      expect((await cache.get(cfg)).tier).toBe("postgres");
      expect((await fx.hot.read(matrixKey(cfg), cfg.fundId)).value).toBeNull();
    });

    it("generates once for many concurrent callers in one process, all getting the same bytes", async () => {
      const cfg = config({ fundId: "f-flight", seed: "single-flight" });
      const gen = countingGenerator();
      const cache = fx.cache({ generate: gen.generate });
      const results = await Promise.all(Array.from({ length: 25 }, () => cache.get(cfg)));
      expect(gen.calls).toHaveLength(1);
      expect(new Set(results.map((r) => sha(r.matrix.data)))).toEqual(new Set([expectedHash(cfg)]));
    });

    it("generates once when two cache instances (two 'processes') race on one key", async () => {
      const cfg = config({ fundId: "f-race", seed: "two-instances" });
      const gen = countingGenerator();
      const a = fx.cache({ generate: gen.generate, options: { pollIntervalMs: 5 } });
      const b = fx.cache({ generate: gen.generate, options: { pollIntervalMs: 5 } });
      const results = await Promise.all([...Array.from({ length: 5 }, () => a.get(cfg)), ...Array.from({ length: 5 }, () => b.get(cfg))]);
      expect(gen.calls).toHaveLength(1);
      expect(new Set(results.map((r) => sha(r.matrix.data))).size).toBe(1);
    });

    it("takes over a crashed generator's lease once it expires", async () => {
      const cfg = config({ fundId: "f-crash", seed: "crash" });
      const key = matrixKey(cfg);
      const lease = await fx.durable.acquireLease({
        matrixKey: key, fundId: cfg.fundId, taxonomyVersion: cfg.taxonomyVersion, config: cfg,
        numScenarios: cfg.numScenarios, numBuckets: 3, owner: "crashed-process", leaseMs: 300,
      });
      expect(lease.acquired).toBe(true);
      const r = await fx.cache({ options: { pollIntervalMs: 20 } }).get(cfg);
      expect(r.tier).toBe("generated");
      expect(r.stored).toBe(true);
      expect((await fx.durable.status(key))?.status).toBe("complete");
    });

    it("marks a failed generation failed with its message, and the next call retries", async () => {
      const cfg = config({ fundId: "f-fail", seed: "fail" });
      const broken = fx.cache({ generate: () => { throw new Error("out of memory (simulated)"); } });
      await expect(broken.get(cfg)).rejects.toThrow(/generation failed/);
      expect((await fx.durable.status(matrixKey(cfg)))?.status).toBe("failed");
      const ok = await fx.cache().get(cfg);
      expect(ok.tier).toBe("generated");
      expect(sha(ok.matrix.data)).toBe(expectedHash(cfg));
    });

    it("treats a corrupt hot entry as a miss and replaces it", async () => {
      const cfg = config({ fundId: "f-corrupt-hot", seed: "corrupt-hot" });
      const cache = fx.cache();
      const first = await cache.get(cfg);
      const { epoch } = await fx.hot.read(first.matrixKey, cfg.fundId);
      const good = encodeEntry(first.meta, generateScenarioMatrix(cfg).bytes);
      const bad = good.slice();
      bad[bad.length - 5] ^= 0xff; // one cell flipped
      expect(await fx.hot.write({ matrixKey: first.matrixKey, fundId: cfg.fundId, value: bad, ttlMs: 60_000, epoch })).toBe("stored");
      const r = await cache.get(cfg);
      expect(r.tier).toBe("postgres");
      expect(sha(r.matrix.data)).toBe(expectedHash(cfg));
      expect((await cache.get(cfg)).tier).toBe("redis"); // replaced by the back-fill
    });

    it("treats a corrupt durable row as a miss and regenerates it", async () => {
      const cfg = config({ fundId: "f-corrupt-pg", seed: "corrupt-pg" });
      const cache = fx.cache({ options: { hotMaxEntryBytes: 1 } }); // durable-only
      const key = (await cache.get(cfg)).matrixKey;
      await fx.db.db.execute(
        `UPDATE scenario_matrices SET moic_matrix = overlay(moic_matrix placing '\\xdeadbeef'::bytea from 40 for 4) WHERE matrix_key = '${key}'` as never,
      );
      const r = await cache.get(cfg);
      expect(r.tier).toBe("generated");
      expect(sha(r.matrix.data)).toBe(expectedHash(cfg));
      expect((await cache.get(cfg)).tier).toBe("postgres");
    });

    it("does not resurrect an invalidated scope from a generation that began before the invalidation", async () => {
      const cfg = config({ fundId: "f-resurrect", seed: "resurrect" });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let started!: () => void;
      const generating = new Promise<void>((r) => (started = r));
      const cache = fx.cache({
        generate: async (c) => {
          started();
          await held;
          return generateScenarioMatrix(c);
        },
      });
      const pending = cache.get(cfg);
      await generating;
      await fx.durable.invalidate({ kind: "fund", fundId: cfg.fundId }, { mode: "soft", dryRun: false });
      await fx.hot.invalidate({ kind: "fund", fundId: cfg.fundId }, { dryRun: false });
      release();
      const r = await pending;
      expect(r.stored).toBe(false);
      expect(sha(r.matrix.data)).toBe(expectedHash(cfg));
      expect((await fx.hot.read(r.matrixKey, cfg.fundId)).value).toBeNull();
      expect((await fx.durable.readComplete(r.matrixKey))).toBeNull();
      expect((await fx.cache().get(cfg)).tier).toBe("generated");
    });

    it("reports every lookup to the observer before resolving, with per-tier timings", async () => {
      const cfg = config({ fundId: "f-observe" });
      const obs = recorder();
      const cache = fx.cache({ observer: obs });
      await cache.get(cfg);
      expect(obs.lookups).toHaveLength(1);
      await cache.get(cfg, { purpose: "warm" });
      expect(obs.lookups.map((l) => [l.outcome, l.tier, l.purpose])).toEqual([
        ["miss", "generated", "request"],
        ["hit", "redis", "warm"],
      ]);
      expect(obs.lookups[0].timings.generationMs).toBeGreaterThan(0);
      expect(obs.lookups[0].timings.postgresMs).toBeGreaterThan(0);
      expect(obs.lookups[1].generationMsSaved).toBeGreaterThan(0);
      expect(obs.lookups[0].sizeBytes).toBe(24 + 200 * 3 * 4);
    });
  });
}

describe("degradation", () => {
  let fx: CacheFixture;
  beforeAll(async () => {
    fx = await cacheFixture("embedded", "degrade");
  });
  afterAll(async () => fx?.close());

  for (const mode of ["throw", "hang"] as const) {
    it(`serves from PostgreSQL or generates when the hot tier is down (${mode}), counting the fault`, async () => {
      const cfg = config({ fundId: `f-hot-${mode}` });
      const obs = recorder();
      const cache = fx.cache({ hot: brokenHot(mode), observer: obs, options: { hotTimeoutMs: 50 } });
      const a = await cache.get(cfg);
      const b = await cache.get(cfg);
      expect([a.tier, b.tier]).toEqual(["generated", "postgres"]);
      expect(sha(b.matrix.data)).toBe(expectedHash(cfg));
      expect(obs.faults.length).toBeGreaterThanOrEqual(2);
      expect(obs.faults.every((f) => f.tier === "redis")).toBe(true);
    });
  }

  it("still returns a generated result when PostgreSQL is down, storing nothing", async () => {
    const cfg = config({ fundId: "f-pg-down" });
    const obs = recorder();
    const down = new Error("connect ECONNREFUSED 127.0.0.1:5432");
    const fail = () => Promise.reject(down);
    const cache = fx.cache({
      durable: { ...fx.durable, readComplete: fail, acquireLease: fail, complete: fail, fail, status: fail },
      observer: obs,
    });
    const r = await cache.get(cfg);
    expect(r.tier).toBe("generated");
    expect(r.stored).toBe(false);
    expect(sha(r.matrix.data)).toBe(expectedHash(cfg));
    expect(obs.faults.some((f) => f.tier === "postgres")).toBe(true);
    expect((await fx.hot.read(r.matrixKey, cfg.fundId)).value).toBeNull();
  });
});
