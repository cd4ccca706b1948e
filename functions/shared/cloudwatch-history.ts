// The HistorySource over CloudWatch: reads the EMF metrics back with GetMetricData. CloudWatch does the
// arithmetic: metric math for the hit rate and per-tier sums, its own percentile statistics (p50/p95/p99)
// on Latency per tier. Needs `cloudwatch:GetMetricData` on the function's role.
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery, type MetricDataResult } from "@aws-sdk/client-cloudwatch";
import { SERVED_TIERS, type HistoryPoint, type HistoryRange, type HistorySource } from "../../core/stats";
import { ValidationError } from "../../core/shared/errors";
import { systemClock, type Clock } from "../../core/shared/log";
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME, DIMENSION, type MetricName } from "./metrics";

export interface CloudWatchHistoryOptions {
  readonly client: Pick<CloudWatchClient, "send">;
  readonly namespace?: string;
  readonly serviceName?: string;
  readonly clock?: Clock;
}

const DAY_MS = 86_400_000;
const PERCENTILES = ["p50", "p95", "p99"] as const;
/** Query ids (CloudWatch wants ^[a-z][a-zA-Z0-9_]*$). */
const id = {
  hit: (t: string) => `hit_${t}`,
  req: (t: string) => `req_${t}`,
  lat: (t: string, p: string) => `lat_${t}_${p}`,
  misses: "misses",
  hits: "hits",
  requests: "requests",
  hitRate: "hit_rate",
} as const;

/**
 * CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days and 1-hour data 455 days; a period finer
 * than what the start time still has returns nothing, so it is refused up front (400 naming `period`).
 */
export function checkCloudWatchPeriod(range: HistoryRange, now: number): void {
  const age = now - range.from.getTime();
  const need = age > 63 * DAY_MS ? 3600 : age > 15 * DAY_MS ? 300 : 60;
  if (range.periodSeconds % need !== 0) {
    const msg = `data starting ${Math.floor(age / DAY_MS)} days ago is kept at ${need}-second resolution: use a multiple of ${need}`;
    throw new ValidationError(`invalid query: period: ${msg}`, [{ path: "period", message: msg }]);
  }
}

/** The GetMetricData queries: exposed so tests can assert exactly what is asked for. */
export function historyQueries(namespace: string, serviceName: string, periodSeconds: number): MetricDataQuery[] {
  const stat = (queryId: string, name: MetricName, tier: string | undefined, statName: string, returnData: boolean): MetricDataQuery => ({
    Id: queryId,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: name,
        Dimensions: [{ Name: DIMENSION.service, Value: serviceName }, ...(tier ? [{ Name: DIMENSION.tier, Value: tier }] : [])],
      },
      Period: periodSeconds,
      Stat: statName,
    },
    ReturnData: returnData,
  });
  // FILL(x, 0): a tier with no datapoint in a period (nothing generated) must add 0, not void the sum
  const sum = (ids: string[]) => ids.map((i) => `FILL(${i}, 0)`).join(" + ");
  return [
    ...(["redis", "postgres"] as const).map((t) => stat(id.hit(t), "CacheHit", t, "Sum", false)),
    ...SERVED_TIERS.map((t) => stat(id.req(t), "Requests", t, "Sum", true)),
    stat(id.misses, "CacheMiss", undefined, "Sum", true),
    { Id: id.hits, Expression: sum([id.hit("redis"), id.hit("postgres")]), Label: "hits", ReturnData: true },
    { Id: id.requests, Expression: sum(SERVED_TIERS.map(id.req)), Label: "requests", ReturnData: true },
    { Id: id.hitRate, Expression: `${id.hits} / ${id.requests}`, Label: "hit rate", ReturnData: true },
    ...SERVED_TIERS.flatMap((t) => PERCENTILES.map((p) => stat(id.lat(t, p), "Latency", t, p, true))),
  ];
}

export function createCloudWatchHistorySource(opts: CloudWatchHistoryOptions): HistorySource {
  const namespace = opts.namespace ?? DEFAULT_METRICS_NAMESPACE;
  const serviceName = opts.serviceName ?? DEFAULT_SERVICE_NAME;
  const clock = opts.clock ?? systemClock;

  return {
    kind: "cloudwatch",
    async read(range) {
      checkCloudWatchPeriod(range, clock());
      const queries = historyQueries(namespace, serviceName, range.periodSeconds);
      const series = new Map<string, Map<number, number>>();
      const collect = (results: MetricDataResult[] = []) => {
        for (const r of results) {
          if (!r.Id) continue;
          const s = series.get(r.Id) ?? new Map<number, number>();
          series.set(r.Id, s);
          (r.Timestamps ?? []).forEach((t, i) => {
            const v = r.Values?.[i];
            if (v !== undefined && Number.isFinite(v)) s.set(new Date(t).getTime(), v);
          });
        }
      };
      // A long range comes back in pages (NextToken); each page carries part of every series.
      let token: string | undefined;
      do {
        const out = await opts.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: range.from,
            EndTime: range.to,
            ScanBy: "TimestampAscending",
            NextToken: token,
          }),
        );
        collect(out.MetricDataResults);
        token = out.NextToken;
      } while (token);

      const value = (queryId: string, t: number) => series.get(queryId)?.get(t);
      const times = [...new Set([...series.values()].flatMap((s) => [...s.keys()]))].sort((a, b) => a - b);
      const points: HistoryPoint[] = [];
      for (const t of times) {
        const requests = Math.round(value(id.requests, t) ?? 0);
        if (requests === 0) continue;
        const hits = Math.round(value(id.hits, t) ?? 0);
        const rate = value(id.hitRate, t);
        const byTier = Object.fromEntries(
          SERVED_TIERS.map((tier) => [
            tier,
            {
              requests: Math.round(value(id.req(tier), t) ?? 0),
              p50LatencyMs: value(id.lat(tier, "p50"), t) ?? null,
              p95LatencyMs: value(id.lat(tier, "p95"), t) ?? null,
              p99LatencyMs: value(id.lat(tier, "p99"), t) ?? null,
            },
          ]),
        ) as HistoryPoint["byTier"];
        points.push({
          timestamp: new Date(t).toISOString(),
          requests,
          hits,
          misses: Math.round(value(id.misses, t) ?? 0),
          hitRate: rate === undefined ? null : Math.min(1, Math.max(0, rate)),
          byTier,
        });
      }
      return { source: "cloudwatch", from: range.from.toISOString(), to: range.to.toISOString(), periodSeconds: range.periodSeconds, points };
    },
  };
}

/** The client a stats Lambda builds once at module scope (region from the Lambda environment). */
export function createCloudWatchClient(): CloudWatchClient {
  return new CloudWatchClient({ region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 3 });
}
