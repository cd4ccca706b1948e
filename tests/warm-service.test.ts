// The warm service over the embedded job store and a recording queue: cached keys, live-job dedupe,
// enqueue failures, budgets, the estimate, the audit record and recovery.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createDrizzleWarmStore, type DrizzleWarmStore } from "../adapters/jobs-drizzle";
import { cacheAuditLog } from "../core/audit/audit.sql";
import { scenarioMatrices } from "../core/cache/matrices.sql";
import { matrixKey, ScenarioConfig, type ScenarioConfigWithMeta } from "../core/scenario";
import {
  createWarmService,
  DEFAULT_CELLS_PER_SECOND,
  DEFAULT_PER_JOB_OVERHEAD_MS,
  estimateCompletion,
  WarmRequest,
  type EstimateSettings,
  type WarmSignals,
} from "../core/warming";
import { warmJobs } from "../core/warming/warming.sql";
import { cacheFixture, type CacheFixture } from "./helpers/cache-fixture";
import { config, configInput } from "./helpers/factories";
import { recordingQueue } from "./helpers/warm";

const ESTIMATE: EstimateSettings = {
  parallelism: { high: 4, low: 2 },
  sharedConsumers: false,
  defaultCellsPerSecond: DEFAULT_CELLS_PER_SECOND,
  defaultPerJobOverheadMs: DEFAULT_PER_JOB_OVERHEAD_MS,
};

const warmConfig = (seed: string, numScenarios = 200) => {
  const { fundId: _f, taxonomyVersion: _t, ...rest } = configInput({ seed, numScenarios });
  return rest;
};
const request = (body: Partial<Parameters<typeof WarmRequest.parse>[0]>) =>
  WarmRequest.parse({ fundIds: ["fund-1"], taxonomyVersion: "v1", priority: "high", configs: [warmConfig("s")], ...body });
const keyOf = (fundId: string, seed: string, numScenarios = 200) => matrixKey({ ...ScenarioConfig.parse(warmConfig(seed, numScenarios)), fundId, taxonomyVersion: "v1" });

