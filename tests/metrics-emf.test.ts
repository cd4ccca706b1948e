// CloudWatch EMF: the JSON Powertools Metrics writes for lookups, faults, invalidations and warm jobs,
// validated against the EMF specification; ids are properties, never dimensions; and the app's catalog
// agrees with the one the dashboard and alarms read (stacks/metrics.ts).
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import { createMatrixCache, type LookupEvent } from "../core/cache";
import { composeObservers, createStatsRecorder, metricsObserver, noopMetricsSink } from "../core/stats";
import {
  createEmfMetricsSink,
  DIMENSION,
  emitInvalidated,
  emitWarmJobs,
  METRIC,
  metricsSinkFor,
  setProcessMetrics,
  withMetricsFlush,
} from "../functions/shared/metrics";
import { DIMENSIONS as STACK_DIMENSIONS, METRICS as STACK_METRICS } from "../stacks/metrics";
import { METRICS_NAMESPACE as STACK_NAMESPACE, SERVICE_NAME as STACK_SERVICE } from "../stacks/settings";
import { captureStdout, emfDocuments, emfViolations, type EmfDocument } from "./helpers/emf";
import { config } from "./helpers/factories";
import { syntheticEvent } from "./helpers/stats-events";
import { createDb } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";

const NS = "ScenarioMatrixCacheTest";
const SERVICE = "scenario-matrix-cache";
const sink = () => createEmfMetricsSink({ namespace: NS, serviceName: SERVICE });

/** The metric names of a document with their units, and its dimension sets. */
const shape = (d: EmfDocument) => ({
  metrics: Object.fromEntries(d._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit])),
  dimensions: d._aws.CloudWatchMetrics[0].Dimensions,
});

async function emitted(f: () => void | Promise<void>): Promise<EmfDocument[]> {
  const { lines } = await captureStdout(f);
  const docs = emfDocuments(lines);
  for (const d of docs) expect(emfViolations(d), JSON.stringify(d)).toEqual([]);
  return docs;
}

afterEach(() => setProcessMetrics(noopMetricsSink));

describe("EMF metrics of a lookup", () => {
  it("a client hot hit: Requests, Latency and CacheHit by {Service, Tier}; MatrixBytes by {Service}; ids as properties", async () => {
    const e = syntheticEvent(0, Date.now()); // redis hit
    const docs = await emitted(() => sink().lookup(e));

    expect(docs).toHaveLength(2);
    const [tiered, plain] = docs;
    expect(shape(tiered)).toEqual({ metrics: { Requests: "Count", Latency: "Milliseconds", CacheHit: "Count" }, dimensions: [["Service", "Tier"]] });
    expect(tiered).toMatchObject({ Service: SERVICE, Tier: "redis", Requests: 1, Latency: e.latencyMs, CacheHit: 1, fundId: e.fundId, matrixKey: e.matrixKey });
    expect(tiered._aws.CloudWatchMetrics[0].Namespace).toBe(NS);
    expect(shape(plain)).toEqual({ metrics: { MatrixBytes: "Bytes" }, dimensions: [["Service"]] });
    expect(plain).toMatchObject({ MatrixBytes: e.sizeBytes, matrixKey: e.matrixKey });
    for (const d of docs) {
      // never the Powertools default lowercase `service`, never an id as a dimension
      expect(d).not.toHaveProperty("service");
      expect(d._aws.CloudWatchMetrics[0].Dimensions.flat()).not.toContain("fundId");
      expect(d._aws.CloudWatchMetrics[0].Dimensions.flat()).not.toContain("matrixKey");
      expect(Math.abs(d._aws.Timestamp - Date.now())).toBeLessThan(60_000);
    }
  });

  it("a client miss: Requests and Latency with Tier=generated, CacheMiss and GenerationDuration by {Service}, no CacheHit", async () => {
    const e = syntheticEvent(9, Date.now()); // generated
    const [tiered, plain] = await emitted(() => sink().lookup(e));

    expect(tiered).toMatchObject({ Tier: "generated", Requests: 1, Latency: e.latencyMs });
    expect(tiered).not.toHaveProperty("CacheHit");
    expect(shape(plain).metrics).toEqual({ MatrixBytes: "Bytes", CacheMiss: "Count", GenerationDuration: "Milliseconds" });
    expect(plain).toMatchObject({ CacheMiss: 1, GenerationDuration: e.timings.generationMs });
  });

  it("a warm lookup is a WarmLookups count, kept out of Requests, CacheHit and CacheMiss", async () => {
    const e: LookupEvent = { ...syntheticEvent(9, Date.now()), purpose: "warm" };
    const docs = await emitted(() => sink().lookup(e));

    const names = docs.flatMap((d) => Object.keys(shape(d).metrics));
    expect(names.sort()).toEqual(["GenerationDuration", "MatrixBytes", "WarmLookups"]);
    expect(docs[0]).toMatchObject({ Tier: "generated", WarmLookups: 1, purpose: "warm" });
  });

  it("emits one set of documents per lookup through a real cache, alongside the statistics recorder", async () => {
    const db = createDb({ pgliteDir: "memory://" });
    await db.migrate();
    const hot = createMemoryHotStore();
    const cache = createMatrixCache({
      hot,
      durable: createDrizzleDurableStore(db.db),
      observer: composeObservers(createStatsRecorder({ hot }), metricsObserver(sink())),
    });
    const cfg = config({ fundId: "fund-emf", numScenarios: 100 });

    const docs = await emitted(async () => {
      await cache.get(cfg);
      await cache.get(cfg);
    });

    expect(docs.filter((d) => "Requests" in d).map((d) => d.Tier)).toEqual(["generated", "redis"]);
    expect(docs.filter((d) => "CacheMiss" in d)).toHaveLength(1);
    expect(docs.filter((d) => "CacheHit" in d)).toHaveLength(1);
    await db.close();
  }, 90_000); // PGlite's migrations alone take seconds on a loaded machine
});

