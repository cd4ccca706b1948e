// The stats Lambda file itself (module-scope wiring + exported handler) with API Gateway HTTP API v2
// events: stats, history from CloudWatch (mocked at the SDK), Prometheus, OpenAPI, audit, auth and 400s.
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeAll, describe, expect, it } from "vitest";
import { HistoryResponse, StatsResponse } from "../core/stats";
import { httpEvent, lambdaContext } from "./helpers/apigw";

const cw = mockClient(CloudWatchClient);
type Handler = (e: ReturnType<typeof httpEvent>, c: ReturnType<typeof lambdaContext>) => Promise<unknown>;

describe("functions/stats.ts handler", () => {
  let handler: Handler;
  beforeAll(async () => {
    // the handler's wiring is under test, not storage: embedded stores, never the shared servers CI names
    for (const k of ["DATABASE_URL", "REDIS_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"]) delete process.env[k];
    process.env.PGLITE_DIR = "memory://";
    process.env.MIGRATE_ON_START = "true";
    process.env.API_TOKENS = JSON.stringify([{ actor: "reader", role: "read", token: "tok-read" }]);
    handler = (await import("../functions/stats")).handler as unknown as Handler;
  }, 60_000);

  const call = async (path: string, opts: { query?: Record<string, string>; token?: string | null; routeKey?: string } = {}) => {
    const token = opts.token === undefined ? "tok-read" : opts.token;
    const res = (await handler(
      httpEvent({ method: "GET", path, query: opts.query, routeKey: opts.routeKey, headers: token ? { authorization: `Bearer ${token}` } : {} }),
      lambdaContext("stats"),
    )) as APIGatewayProxyStructuredResultV2;
    return { ...res, json: () => JSON.parse(res.body!) as Record<string, unknown> };
  };

  it("answers GET /api/cache/stats with the documented schema: nothing recorded yet is zero requests and null rates", async () => {
    const res = await call("/api/cache/stats");

    expect(res.statusCode).toBe(200);
    expect(res.headers?.["cache-control"]).toBe("no-store");
    const body = StatsResponse.parse(res.json());
    expect(body.overview).toMatchObject({ totalRequests: 0, hitRate: null, avgLatencyMs: { redis: null, postgres: null, generation: null } });
    expect(body.storage).toEqual({
      redis: { entriesCount: 0, totalSizeBytes: 0, avgEntrySizeBytes: null },
      postgres: { entriesCount: 0, totalSizeBytes: 0, avgEntrySizeBytes: null },
    });
    expect(body.errors).toEqual([]);
  });

  it("reads history back from CloudWatch GetMetricData", async () => {
    const at = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "requests", Label: "requests", Timestamps: [at], Values: [42], StatusCode: "Complete" },
        { Id: "hits", Label: "hits", Timestamps: [at], Values: [40], StatusCode: "Complete" },
        { Id: "hit_rate", Label: "hit rate", Timestamps: [at], Values: [40 / 42], StatusCode: "Complete" },
      ],
      Messages: [],
      $metadata: { httpStatusCode: 200 },
    });

    const res = await call("/api/cache/stats/history", { query: { period: "3600" }, routeKey: "GET /api/cache/stats/history" });

    expect(res.statusCode).toBe(200);
    const body = HistoryResponse.parse(res.json());
    expect(body).toMatchObject({ source: "cloudwatch", periodSeconds: 3600, points: [{ timestamp: at.toISOString(), requests: 42, hits: 40 }] });
    const sent = cw.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(sent.MetricDataQueries?.find((q) => q.Id === "req_redis")?.MetricStat?.Metric).toMatchObject({
      Namespace: "ScenarioMatrixCache",
      MetricName: "Requests",
    });
  });

  it("serves Prometheus text on /api/metrics, the OpenAPI document and the audit trail", async () => {
    const metrics = await call("/api/metrics");
    const openapi = await call("/api/openapi.json", { token: null });
    const audit = await call("/api/cache/audit");

    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers?.["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(metrics.body).toContain("# TYPE smc_requests_total counter");
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys(openapi.json().paths as object)).toEqual(expect.arrayContaining(["/api/cache/stats", "/api/cache/stats/history", "/api/metrics"]));
    expect(audit.statusCode).toBe(200);
  });

  it("refuses a missing token with 401 and a bad query with 400 naming the field", async () => {
    const unauthenticated = await call("/api/cache/stats", { token: null });
    const badQuery = await call("/api/cache/stats/history", { query: { period: "59" } });

    expect(unauthenticated.statusCode).toBe(401);
    expect(badQuery.statusCode).toBe(400);
    expect((badQuery.json().error as { details: { path: string }[] }).details[0].path).toBe("period");
  });
});