describe("warm service", () => {
  let fx: CacheFixture;
  let store: DrizzleWarmStore;
  beforeAll(async () => {
    fx = await cacheFixture("embedded", "warm-service");
    store = createDrizzleWarmStore(fx.db.db);
  });
  afterAll(async () => fx?.close());
  beforeEach(async () => {
    for (const t of [warmJobs, scenarioMatrices, cacheAuditLog]) await fx.db.db.delete(t);
  });

  const service = (o: { queue?: ReturnType<typeof recordingQueue>; signals?: WarmSignals; now?: number } = {}) => {
    const queue = o.queue ?? recordingQueue();
    const s = createWarmService({
      cache: fx.cache(),
      jobs: store,
      profiles: store.profiles,
      signals: o.signals ?? store.signals,
      queue,
      estimate: ESTIMATE,
      audit: createDrizzleAuditStore(fx.db.db),
      clock: o.now === undefined ? undefined : () => o.now!,
    });
    return { s, queue };
  };

  it("enqueues one job per fund × config, each with the real matrix key, and counts what it enqueued", async () => {
    const { s, queue } = service();

    const r = await s.request(request({ fundIds: ["fund-1", "fund-2"], configs: [warmConfig("a"), warmConfig("b")] }), "alice");

    expect(r.scheduled).toBe(4);
    expect(r.jobs.map((j) => [j.fundId, j.configHash, j.status, j.enqueued])).toEqual([
      ["fund-1", keyOf("fund-1", "a"), "pending", true],
      ["fund-1", keyOf("fund-1", "b"), "pending", true],
      ["fund-2", keyOf("fund-2", "a"), "pending", true],
      ["fund-2", keyOf("fund-2", "b"), "pending", true],
    ]);
    expect(queue.sent.map((m) => m.jobId).sort()).toEqual(r.jobs.map((j) => j.jobId).sort());
    expect(queue.sent.every((m) => m.priority === "high" && m.requestedBy === "alice" && matrixKey(m.config) === m.matrixKey)).toBe(true);
  });

  it("reports an already-cached config complete without enqueuing it, as a pollable job", async () => {
    const { s, queue } = service();
    const cached = config({ fundId: "fund-1", taxonomyVersion: "v1", ...warmConfig("cached") });
    await fx.cache().get(cached);

    const r = await s.request(request({ configs: [warmConfig("cached"), warmConfig("fresh")] }), "alice");

    expect(r.scheduled).toBe(1);
    expect(r.jobs[0]).toMatchObject({ configHash: matrixKey(cached), status: "complete", enqueued: false });
    expect(await s.job(r.jobs[0].jobId!)).toMatchObject({ status: "complete", attempts: 0, requestedBy: "alice" });
    expect(queue.sent.map((m) => m.matrixKey)).toEqual([keyOf("fund-1", "fresh")]);
    expect(r.summary).toMatchObject({ requested: 2, alreadyCached: 1, alreadyQueued: 0 });
  });

  it("returns the existing live job for a key instead of enqueuing it again", async () => {
    const { s, queue } = service();
    const first = await s.request(request({ configs: [warmConfig("x")] }), "alice");

    const second = await s.request(request({ configs: [warmConfig("x"), warmConfig("y")], priority: "low" }), "bob");

    expect(second.scheduled).toBe(1);
    expect(second.jobs[0]).toMatchObject({ jobId: first.jobs[0].jobId, status: "pending", enqueued: false, priority: "high" });
    expect(second.summary.alreadyQueued).toBe(1);
    expect(queue.sent).toHaveLength(2);
  });

  it("gives pairs that share a key one job (same config twice, or configs differing only in names)", async () => {
    const { s, queue } = service();
    const renamed = { ...warmConfig("same"), buckets: warmConfig("same").buckets!.map((b) => ({ ...b, name: `${b.name} (copy)` })) };

    const r = await s.request(request({ configs: [warmConfig("same"), renamed, warmConfig("same")] }), "alice");

    expect(r.scheduled).toBe(1);
    expect(new Set(r.jobs.map((j) => j.jobId)).size).toBe(1);
    expect(r.jobs).toHaveLength(3);
    expect(r.summary).toMatchObject({ requested: 3, distinct: 1 });
    expect(queue.sent).toHaveLength(1);
  });

  it("marks jobs the queue refused as failed, leaves them out of `scheduled`, and lets a later request retry the key", async () => {
    const refused = keyOf("fund-1", "refused");
    const { s } = service({ queue: recordingQueue((m) => (m.matrixKey === refused ? "ThrottlingException: slow down" : undefined)) });

    const r = await s.request(request({ configs: [warmConfig("refused"), warmConfig("ok")] }), "alice");
    const retry = await service().s.request(request({ configs: [warmConfig("refused")] }), "alice");

    expect(r.scheduled).toBe(1);
    expect(r.jobs[0]).toMatchObject({ status: "failed", enqueued: false, error: "enqueue failed: ThrottlingException: slow down" });
    expect(await s.job(r.jobs[0].jobId!)).toMatchObject({ status: "failed", error: "enqueue failed: ThrottlingException: slow down" });
    expect(r.summary.enqueueFailed).toBe(1);
    expect(retry.scheduled).toBe(1);
    expect(retry.jobs[0].jobId).not.toBe(r.jobs[0].jobId);
  });

  it("appends an audit record with the actor and what the request did", async () => {
    const { s } = service({ queue: recordingQueue((m) => (m.matrixKey === keyOf("fund-1", "no") ? "boom" : undefined)) });

    await s.request(request({ configs: [warmConfig("yes"), warmConfig("no")], priority: "low" }), "carol");

    const { entries } = await createDrizzleAuditStore(fx.db.db).list({ limit: 10 });
    expect(entries).toEqual([
      expect.objectContaining({
        actor: "carol",
        action: "warm",
        scope: "fund",
        fundId: "fund-1",
        mode: "low",
        counts: { redis: null, postgres: null },
        errors: [{ tier: "queue", message: "enqueue failed: boom" }],
        reason: expect.stringContaining("2 requested, 2 distinct, 1 scheduled"),
      }),
    ]);
  });

  it("under a budget creates at most that many jobs, found live jobs costing nothing", async () => {
    const { s, queue } = service();
    await s.request(request({ configs: [warmConfig("b0")] }), "alice");
    const configs: ScenarioConfigWithMeta[] = ["b0", "b1", "b2", "b3", "b4"].map((seed) => config({ ...warmConfig(seed), fundId: "fund-1", taxonomyVersion: "v1" }));

    const r = await s.warmConfigs(configs, { priority: "low", actor: "scheduled-warm", recordCached: false, budget: 2 });

    expect(r.scheduled).toBe(2);
    expect(r.summary).toMatchObject({ alreadyQueued: 1, overBudget: 2 });
    expect(r.jobs.map((j) => j.configHash)).toEqual([keyOf("fund-1", "b0"), keyOf("fund-1", "b1"), keyOf("fund-1", "b2")]);
    expect(queue.sent).toHaveLength(3);
  });

  it("estimates from measured speed and the lane's backlog and concurrency, saying so", async () => {
    const signals: WarmSignals = {
      throughput: async () => ({ cellsPerSecond: 600_000, generationSamples: 40, perJobOverheadMs: 20, jobSamples: 12 }),
      backlog: async () => ({ high: { jobs: 8, cells: 1_200_000 }, low: { jobs: 100, cells: 9e9 } }),
      recentlyRequestedUncached: async () => [],
    };
    const now = Date.parse("2026-01-01T00:00:00Z");
    const { s } = service({ signals, now });

    const r = await s.request(request({ configs: [warmConfig("est")] }), "alice");

    // high lane: (8 jobs × 20 ms + 1.2 M cells / 600 k cells/s) / 4 consumers = (160 + 2000) / 4 = 540 ms
    expect(r.estimated).toEqual({
      totalDurationMs: 540,
      completionTime: "2026-01-01T00:00:00.540Z",
      basis: "measured",
      cellsPerSecond: 600_000,
      perJobOverheadMs: 20,
      parallelism: { high: 4, low: 2 },
      backlogJobs: 8,
      generationSamples: 40,
      jobSamples: 12,
    });
  });

  it("falls back to the documented defaults only when nothing was measured, and reports 0 when nothing is left to do", async () => {
    const { s } = service();
    const fresh = await s.request(request({ configs: [warmConfig("d1", 1000), warmConfig("d2", 1000)] }), "alice");
    await fx.cache().get(config({ fundId: "fund-1", taxonomyVersion: "v1", ...warmConfig("done") }));
    const cachedOnly = await s.request(request({ configs: [warmConfig("done")] }), "alice");

    // 2 jobs × 50 ms + 6,000 cells at 1 M cells/s = 106 ms, over 4 high-lane consumers
    expect(fresh.estimated).toMatchObject({ basis: "default", totalDurationMs: Math.ceil((2 * 50 + 6) / 4), backlogJobs: 2 });
    // one generation measured, no warm job run yet: speed measured, per-job overhead still the default
    expect(cachedOnly.estimated).toMatchObject({ totalDurationMs: 0, basis: "partly-measured", generationSamples: 1, jobSamples: 0 });
  });

  it("re-enqueues the live jobs left by a previous process", async () => {
    const { s } = service();
    const before = await s.request(request({ configs: [warmConfig("r1"), warmConfig("r2")] }), "alice");
    const { s: restarted, queue } = service();

    const r = await restarted.recover();

    expect(r).toEqual({ resent: 2, failed: 0 });
    expect(queue.sent.map((m) => m.jobId).sort()).toEqual(before.jobs.map((j) => j.jobId).sort());
  });
});

