// The EMF metrics the dashboard and alarms read, with the exact dimension sets they are read with.
// CloudWatch identifies a metric by name AND dimension set, and alarms cannot search, so this catalog is
// the contract with the app's metrics module: emit these names, units and dimensions (docs/DEPLOY.md).
// Pure data: no `sst`/`aws` globals.
import { METRICS_NAMESPACE, SERVICE_NAME } from "./settings";

/** Tiers a request can be served from; `generated` is a miss served by generation. */
export const TIERS = ["redis", "postgres", "generated"] as const;
export type Tier = (typeof TIERS)[number];
/** Tiers that count as cache hits. */
export const HIT_TIERS = ["redis", "postgres"] as const satisfies readonly Tier[];

/** Dimension names (the app sets `Service` to POWERTOOLS_SERVICE_NAME on every metric). */
export const DIMENSIONS = { service: "Service", tier: "Tier" } as const;

/** Every metric the app emits, its unit and whether it carries the `Tier` dimension besides `Service`. */
export const METRICS = {
  CacheHit: { unit: "Count", tiered: true },
  CacheMiss: { unit: "Count", tiered: false },
  /** One per get-or-generate request, with the tier that served it (redis | postgres | generated). */
  Requests: { unit: "Count", tiered: true },
  Latency: { unit: "Milliseconds", tiered: true },
  GenerationDuration: { unit: "Milliseconds", tiered: false },
  MatrixBytes: { unit: "Bytes", tiered: false },
  /** Entries an invalidation removed, per tier it reached (redis | postgres). */
  InvalidatedEntries: { unit: "Count", tiered: true },
  WarmJobsEnqueued: { unit: "Count", tiered: false },
  WarmJobsCompleted: { unit: "Count", tiered: false },
  WarmJobsFailed: { unit: "Count", tiered: false },
  HotTierFaults: { unit: "Count", tiered: false },
  DurableTierFaults: { unit: "Count", tiered: false },
} as const;
export type MetricName = keyof typeof METRICS;

/** One app metric as CloudWatch identifies it. */
export interface AppMetric {
  readonly namespace: string;
  readonly name: MetricName;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** The app metric `name`, for `tier` when the metric is tiered. */
export function appMetric(name: MetricName, tier?: Tier): AppMetric {
  const tiered = METRICS[name].tiered;
  if (tiered !== (tier !== undefined)) {
    throw new Error(`metric ${name} is ${tiered ? "" : "not "}tiered; tier given: ${tier ?? "none"}`);
  }
  const dimensions: Record<string, string> = { [DIMENSIONS.service]: SERVICE_NAME };
  if (tier !== undefined) dimensions[DIMENSIONS.tier] = tier;
  return { namespace: METRICS_NAMESPACE, name, dimensions };
}

/** A metric-math query: either a metric with a statistic or an expression over other ids. */
export type MathQuery =
  | { readonly id: string; readonly metric: AppMetric; readonly stat: string; readonly label?: string; readonly returnData: boolean }
  | { readonly id: string; readonly expression: string; readonly label?: string; readonly returnData: boolean };

/**
 * Hit rate in percent = CacheHit (redis + postgres) / Requests (all tiers). `minRequests` > 0 makes the
 * result read 100 in periods with fewer requests, so a quiet stage never looks like a cold cache.
 */
export function hitRateQueries(minRequests = 0): MathQuery[] {
  const hits = HIT_TIERS.map((t) => ({ id: `hit_${t}`, metric: appMetric("CacheHit", t), stat: "Sum", returnData: false }));
  const requests = TIERS.map((t) => ({ id: `req_${t}`, metric: appMetric("Requests", t), stat: "Sum", returnData: false }));
  // FILL(…, 0): a tier with no datapoint in a period (e.g. nothing generated) must count as 0, not void the sum.
  const sum = (ids: string[]) => ids.map((id) => `FILL(${id}, 0)`).join(" + ");
  const rate = `100 * (${sum(hits.map((q) => q.id))}) / (${sum(requests.map((q) => q.id))})`;
  const queries: MathQuery[] = [...hits, ...requests];
  if (minRequests <= 0) return [...queries, { id: "hit_rate", expression: rate, label: "Hit rate (%)", returnData: true }];
  return [
    ...queries,
    { id: "requests", expression: sum(requests.map((q) => q.id)), returnData: false },
    { id: "rate", expression: rate, returnData: false },
    { id: "hit_rate", expression: `IF(requests >= ${minRequests}, rate, 100)`, label: "Hit rate (%)", returnData: true },
  ];
}
