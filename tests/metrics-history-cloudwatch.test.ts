// History from CloudWatch: the GetMetricData request the adapter sends (metric math for the hit rate,
// CloudWatch percentiles per tier), pagination, and how results become points — with aws-sdk-client-mock
// answering in the SDK's own request and response shapes.
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput, type MetricDataResult } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import type { DurableStore } from "../core/cache";
import { ValidationError } from "../core/shared/errors";
import { silentLog } from "../core/shared/log";
import { createStatsService, HistoryResponse } from "../core/stats";
import { createApp } from "../functions/http/kernel";
import { statsRoutes } from "../functions/http/routes/stats";
import { checkCloudWatchPeriod, createCloudWatchHistorySource, historyQueries } from "../functions/shared/cloudwatch-history";

const cw = mockClient(CloudWatchClient);
afterEach(() => cw.reset());

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const NS = "ScenarioMatrixCache";
const SERVICE = "scenario-matrix-cache";
const t = (h: number) => new Date(NOW - h * 3_600_000);

/** A page of GetMetricData output, as the SDK returns it (Dates, StatusCode, $metadata). */
function page(results: MetricDataResult[], nextToken?: string): GetMetricDataCommandOutput {
  return { MetricDataResults: results, NextToken: nextToken, Messages: [], $metadata: { httpStatusCode: 200, requestId: "b1c2-d3e4", attempts: 1, totalRetryDelay: 0 } };
}
const series = (Id: string, points: [Date, number][], StatusCode: MetricDataResult["StatusCode"] = "Complete"): MetricDataResult => ({
  Id,
  Label: Id,
  Timestamps: points.map((p) => p[0]),
  Values: points.map((p) => p[1]),
  StatusCode,
  Messages: [],
});

const source = () => createCloudWatchHistorySource({ client: new CloudWatchClient({ region: "eu-west-1" }), namespace: NS, serviceName: SERVICE, clock: () => NOW });