describe("estimateCompletion", () => {
  const throughput = { cellsPerSecond: 1e6, generationSamples: 1, perJobOverheadMs: 10, jobSamples: 1 };
  const backlog = { high: { jobs: 10, cells: 1e6 }, low: { jobs: 4, cells: 4e6 } };

  it("lets the low lane wait for the high backlog when one pool serves both (the in-process queue)", () => {
    const shared = estimateCompletion({ lanes: ["low"], backlog, throughput, settings: { ...ESTIMATE, parallelism: { high: 2, low: 2 }, sharedConsumers: true }, now: 0 });
    const separate = estimateCompletion({ lanes: ["low"], backlog, throughput, settings: { ...ESTIMATE, parallelism: { high: 2, low: 2 } }, now: 0 });

    expect(shared.totalDurationMs).toBe((14 * 10 + 5000) / 2);
    expect(separate.totalDurationMs).toBe((4 * 10 + 4000) / 2);
  });

  it("takes the slower lane when a response has live jobs in both", () => {
    const e = estimateCompletion({ lanes: ["high", "low"], backlog, throughput, settings: ESTIMATE, now: 0 });

    expect(e.totalDurationMs).toBe(Math.max((10 * 10 + 1000) / 4, (4 * 10 + 4000) / 2));
  });

  it("marks speed measured but overhead defaulted as partly measured", () => {
    const e = estimateCompletion({ lanes: ["high"], backlog, throughput: { ...throughput, perJobOverheadMs: null }, settings: ESTIMATE, now: 0 });

    expect(e).toMatchObject({ basis: "partly-measured", perJobOverheadMs: DEFAULT_PER_JOB_OVERHEAD_MS });
  });
});

describe("WarmRequest", () => {
  it("refuses more than 1,000 fund × config pairs, naming configs", () => {
    const r = WarmRequest.safeParse({ fundIds: Array.from({ length: 11 }, (_, i) => `f${i}`), configs: Array.from({ length: 91 }, () => ({})) });

    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ["configs"], message: expect.stringContaining("11 × 91 = 1001 jobs exceeds 1000") })]);
  });

  it("accepts exactly 1,000 pairs and applies the defaults", () => {
    const r = WarmRequest.parse({ fundIds: Array.from({ length: 10 }, (_, i) => `f${i}`), configs: Array.from({ length: 100 }, () => ({})) });

    expect(r.priority).toBe("high");
    expect(r.taxonomyVersion).toBe("v1");
    expect(r.configs[0].numScenarios).toBe(10_000);
  });
});
