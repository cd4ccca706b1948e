// Prometheus exposition: counters and tier-labelled histograms built from the hot store's all-time counters,
// so one scrape sees what every process recorded; cumulative buckets are exact counts of the samples.
import { describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import type { DurableStore, LookupEvent } from "../core/cache";
import { UnavailableError } from "../core/shared/errors";
import { bucketLowerMs, createStatsRecorder, createStatsService } from "../core/stats";
import { PROMETHEUS_BUCKET_EDGES, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../functions/shared/prometheus";
import { syntheticEvent } from "./helpers/stats-events";

const durable = (storage: DurableStore["storage"]) => ({ storage }) as unknown as DurableStore;

/** Parses exposition text into samples; throws on any line that is neither a comment nor a sample. */
function parse(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types[type[1]] = type[2];
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    samples.push({ name: m[1], labels, value: m[3] === "+Inf" ? Infinity : Number(m[3]) });
  }
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return { samples, types, get, one: (name: string, labels: Record<string, string> = {}) => get(name, labels).map((s) => s.value)[0] };
}

async function recordedBy(recorders: number, events: LookupEvent[]) {
  const hot = createMemoryHotStore();
  const rs = Array.from({ length: recorders }, () => createStatsRecorder({ hot }));
  for (const [i, e] of events.entries()) await rs[i % recorders].onLookup(e);
  return hot;
}

describe("Prometheus exposition", () => {
  const events = Array.from({ length: 300 }, (_, g) => syntheticEvent(g, Date.now()));

  it("exposes service-wide counters by purpose and tier, summed over every recorder writing to the store", async () => {
    const hot = await recordedBy(3, [...events, { ...syntheticEvent(9, Date.now()), purpose: "warm" }]);
    const stats = createStatsService({ hot, durable: durable(async () => ({ entriesCount: 7, totalSizeBytes: 7000 })) });

    const p = parse(await renderPrometheus(await stats.totals()));

    expect(p.types).toMatchObject({ smc_requests_total: "counter", smc_request_duration_seconds: "histogram", smc_tier_duration_seconds: "histogram", smc_storage_entries: "gauge" });
    const count = (t: string) => events.filter((e) => e.tier === t).length;
    expect(p.one("smc_requests_total", { purpose: "request", tier: "redis" })).toBe(count("redis"));
    expect(p.one("smc_requests_total", { purpose: "request", tier: "postgres" })).toBe(count("postgres"));
    expect(p.one("smc_requests_total", { purpose: "request", tier: "generated" })).toBe(count("generated"));
    expect(p.one("smc_requests_total", { purpose: "warm", tier: "generated" })).toBe(1);
    expect(p.one("smc_cache_hits_total", { purpose: "request" })).toBe(count("redis") + count("postgres"));
    expect(p.one("smc_cache_misses_total", { purpose: "request" })).toBe(count("generated"));
    expect(p.one("smc_storage_entries", { tier: "postgres" })).toBe(7);
    expect(p.one("smc_storage_bytes", { tier: "postgres" })).toBe(7000);
    expect(p.one("smc_storage_up", { tier: "redis" })).toBe(1);
  });

  it("gives each tier a cumulative histogram whose buckets count exactly the samples below each bound", async () => {
    const hot = await recordedBy(2, events);
    const p = parse(await renderPrometheus(await createStatsService({ hot, durable: durable(async () => ({ entriesCount: 0, totalSizeBytes: 0 })) }).totals()));

    for (const tier of ["redis", "postgres", "generated"]) {
      const mine = events.filter((e) => e.tier === tier);
      const buckets = p.get("smc_request_duration_seconds_bucket", { tier });
      expect(buckets).toHaveLength(PROMETHEUS_BUCKET_EDGES.length + 1);
      PROMETHEUS_BUCKET_EDGES.forEach((k, j) => {
        expect(buckets[j].value, `${tier} le=${buckets[j].labels.le}`).toBe(mine.filter((e) => e.latencyMs < bucketLowerMs(k)).length);
      });
      const values = buckets.map((b) => b.value);
      expect(values).toEqual([...values].sort((a, b) => a - b)); // cumulative, never decreasing
      expect(buckets.at(-1)).toMatchObject({ labels: { tier, le: "+Inf" }, value: mine.length });
      expect(p.one("smc_request_duration_seconds_count", { tier })).toBe(mine.length);
      const sumUs = mine.reduce((s, e) => s + Math.round(e.latencyMs * 1000), 0);
      expect(p.one("smc_request_duration_seconds_sum", { tier })).toBeCloseTo(sumUs / 1e6, 6);
    }
    expect(p.one("smc_tier_duration_seconds_count", { tier: "generation" })).toBe(events.filter((e) => e.timings.generationMs !== undefined).length);
  });

  it("leaves out a storage tier it cannot read and says so, instead of reporting zero entries", async () => {
    const hot = createMemoryHotStore();
    const stats = createStatsService({ hot, durable: durable(() => Promise.reject(new Error("down"))) });

    const p = parse(await renderPrometheus(await stats.totals()));

    expect(p.one("smc_storage_up", { tier: "postgres" })).toBe(0);
    expect(p.get("smc_storage_entries", { tier: "postgres" })).toEqual([]);
    expect(p.one("smc_storage_entries", { tier: "redis" })).toBe(0);
  });

  it("refuses to answer (503) when the hot-store counters cannot be read", async () => {
    const hot = { ...createMemoryHotStore(), readHashes: () => Promise.reject(new Error("ECONNREFUSED")) };
    const stats = createStatsService({ hot, durable: durable(async () => ({ entriesCount: 0, totalSizeBytes: 0 })) });

    await expect(renderPrometheus(await stats.totals())).rejects.toBeInstanceOf(UnavailableError);
  });

  it("uses the Prometheus text format content type", () => {
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });
});
