// The metrics port: what the cache, invalidation and warming report to a metrics backend (CloudWatch EMF
// in the Lambdas, see functions/shared/metrics.ts; nothing locally). Core code takes a MetricsSink as a
// dependency and never knows the backend; `fundId`, `matrixKey` and other ids go in `props`, which a
// backend must keep out of its dimensions (they would make one metric per id).
import type { CacheObserver, FaultEvent, LookupEvent } from "../cache";

/** Extra context recorded beside a metric (EMF properties), never a dimension. */
export type MetricProps = Readonly<Record<string, string | number | boolean | undefined>>;

export type WarmJobKind = "enqueued" | "completed" | "failed";

export interface MetricsSink {
  /** One get-or-generate: hit or miss, serving tier, latency, generation time, bytes. */
  lookup(event: LookupEvent): void;
  /** A hot- or durable-tier fault the cache degraded around. */
  fault(event: FaultEvent): void;
  /** Entries an invalidation removed from one tier (call once per tier it reached). */
  invalidated(count: number, props: MetricProps & { readonly tier: "redis" | "postgres" }): void;
  /** Warm jobs enqueued, completed or failed. */
  warmJobs(kind: WarmJobKind, count: number, props?: MetricProps): void;
  /** Publishes anything buffered (end of a Lambda invocation). */
  flush(): void;
}

/** A sink that drops everything (local server, tests that do not look at metrics). */
export const noopMetricsSink: MetricsSink = {
  lookup() {},
  fault() {},
  invalidated() {},
  warmJobs() {},
  flush() {},
};

/** The cache observer that forwards lookups and faults to a sink. */
export function metricsObserver(sink: MetricsSink): CacheObserver {
  return {
    onLookup: (e) => sink.lookup(e),
    onFault: (e) => sink.fault(e),
  };
}

/**
 * Several observers as one. Every onLookup runs (concurrently) even if another fails; the first failure is
 * rethrown afterwards so the cache counts it. A throwing onFault never stops the others.
 */
export function composeObservers(...observers: (CacheObserver | undefined)[]): CacheObserver {
  const list = observers.filter((o): o is CacheObserver => o !== undefined);
  return {
    async onLookup(event) {
      const results = await Promise.allSettled(list.map(async (o) => o.onLookup?.(event)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    },
    onFault(event) {
      for (const o of list) {
        try {
          o.onFault?.(event);
        } catch {
          // an observer's own failure must not hide the fault from the others
        }
      }
    },
  };
}