describe("EMF metrics of faults, invalidations and warm jobs", () => {
  it("counts a hot-tier fault as HotTierFaults and a durable one as DurableTierFaults, with the operation as a property", async () => {
    const docs = await emitted(() => {
      const s = sink();
      s.fault({ tier: "redis", op: "read", matrixKey: "k1", error: new Error("ETIMEDOUT") });
      s.fault({ tier: "postgres", op: "lease", matrixKey: "k2", error: "connection reset" });
    });

    expect(docs.map(shape)).toEqual([
      { metrics: { HotTierFaults: "Count" }, dimensions: [["Service"]] },
      { metrics: { DurableTierFaults: "Count" }, dimensions: [["Service"]] },
    ]);
    expect(docs[0]).toMatchObject({ HotTierFaults: 1, operation: "read", matrixKey: "k1", error: "ETIMEDOUT" });
  });

  it("emitInvalidated and emitWarmJobs write to the process's sink with the catalog's dimensions", async () => {
    setProcessMetrics(sink());
    const docs = await emitted(() => {
      emitInvalidated(12, { tier: "redis", scope: "fund", fundId: "fund-1", actor: "ops" });
      emitInvalidated(0, { tier: "postgres", scope: "fund", fundId: "fund-1", actor: "ops" });
      emitWarmJobs("enqueued", 3, { priority: "high" });
      emitWarmJobs("completed", 1, { jobId: "j-1" });
      emitWarmJobs("failed", 1, { jobId: "j-2" });
    });

    expect(docs.map((d) => [shape(d), d.Tier ?? null])).toEqual([
      [{ metrics: { InvalidatedEntries: "Count" }, dimensions: [["Service", "Tier"]] }, "redis"],
      [{ metrics: { InvalidatedEntries: "Count" }, dimensions: [["Service", "Tier"]] }, "postgres"],
      [{ metrics: { WarmJobsEnqueued: "Count" }, dimensions: [["Service"]] }, null],
      [{ metrics: { WarmJobsCompleted: "Count" }, dimensions: [["Service"]] }, null],
      [{ metrics: { WarmJobsFailed: "Count" }, dimensions: [["Service"]] }, null],
    ]);
    expect(docs[0]).toMatchObject({ InvalidatedEntries: 12, fundId: "fund-1", actor: "ops", scope: "fund" });
    expect(docs[1].InvalidatedEntries).toBe(0);
    expect(docs[2]).toMatchObject({ WarmJobsEnqueued: 3, priority: "high" });
  });

  it("drops properties that would overwrite a dimension or a metric value", async () => {
    const [doc] = await emitted(() => sink().warmJobs("enqueued", 2, { Service: "evil", Tier: "x", WarmJobsEnqueued: 99, CacheHit: 5, note: "ok" }));

    expect(doc).toMatchObject({ Service: SERVICE, WarmJobsEnqueued: 2, note: "ok" });
    expect(doc).not.toHaveProperty("Tier");
    expect(doc).not.toHaveProperty("CacheHit");
  });

  it("writes nothing outside Lambda unless asked to, and EMF inside it", async () => {
    const local = await captureStdout(() => metricsSinkFor({ deployed: false }, {}).lookup(syntheticEvent(0, Date.now())));
    const lambda = await emitted(() => metricsSinkFor({ deployed: true, metricsNamespace: NS }, { POWERTOOLS_SERVICE_NAME: "svc" }).lookup(syntheticEvent(0, Date.now())));

    expect(emfDocuments(local.lines)).toEqual([]);
    expect(lambda[0]).toMatchObject({ Service: "svc" });
    expect(lambda[0]._aws.CloudWatchMetrics[0].Namespace).toBe(NS);
  });

  it("flushes metrics added during an invocation even when the handler throws", async () => {
    const s = sink();
    const handler = withMetricsFlush(s, async () => {
      s.metrics.addMetric("Requests", "Count", 1);
      throw new Error("boom");
    });

    const docs = await emitted(() => handler({}, {}).catch(() => undefined));

    expect(docs.map((d) => d.Requests)).toEqual([1]);
  });
});

describe("metric catalog", () => {
  it("names, units and dimensions equal the catalog the dashboard and alarms read", () => {
    expect(DIMENSION).toEqual(STACK_DIMENSIONS);
    for (const [name, def] of Object.entries(STACK_METRICS)) {
      expect(METRIC, name).toHaveProperty(name);
      expect({ unit: METRIC[name as keyof typeof METRIC].unit, tiered: METRIC[name as keyof typeof METRIC].tiered }, name).toEqual({ unit: def.unit, tiered: def.tiered });
    }
    expect(STACK_NAMESPACE).toBe("ScenarioMatrixCache");
    expect(STACK_SERVICE).toBe(SERVICE);
  });
});