describe("CloudWatch history source", () => {
  it("asks GetMetricData for hits, requests and misses by tier, the hit rate as metric math and p50/p95/p99 per tier", async () => {
    cw.on(GetMetricDataCommand).resolves(page([]));

    await source().read({ from: t(6), to: t(0), periodSeconds: 300 });

    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toMatchObject({ StartTime: t(6), EndTime: t(0), ScanBy: "TimestampAscending" });
    const q = Object.fromEntries(input.MetricDataQueries!.map((x) => [x.Id, x]));
    expect(Object.keys(q).sort()).toEqual(
      [
        "hit_redis", "hit_postgres", "req_redis", "req_postgres", "req_generated", "misses", "hits", "requests", "hit_rate",
        ...["redis", "postgres", "generated"].flatMap((tier) => ["p50", "p95", "p99"].map((p) => `lat_${tier}_${p}`)),
      ].sort(),
    );
    expect(q.hit_postgres).toEqual({
      Id: "hit_postgres",
      MetricStat: {
        Metric: { Namespace: NS, MetricName: "CacheHit", Dimensions: [{ Name: "Service", Value: SERVICE }, { Name: "Tier", Value: "postgres" }] },
        Period: 300,
        Stat: "Sum",
      },
      ReturnData: false,
    });
    expect(q.misses.MetricStat?.Metric?.Dimensions).toEqual([{ Name: "Service", Value: SERVICE }]);
    expect(q.lat_generated_p99.MetricStat).toMatchObject({ Stat: "p99", Period: 300, Metric: { MetricName: "Latency" } });
    expect(q.requests.Expression).toBe("FILL(req_redis, 0) + FILL(req_postgres, 0) + FILL(req_generated, 0)");
    expect(q.hit_rate.Expression).toBe("hits / requests");
    // CloudWatch allows at most 500 queries per request
    expect(input.MetricDataQueries!.length).toBeLessThanOrEqual(500);
  });

  it("follows NextToken and merges the pages of every series into points, skipping periods without requests", async () => {
    const [a, b, c] = [t(3), t(2), t(1)];
    cw.on(GetMetricDataCommand, { NextToken: undefined }).resolves(
      page(
        [
          series("requests", [[a, 10], [b, 0]], "PartialData"),
          series("hits", [[a, 8], [b, 0]], "PartialData"),
          series("hit_rate", [[a, 0.8]], "PartialData"),
          series("req_redis", [[a, 7]], "PartialData"),
          series("req_postgres", [[a, 1]], "PartialData"),
          series("req_generated", [[a, 2]], "PartialData"),
          series("misses", [[a, 2]], "PartialData"),
          series("lat_redis_p50", [[a, 1.25]], "PartialData"),
          series("lat_redis_p99", [[a, 9.5]], "PartialData"),
        ],
        "token-2",
      ),
    );
    cw.on(GetMetricDataCommand, { NextToken: "token-2" }).resolves(
      page([series("requests", [[c, 4]]), series("hits", [[c, 4]]), series("hit_rate", [[c, 1]]), series("req_redis", [[c, 4]]), series("lat_redis_p95", [[c, 3]])]),
    );

    const res = HistoryResponse.parse(await source().read({ from: t(4), to: t(0), periodSeconds: 3600 }));

    expect(cw.commandCalls(GetMetricDataCommand).map((x) => x.args[0].input.NextToken)).toEqual([undefined, "token-2"]);
    expect(res.source).toBe("cloudwatch");
    expect(res.points.map((p) => p.timestamp)).toEqual([a.toISOString(), c.toISOString()]);
    expect(res.points[0]).toEqual({
      timestamp: a.toISOString(),
      requests: 10,
      hits: 8,
      misses: 2,
      hitRate: 0.8,
      byTier: {
        redis: { requests: 7, p50LatencyMs: 1.25, p95LatencyMs: null, p99LatencyMs: 9.5 },
        postgres: { requests: 1, p50LatencyMs: null, p95LatencyMs: null, p99LatencyMs: null },
        generated: { requests: 2, p50LatencyMs: null, p95LatencyMs: null, p99LatencyMs: null },
      },
    });
    expect(res.points[1]).toMatchObject({ requests: 4, hits: 4, misses: 0, hitRate: 1, byTier: { redis: { requests: 4, p95LatencyMs: 3 } } });
  });

  it("refuses a period finer than CloudWatch still keeps for the start time, naming period", () => {
    const range = (days: number, periodSeconds: number) => ({ from: new Date(NOW - days * 86_400_000), to: new Date(NOW), periodSeconds });
    const periodError = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e instanceof ValidationError ? e.details?.[0]?.path : "other";
      }
      return "none";
    };

    expect(periodError(() => checkCloudWatchPeriod(range(1, 60), NOW))).toBe("none");
    expect(periodError(() => checkCloudWatchPeriod(range(20, 60), NOW))).toBe("period");
    expect(periodError(() => checkCloudWatchPeriod(range(20, 300), NOW))).toBe("none");
    expect(periodError(() => checkCloudWatchPeriod(range(100, 300), NOW))).toBe("period");
    expect(periodError(() => checkCloudWatchPeriod(range(100, 7200), NOW))).toBe("none");
  });

  it("builds the same queries for any period it is given", () => {
    expect(historyQueries(NS, SERVICE, 60).filter((x) => x.MetricStat).every((x) => x.MetricStat!.Period === 60)).toBe(true);
  });
});

describe("GET /api/cache/stats/history on CloudWatch", () => {
  const durable = { storage: async () => ({ entriesCount: 0, totalSizeBytes: 0 }) } as unknown as DurableStore;
  const app = () => {
    const hot = createMemoryHotStore();
    return statsRoutes(createApp({ auth: { tokens: [], deployed: false }, log: silentLog }), {
      auth: { tokens: [], deployed: false },
      stats: createStatsService({ hot, durable }),
      history: source(),
      clock: () => NOW,
    });
  };

  it("answers a valid range with CloudWatch's figures", async () => {
    cw.on(GetMetricDataCommand).resolves(page([series("requests", [[t(30 * 24), 5]]), series("hits", [[t(30 * 24), 5]]), series("hit_rate", [[t(30 * 24), 1]])]));

    const res = await app().request(`/api/cache/stats/history?from=${t(31 * 24).toISOString()}&to=${t(29 * 24).toISOString()}&period=3600`);

    expect(res.status).toBe(200);
    expect(HistoryResponse.parse(await res.json()).points).toHaveLength(1);
  });

  it("answers 400 naming period for 1-minute points a month back, without calling CloudWatch", async () => {
    const res = await app().request(`/api/cache/stats/history?from=${t(30 * 24).toISOString()}&to=${t(30 * 24 - 2).toISOString()}&period=60`);

    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { path: string }[] } }).error.details[0].path).toBe("period");
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
