// Prometheus text exposition of the service's statistics, built with prom-client from the hot store's
// all-time counters (not this process's memory): many Lambdas or server processes record into one store,
// so any of them can answer a scrape for the whole service. A registry is built per scrape.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { bucketLowerMs, SERVED_TIERS, TIMED_TIERS, type Aggregate, type Histogram as LogHistogram, type ServiceTotals } from "../../core/stats";
import { UnavailableError } from "../../core/shared/errors";

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * `le` bounds are edges of the log buckets (1.1^k ms for k = −24, −16 … 112, about 0.1 ms … 43 s, a
 * factor 2.14 apart), so each cumulative count is exact: it sums whole log buckets. Labels are in seconds.
 */
export const PROMETHEUS_BUCKET_EDGES = Array.from({ length: 18 }, (_, j) => -24 + 8 * j);
const le = (k: number) => Number((bucketLowerMs(k) / 1000).toPrecision(4));

type Series = { labels: Record<string, string>; histogram: LogHistogram; sumSeconds: number };

/**
 * A prom-client histogram fed with pre-aggregated bucket counts instead of single observations. The
 * registry formats what `getForPromString` returns (prom-client's own hook, absent from its typings).
 */
class AggregatedHistogram extends Histogram<"tier"> {
  private readonly series: Series[] = [];

  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    registry: Registry,
  ) {
    super({ name: metricName, help: helpText, labelNames: ["tier"], buckets: PROMETHEUS_BUCKET_EDGES.map(le), registers: [registry] });
  }

  add(s: Series): void {
    this.series.push(s);
  }

  async getForPromString() {
    const name = this.metricName;
    const values = this.series.flatMap(({ labels, histogram, sumSeconds }) => {
      let total = 0;
      for (const c of histogram.values()) total += c;
      const buckets = PROMETHEUS_BUCKET_EDGES.map((k) => {
        let below = 0;
        for (const [i, c] of histogram) if (i < k) below += c;
        return { metricName: `${name}_bucket`, labels: { ...labels, le: le(k) }, sharedLabels: {}, value: below };
      });
      return [
        ...buckets,
        { metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, sharedLabels: {}, value: total },
        { metricName: `${name}_sum`, labels: { ...labels }, sharedLabels: {}, value: sumSeconds },
        { metricName: `${name}_count`, labels: { ...labels }, sharedLabels: {}, value: total },
      ];
    });
    return { name, help: this.helpText, type: "histogram", values, aggregator: "sum" };
  }
}

function counters(reg: Registry, c: Aggregate): void {
  const requests = new Counter({ name: "smc_requests_total", help: "get-or-generate lookups by purpose (request | warm) and answering tier", labelNames: ["purpose", "tier"], registers: [reg] });
  const hits = new Counter({ name: "smc_cache_hits_total", help: "lookups answered from a cache tier", labelNames: ["purpose"], registers: [reg] });
  const misses = new Counter({ name: "smc_cache_misses_total", help: "lookups answered by generation", labelNames: ["purpose"], registers: [reg] });
  const bytes = new Counter({ name: "smc_matrix_bytes_served_total", help: "matrix bytes returned by lookups", labelNames: ["purpose"], registers: [reg] });
  const generation = new Counter({ name: "smc_generation_seconds_total", help: "time spent generating matrices", labelNames: ["purpose"], registers: [reg] });
  const saved = new Counter({ name: "smc_generation_seconds_saved_total", help: "generation time avoided by client hits", registers: [reg] });
  const faults = new Counter({ name: "smc_tier_faults_total", help: "tier faults the cache degraded around", labelNames: ["tier", "operation"], registers: [reg] });
  for (const [purpose, p] of Object.entries(c.purposes)) {
    for (const tier of SERVED_TIERS) requests.inc({ purpose, tier }, p.servedBy[tier]);
    hits.inc({ purpose }, p.hits);
    misses.inc({ purpose }, p.misses);
    bytes.inc({ purpose }, p.bytes);
    generation.inc({ purpose }, p.generationUs / 1e6);
  }
  saved.inc(c.purposes.request.savedUs / 1e6);
  for (const [key, n] of Object.entries(c.faultsByOperation)) {
    const [tier, operation] = key.split(":");
    faults.inc({ tier, operation }, n);
  }
  const served = new AggregatedHistogram("smc_request_duration_seconds", "end-to-end latency of client requests by answering tier", reg);
  for (const tier of SERVED_TIERS) served.add({ labels: { tier }, histogram: c.servedHistograms[tier], sumSeconds: c.servedLatencyUs[tier] / 1e6 });
  const timed = new AggregatedHistogram("smc_tier_duration_seconds", "time client requests spent in each tier they touched", reg);
  for (const tier of TIMED_TIERS) timed.add({ labels: { tier }, histogram: c.tierHistograms[tier], sumSeconds: c.tierTimeUs[tier] / 1e6 });
}

/**
 * The exposition text. Without the hot-store counters there is nothing worth scraping: UnavailableError
 * (503, which Prometheus records as a failed scrape). A storage tier that cannot be read is left out and
 * reported by `smc_storage_up{tier} 0`, never as zero entries.
 */
export async function renderPrometheus(totals: ServiceTotals): Promise<string> {
  if (totals.counters instanceof Error) {
    throw new UnavailableError("statistics unavailable: the hot store could not be read", [
      { path: "redis.counters", message: totals.counters.message },
    ]);
  }
  const reg = new Registry();
  counters(reg, totals.counters);
  const up = new Gauge({ name: "smc_storage_up", help: "1 when the tier's storage figures could be read", labelNames: ["tier"], registers: [reg] });
  const entries = new Gauge({ name: "smc_storage_entries", help: "entries stored per tier (exact)", labelNames: ["tier"], registers: [reg] });
  const size = new Gauge({ name: "smc_storage_bytes", help: "bytes stored per tier (exact)", labelNames: ["tier"], registers: [reg] });
  for (const [tier, s] of Object.entries(totals.storage)) {
    up.set({ tier }, s instanceof Error ? 0 : 1);
    if (s instanceof Error) continue;
    entries.set({ tier }, s.entriesCount);
    size.set({ tier }, s.totalSizeBytes);
  }
  return reg.metrics();
}
