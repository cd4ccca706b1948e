// The app's CloudWatch metrics: names, units and dimensions (one catalog, `as const`), the EMF adapter of
// core's MetricsSink port (Powertools Metrics), and the helpers the invalidation and warming code call.
//
// For other modules: take a `MetricsSink` (core/stats) as a dependency and call
//   sink.invalidated(count, { tier: "redis" | "postgres", ...props })   → InvalidatedEntries {Service, Tier}
//   sink.warmJobs("enqueued" | "completed" | "failed", count, props)    → WarmJobs* {Service}
// In a Lambda, `lambdaContext().metrics` is that sink; `emitInvalidated` / `emitWarmJobs` below call the
// process's sink directly. Ids (fundId, matrixKey, jobId, actor …) belong in props: they become EMF
// properties, searchable in Logs Insights, and never dimensions (one CloudWatch metric per id otherwise).
//
// stacks/metrics.ts reads these metrics back for the dashboard and alarms; tests/metrics-emf.test.ts keeps
// the two catalogs equal.
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { FaultEvent, LookupEvent } from "../../core/cache";
import { noopMetricsSink, type MetricProps, type MetricsSink, type WarmJobKind } from "../../core/stats";
import { DEFAULT_METRICS_NAMESPACE } from "./config";

/** Namespace when METRICS_NAMESPACE is unset (one constant, in config.ts; the stacks set the same value). */
export { DEFAULT_METRICS_NAMESPACE };

/** `Service` dimension value when POWERTOOLS_SERVICE_NAME is unset: one value for the whole app. */
export const DEFAULT_SERVICE_NAME = "scenario-matrix-cache";

/** Dimension names. Alarms match exact dimension sets: every metric has Service, tiered ones Tier too. */
export const DIMENSION = { service: "Service", tier: "Tier" } as const;

/** Every metric the app emits: unit, and whether it carries the Tier dimension. */
export const METRIC = {
  CacheHit: { unit: MetricUnit.Count, tiered: true },
  CacheMiss: { unit: MetricUnit.Count, tiered: false },
  /** one per client get-or-generate, Tier = the tier that answered (redis | postgres | generated) */
  Requests: { unit: MetricUnit.Count, tiered: true },
  /** end-to-end latency of a client request, Tier = the tier that answered */
  Latency: { unit: MetricUnit.Milliseconds, tiered: true },
  GenerationDuration: { unit: MetricUnit.Milliseconds, tiered: false },
  MatrixBytes: { unit: MetricUnit.Bytes, tiered: false },
  InvalidatedEntries: { unit: MetricUnit.Count, tiered: true },
  WarmJobsEnqueued: { unit: MetricUnit.Count, tiered: false },
  WarmJobsCompleted: { unit: MetricUnit.Count, tiered: false },
  WarmJobsFailed: { unit: MetricUnit.Count, tiered: false },
  HotTierFaults: { unit: MetricUnit.Count, tiered: false },
  DurableTierFaults: { unit: MetricUnit.Count, tiered: false },
  /** lookups made for warming: kept out of Requests/CacheHit so the hit rate measures clients */
  WarmLookups: { unit: MetricUnit.Count, tiered: true },
} as const;
export type MetricName = keyof typeof METRIC;

const WARM_METRIC: Record<WarmJobKind, MetricName> = {
  enqueued: "WarmJobsEnqueued",
  completed: "WarmJobsCompleted",
  failed: "WarmJobsFailed",
};

/** Keys a property may not take: they are the document's dimensions and metric values. */
const RESERVED = new Set<string>(["_aws", DIMENSION.service, DIMENSION.tier, ...Object.keys(METRIC)]);

export interface EmfSinkOptions {
  readonly namespace?: string;
  readonly serviceName?: string;
}

/**
 * EMF through Powertools Metrics. Each event is published at once as its own document(s), so its
 * properties (fundId, matrixKey) describe exactly its values and nothing waits in memory when a Lambda
 * freezes; `flush()` only publishes what a caller added to the instance directly. Tiered and untiered
 * metrics go in separate documents because one EMF directive has one dimension set for all its metrics.
 */
