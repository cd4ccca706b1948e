// The invalidation service over both tiers and the audit trail, against the embedded stores (memory +
// PGlite) and the real servers (Redis + PostgreSQL): every scope, mode and dry run; no resurrection; tier
// and audit failures.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import type { AuditStore } from "../core/audit";
import type { HotStore, HotWriteOutcome } from "../core/cache";
import {
  AuditWriteFailedError,
  invalidate,
  InvalidateRequest,
  type InvalidateRequestInput,
  type InvalidationDeps,
} from "../core/invalidation";
import { generateScenarioMatrix, matrixKey, type ScenarioConfigWithMeta } from "../core/scenario";
import type { Log } from "../core/shared/log";
import { createStatsRecorder, STATS_KEY } from "../core/stats";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";

const sha = (b: ArrayBufferView) => createHash("sha256").update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest("hex");

const FUND_A = "fund-a";
const FUND_B = "fund-b";
const cfgA = [1, 2, 3].map((i) => config({ fundId: FUND_A, numScenarios: 50, seed: `a${i}` }));
const cfgB = [1, 2].map((i) => config({ fundId: FUND_B, numScenarios: 50, seed: `b${i}` }));
const ALL = [...cfgA, ...cfgB];

/** A log that keeps what it is given, to check what an operation wrote to it. */
function capturingLog(): Log & { lines: { level: string; message: string; data?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => void lines.push({ level, message, data });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

// The suites share two cores with others: a hot call slower than the production 250 ms would count as a
// fault and turn an expected hot hit into a durable one, so these caches wait longer.
const PATIENT = { hotTimeoutMs: 5_000 };

const failing = (message: string) => () => Promise.reject(new Error(message));
const hanging = () => new Promise<never>(() => {});

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

describe("InvalidateRequest", () => {
  const issues = (input: unknown) => {
    const r = InvalidateRequest.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => [i.path.join("."), i.message]);
  };
  const key = "a".repeat(64);

  it("defaults to a soft, real run", () => {
    expect(InvalidateRequest.parse({ scope: "all" })).toEqual({ scope: "all", mode: "soft", dryRun: false });
  });

  it("requires fundId for the fund scope and matrixKey for the matrix scope, naming the field", () => {
    expect(issues({ scope: "fund" })).toEqual([["fundId", "is required when scope is 'fund'"]]);
    expect(issues({ scope: "matrix" })).toEqual([["matrixKey", "is required when scope is 'matrix'"]]);
  });

  it("refuses a target the scope does not use, so a request is never wider than it reads", () => {
    expect(issues({ scope: "all", fundId: "f" })).toEqual([["fundId", "is only allowed when scope is 'fund'"]]);
    expect(issues({ scope: "fund", fundId: "f", matrixKey: key })).toEqual([["matrixKey", "is only allowed when scope is 'matrix'"]]);
    expect(issues({ scope: "matrix", matrixKey: key, fundId: "f" })).toEqual([["fundId", "is only allowed when scope is 'fund'"]]);
  });

  it("checks the formats of the matrix key and the fund id", () => {
    expect(issues({ scope: "matrix", matrixKey: key.toUpperCase() })[0][0]).toBe("matrixKey");
    expect(issues({ scope: "matrix", matrixKey: "ab" })[0][0]).toBe("matrixKey");
    expect(issues({ scope: "fund", fundId: "a b*" })[0][0]).toBe("fundId");
  });

  it("refuses unknown fields (a misspelt dryRun must not run for real) and wrong types", () => {
    expect(issues({ scope: "all", dryrun: true })[0][1]).toMatch(/unknown field "dryrun"/);
    expect(issues({ scope: "all", dryRun: "true" })[0][0]).toBe("dryRun");
    expect(issues({ scope: "all", mode: "purge" })[0][0]).toBe("mode");
    expect(issues({ scope: "everything" })[0][0]).toBe("scope");
    expect(issues({ scope: "all", reason: "x".repeat(1001) })[0][0]).toBe("reason");
    expect(issues({ scope: "all", reason: "nul\u0000" })[0][0]).toBe("reason");
    expect(issues({ scope: "all", reason: "line one\n\tline two" })).toEqual([]);
  });
});

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`invalidation service (${backend})`, () => {
    let fx: CacheFixture;
    let audit: AuditStore;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "inval");
      audit = createDrizzleAuditStore(fx.db.db);
    });
    afterAll(async () => fx?.close());
    // every test starts from two empty tiers (the stats counters are left alone, as invalidation does)
    beforeEach(async () => {
      await fx.durable.invalidate({ kind: "all" }, { mode: "hard", dryRun: false });
      await fx.hot.invalidate({ kind: "all" }, { dryRun: false });
    });

    const deps = (o: Partial<InvalidationDeps> = {}): InvalidationDeps => ({ hot: fx.hot, durable: fx.durable, audit, ...o });
    const run = (input: InvalidateRequestInput, o: Partial<InvalidationDeps> = {}, actor = "alice") =>
      invalidate(deps(o), InvalidateRequest.parse(input), actor);

    async function seed(cfgs: ScenarioConfigWithMeta[] = ALL) {
      const cache = fx.cache({ options: PATIENT });
      for (const c of cfgs) expect((await cache.get(c)).tier).toBe("generated");
    }
    /** Where an entry is: hot present?, durable status (null = no row). */
    async function where(c: ScenarioConfigWithMeta) {
      const key = matrixKey(c);
      const [h, d] = await Promise.all([fx.hot.read(key, c.fundId), fx.durable.status(key)]);
      return { hot: h.value !== null, durable: d?.status ?? null };
    }
    const live = { hot: true, durable: "complete" };
    const gone = (mode: "soft" | "hard") => ({ hot: false, durable: mode === "soft" ? "invalidated" : null });
    /** The tier each config is served from next (a fresh cache instance: nothing in-process). */
    async function nextTiers(cfgs: ScenarioConfigWithMeta[]) {
      const cache = fx.cache({ options: PATIENT });
      const out: string[] = [];
      for (const c of cfgs) out.push((await cache.get(c)).tier);
      return out;
    }
    const latestAudit = async () => (await audit.list({ limit: 1 })).entries[0];

    for (const mode of ["soft", "hard"] as const) {
      it(`fund scope (${mode}): removes exactly the fund's entries from both tiers; its next reads miss everywhere; other funds untouched`, async () => {
        await seed();
        const r = await run({ scope: "fund", fundId: FUND_A, mode, reason: "bad calibration" });

        expect(r.invalidated).toEqual({ redis: 3, postgres: 3 });
        expect(r.errors).toEqual([]);
        expect(r).toMatchObject({ scope: "fund", fundId: FUND_A, mode, dryRun: false });
        for (const c of cfgA) expect(await where(c)).toEqual(gone(mode));
        for (const c of cfgB) expect(await where(c)).toEqual(live);
        expect(await nextTiers(cfgA)).toEqual(["generated", "generated", "generated"]);
        expect(await nextTiers(cfgB)).toEqual(["redis", "redis"]);
      });

      it(`matrix scope (${mode}): removes one entry from both tiers; its fund's other entries untouched`, async () => {
        await seed();
        const target = cfgA[1];
        const r = await run({ scope: "matrix", matrixKey: matrixKey(target), mode });

        expect(r.invalidated).toEqual({ redis: 1, postgres: 1 });
        expect(r).toMatchObject({ scope: "matrix", matrixKey: matrixKey(target), mode });
        expect(await where(target)).toEqual(gone(mode));
        for (const c of ALL.filter((c) => c !== target)) expect(await where(c)).toEqual(live);
        expect(await nextTiers([target])).toEqual(["generated"]);
        expect(await nextTiers([cfgA[0], cfgA[2]])).toEqual(["redis", "redis"]);
      });

      it(`all scope (${mode}): removes every entry from both tiers and never touches the statistics`, async () => {
        const recorder = createStatsRecorder({ hot: fx.hot });
        const cache = fx.cache({ observer: recorder, options: PATIENT });
        for (const c of ALL) await cache.get(c);
        await cache.get(ALL[0]); // a hit, so hit counters exist too
        const statsBefore = await fx.hot.readHashes([STATS_KEY.total]);
        expect(statsBefore[0]).not.toEqual({});

        const r = await run({ scope: "all", mode });

        expect(r.invalidated).toEqual({ redis: 5, postgres: 5 });
        for (const c of ALL) expect(await where(c)).toEqual(gone(mode));
        expect(await fx.hot.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await fx.durable.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await fx.hot.readHashes([STATS_KEY.total])).toEqual(statsBefore);
        expect(await nextTiers(ALL)).toEqual(ALL.map(() => "generated"));
      });

      for (const scope of ["all", "fund", "matrix"] as const) {
        it(`dry run, ${scope} scope (${mode}): counts what a real run then removes, changing nothing`, async () => {
          await seed();
          const input: InvalidateRequestInput =
            scope === "all" ? { scope } : scope === "fund" ? { scope, fundId: FUND_A } : { scope, matrixKey: matrixKey(cfgA[0]) };
          const storageBefore = [await fx.hot.storage(), await fx.durable.storage()];

          const dry = await run({ ...input, mode, dryRun: true });

          expect(dry.dryRun).toBe(true);
          for (const c of ALL) expect(await where(c)).toEqual(live);
          expect([await fx.hot.storage(), await fx.durable.storage()]).toEqual(storageBefore);
          expect(await latestAudit()).toMatchObject({ id: dry.auditLog.id, dryRun: true, counts: dry.invalidated });
          // the counts are what a real run of the same request changes
          const real = await run({ ...input, mode });
          expect(dry.invalidated).toEqual(real.invalidated);
          expect(dry.invalidated).toEqual(scope === "all" ? { redis: 5, postgres: 5 } : scope === "fund" ? { redis: 3, postgres: 3 } : { redis: 1, postgres: 1 });
        });
      }
    }

    it("counts what actually changed: a repeated soft run finds nothing; a hard run after a soft one deletes the kept rows", async () => {
      await seed(cfgA);
      expect((await run({ scope: "fund", fundId: FUND_A })).invalidated).toEqual({ redis: 3, postgres: 3 });
      expect((await run({ scope: "fund", fundId: FUND_A })).invalidated).toEqual({ redis: 0, postgres: 0 });
      expect((await run({ scope: "fund", fundId: FUND_A, mode: "hard" })).invalidated).toEqual({ redis: 0, postgres: 3 });
      for (const c of cfgA) expect(await where(c)).toEqual({ hot: false, durable: null });
      expect((await run({ scope: "fund", fundId: "fund-never-seen" })).invalidated).toEqual({ redis: 0, postgres: 0 });
    });

    it("writes an audit record with the actor, target, mode, reason, counts, duration and dry-run flag", async () => {
      await seed(cfgA);
      const r = await run({ scope: "fund", fundId: FUND_A, mode: "hard", reason: "  taxonomy v2  " }, {}, "ops-bot");

      expect(r.auditLog).toMatchObject({ user: "ops-bot", reason: "taxonomy v2" });
      expect(Date.parse(r.auditLog.timestamp)).toBeGreaterThan(Date.now() - 60_000);
      expect(r.duration).toBeGreaterThan(0);
      expect(r.duration).toBeCloseTo(r.timings.postgresMs + r.timings.redisMs, 6);
      expect(await latestAudit()).toEqual({
        id: r.auditLog.id,
        timestamp: r.auditLog.timestamp,
        actor: "ops-bot",
        action: "invalidate",
        scope: "fund",
        fundId: FUND_A,
        matrixKey: null,
        mode: "hard",
        reason: "taxonomy v2",
        dryRun: false,
        counts: { redis: 3, postgres: 3 },
        durationMs: r.duration,
        errors: [],
      });
    });

    for (const [scope, mode] of [["fund", "soft"], ["fund", "hard"], ["matrix", "soft"], ["matrix", "hard"], ["all", "soft"], ["all", "hard"]] as const) {
      it(`no resurrection (${scope}, ${mode}): a generation begun before the invalidation serves its caller but is stored nowhere`, async () => {
        const cfg = cfgA[0];
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let started!: () => void;
        const generating = new Promise<void>((r) => (started = r));
        let generations = 0;
        const cache = fx.cache({
          options: PATIENT,
          generate: async (c) => {
            generations++;
            started();
            await held;
            return generateScenarioMatrix(c);
          },
        });
        const pending = cache.get(cfg);
        await generating; // the lease is taken and the hot epoch read: the generator is mid-way
        const input: InvalidateRequestInput =
          scope === "all" ? { scope } : scope === "fund" ? { scope, fundId: cfg.fundId } : { scope, matrixKey: matrixKey(cfg) };

        const r = await run({ ...input, mode });
        release();
        const served = await pending;

        expect(r.invalidated).toEqual({ redis: 0, postgres: 1 }); // the in-flight `processing` row
        expect(served.tier).toBe("generated");
        expect(served.stored).toBe(false);
        expect(sha(served.matrix.data)).toBe(sha(generateScenarioMatrix(cfg).cells));
        expect(await where(cfg)).toEqual({ hot: false, durable: mode === "soft" ? "invalidated" : null });
        expect(await fx.durable.readComplete(matrixKey(cfg))).toBeNull();
        // the next read of that config is a miss in every tier: it generates again
        expect((await cache.get(cfg)).tier).toBe("generated");
        expect(generations).toBe(2);
      });
    }

    for (const scope of ["fund", "matrix", "all"] as const) {
      // matrix scope: the entry is absent from the hot tier here, so its fund is unknown to the store and
      // the global epoch moves instead (adapters/redis-scripts.ts INVALIDATE_MATRIX_SCRIPT).
      it(`no resurrection by a back-fill (${scope}): a durable hit read before the invalidation is not written to the hot tier after it`, async () => {
        const cfg = cfgA[0];
        await seed([cfg]);
        await fx.hot.remove(matrixKey(cfg)); // durable only: the next read back-fills the hot tier
        let atWrite!: () => void;
        const writing = new Promise<void>((r) => (atWrite = r));
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let outcome: Promise<HotWriteOutcome> | undefined;
        const gatedHot: HotStore = {
          ...fx.hot,
          write: (entry) => {
            atWrite();
            // the epoch was read before the invalidation; the write lands after it
            outcome = held.then(() => fx.hot.write(entry));
            return outcome;
          },
        };
        const cache = fx.cache({ hot: gatedHot, options: { hotTimeoutMs: 10_000 } });
        const pending = cache.get(cfg);
        await writing;
        const input: InvalidateRequestInput =
          scope === "all" ? { scope } : scope === "fund" ? { scope, fundId: cfg.fundId } : { scope, matrixKey: matrixKey(cfg) };

        await run(input);
        release();

        expect((await pending).tier).toBe("postgres");
        expect(await outcome).toBe("stale-epoch");
        expect(await where(cfg)).toEqual({ hot: false, durable: "invalidated" });
        expect(await nextTiers([cfg])).toEqual(["generated"]);
      });
    }

    it("hot tier down: durable still invalidated, redis reported as failed (null, not 0), failure audited", async () => {
      await seed(cfgA);
      const r = await run({ scope: "fund", fundId: FUND_A }, { hot: { invalidate: failing("connect ECONNREFUSED 127.0.0.1:6379") } });

      expect(r.invalidated).toEqual({ redis: null, postgres: 3 });
      expect(r.errors).toEqual([{ tier: "redis", message: "connect ECONNREFUSED 127.0.0.1:6379" }]);
      for (const c of cfgA) expect((await where(c)).durable).toBe("invalidated");
      expect(await latestAudit()).toMatchObject({ counts: { redis: null, postgres: 3 }, errors: r.errors });
    });

    it("durable tier down: hot tier still invalidated, postgres reported as failed, failure audited", async () => {
      await seed(cfgA);
      const r = await run({ scope: "fund", fundId: FUND_A }, { durable: { invalidate: failing("connection terminated") } });

      expect(r.invalidated).toEqual({ redis: 3, postgres: null });
      expect(r.errors).toEqual([{ tier: "postgres", message: "connection terminated" }]);
      for (const c of cfgA) expect(await where(c)).toEqual({ hot: false, durable: "complete" });
      expect(await latestAudit()).toMatchObject({ counts: { redis: 3, postgres: null }, errors: r.errors });
    });

    it("a hung tier is reported after the step budget instead of hanging the request", async () => {
      await seed(cfgA);
      const r = await run({ scope: "fund", fundId: FUND_A }, { hot: { invalidate: hanging }, stepTimeoutMs: 1_500 });

      expect(r.invalidated).toEqual({ redis: null, postgres: 3 });
      expect(r.errors[0].message).toMatch(/redis did not answer within 1500 ms/);
    });

    it("audit write fails: the invalidation stands, and the caller gets an AuditWriteFailedError (503) saying so; the log has the record", async () => {
      await seed(cfgA);
      const log = capturingLog();
      const err = await run(
        { scope: "fund", fundId: FUND_A, reason: "r" },
        { audit: { append: failing("relation \"cache_audit_log\" does not exist") }, log },
      ).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(AuditWriteFailedError);
      const e = err as AuditWriteFailedError;
      expect(e.status).toBe(503);
      expect(e.code).toBe("audit_write_failed");
      expect(e.message).toMatch(/invalidation was applied \(postgres: 3, redis: 3\) but its audit record could not be written/);
      expect(e.counts).toEqual({ redis: 3, postgres: 3 });
      for (const c of cfgA) expect(await where(c)).toEqual(gone("soft"));
      const logged = log.lines.find((l) => l.message === "invalidation not audited");
      expect(logged?.level).toBe("error");
      expect(logged?.data).toMatchObject({ actor: "alice", scope: "fund", fundId: FUND_A, counts: { redis: 3, postgres: 3 }, reason: "r" });
    });

    it("reports InvalidatedEntries per tier for real runs only; a failing metrics sink does not fail the invalidation", async () => {
      await seed(cfgA);
      const calls: [number, Record<string, unknown>][] = [];
      const metrics = { invalidated: (n: number, p: Record<string, unknown>) => void calls.push([n, p]) };
      await run({ scope: "fund", fundId: FUND_A, dryRun: true }, { metrics });
      expect(calls).toEqual([]);
      await run({ scope: "fund", fundId: FUND_A, mode: "hard" }, { metrics });
      expect(calls).toEqual([
        [3, { tier: "postgres", scope: "fund", mode: "hard", fundId: FUND_A, matrixKey: undefined }],
        [3, { tier: "redis", scope: "fund", mode: "hard", fundId: FUND_A, matrixKey: undefined }],
      ]);
      const r = await run({ scope: "all" }, { metrics: { invalidated: () => { throw new Error("emf down"); } } });
      expect(r.errors).toEqual([]);
    });
  });
}