export function createEmfMetricsSink(opts: EmfSinkOptions = {}): MetricsSink & { readonly metrics: Metrics } {
  const serviceName = opts.serviceName ?? DEFAULT_SERVICE_NAME;
  const metrics = new Metrics({ namespace: opts.namespace ?? DEFAULT_METRICS_NAMESPACE, serviceName });
  // Powertools adds a lowercase `service` dimension by default; the alarms read `Service`.
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [DIMENSION.service]: serviceName });

  function publish(tier: string | undefined, values: readonly (readonly [MetricName, number])[], props: MetricProps): void {
    if (values.length === 0) return;
    if (tier !== undefined) metrics.addDimension(DIMENSION.tier, tier);
    for (const [k, v] of Object.entries(props)) {
      if (v !== undefined && !RESERVED.has(k)) metrics.addMetadata(k, String(v));
    }
    for (const [name, value] of values) metrics.addMetric(name, METRIC[name].unit, value);
    // publishStoredMetrics also clears this document's dimension and metadata for the next one
    metrics.publishStoredMetrics();
  }

  const safely = (f: () => void) => {
    try {
      f();
    } catch {
      // metrics must never fail a request; Powertools has already warned on stderr
      metrics.clearMetrics();
      metrics.clearDimensions();
      metrics.clearMetadata();
    }
  };

  return {
    metrics,

    lookup(e: LookupEvent) {
      safely(() => {
        const props = { fundId: e.fundId, matrixKey: e.matrixKey, purpose: e.purpose, outcome: e.outcome, servedBy: e.tier };
        const tiered: [MetricName, number][] = e.purpose === "request" ? [["Requests", 1], ["Latency", e.latencyMs]] : [["WarmLookups", 1]];
        if (e.purpose === "request" && e.outcome === "hit") tiered.push(["CacheHit", 1]);
        publish(e.tier, tiered, props);
        const untiered: [MetricName, number][] = [["MatrixBytes", e.sizeBytes]];
        if (e.purpose === "request" && e.outcome === "miss") untiered.push(["CacheMiss", 1]);
        if (e.timings.generationMs !== undefined) untiered.push(["GenerationDuration", e.timings.generationMs]);
        publish(undefined, untiered, props);
      });
    },

    fault(e: FaultEvent) {
      safely(() =>
        publish(undefined, [[e.tier === "redis" ? "HotTierFaults" : "DurableTierFaults", 1]], {
          operation: e.op,
          matrixKey: e.matrixKey,
          error: (e.error instanceof Error ? e.error.message : String(e.error)).slice(0, 200),
        }),
      );
    },

    invalidated(count, props) {
      safely(() => publish(props.tier, [["InvalidatedEntries", count]], props));
    },

    warmJobs(kind, count, props = {}) {
      safely(() => publish(undefined, [[WARM_METRIC[kind], count]], props));
    },

    flush() {
      if (metrics.hasStoredMetrics()) safely(() => metrics.publishStoredMetrics());
    },
  };
}

let processSink: MetricsSink = noopMetricsSink;

/** The sink of this process: EMF in a Lambda (set by lambdaContext), nothing elsewhere. */
export const processMetrics = (): MetricsSink => processSink;
export function setProcessMetrics(sink: MetricsSink): void {
  processSink = sink;
}

/** Entries an invalidation removed from one tier (InvalidatedEntries {Service, Tier}). */
export function emitInvalidated(count: number, props: MetricProps & { readonly tier: "redis" | "postgres" }): void {
  processSink.invalidated(count, props);
}

/** Warm jobs enqueued, completed or failed (WarmJobsEnqueued / Completed / Failed {Service}). */
export function emitWarmJobs(kind: WarmJobKind, count: number, props?: MetricProps): void {
  processSink.warmJobs(kind, count, props);
}

/**
 * The sink a process should use: EMF inside Lambda (or with METRICS_EMF=stdout, e.g. to inspect the
 * output locally), otherwise none — the local server and tests keep stdout for their own logs.
 */
export function metricsSinkFor(config: { readonly deployed: boolean; readonly metricsNamespace?: string }, env = process.env): MetricsSink {
  if (!config.deployed && env.METRICS_EMF !== "stdout") return noopMetricsSink;
  return createEmfMetricsSink({
    namespace: config.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
  });
}

/** Wraps a Lambda handler so the sink is flushed after every invocation, whatever its outcome. */
export function withMetricsFlush<E, C, R>(sink: MetricsSink, handler: (event: E, context: C) => Promise<R>) {
  return async (event: E, context: C): Promise<R> => {
    try {
      return await handler(event, context);
    } finally {
      sink.flush();
    }
  };
}
