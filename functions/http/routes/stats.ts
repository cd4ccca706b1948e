// GET /api/cache/stats, GET /api/cache/stats/history and GET /api/metrics (role read), plus the local
// server's unauthenticated GET /metrics for a Prometheus on the same machine.
import type { Context } from "hono";
import type { IncomingMessage } from "node:http";
import { ForbiddenError } from "../../../core/shared/errors";
import { systemClock, type Clock } from "../../../core/shared/log";
import {
  HistoryQuery,
  HistoryResponse,
  resolveHistoryQuery,
  StatsQuery,
  StatsResponse,
  type HistorySource,
  type StatsService,
} from "../../../core/stats";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../shared/prometheus";
import { readQuery, requireRole, type App, type AppEnv, type AuthSettings } from "../kernel";
import type { RouteDoc } from "../openapi";

export interface StatsRouteDeps {
  readonly auth: AuthSettings;
  readonly stats: StatsService;
  /** CloudWatch when deployed, the hot store's hour buckets locally */
  readonly history: HistorySource;
  readonly clock?: Clock;
}

/** Statistics are live figures: no cache in front of them may answer for the service. */
const NO_STORE = { "Cache-Control": "no-store" } as const;

async function prometheus(c: Context<AppEnv>, stats: StatsService): Promise<Response> {
  const text = await renderPrometheus(await stats.totals());
  return c.body(text, 200, { ...NO_STORE, "Content-Type": PROMETHEUS_CONTENT_TYPE });
}

export function statsRoutes(app: App, deps: StatsRouteDeps): App {
  const clock = deps.clock ?? systemClock;
  const read = requireRole(deps.auth, "read");

  app.get("/api/cache/stats", read, async (c) => {
    const query = readQuery(c, StatsQuery);
    return c.json(await deps.stats.read(query), 200, NO_STORE);
  });

  app.get("/api/cache/stats/history", read, async (c) => {
    const range = resolveHistoryQuery(readQuery(c, HistoryQuery), clock());
    return c.json(await deps.history.read(range), 200, NO_STORE);
  });

  app.get("/api/metrics", read, (c) => prometheus(c, deps.stats));
  return app;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * GET /metrics without a token, for a Prometheus on this machine: a client connecting from anywhere but
 * loopback gets 403 (the server may listen on a public interface when API tokens are set). Requests
 * that never crossed a socket (app.request in tests) have no remote address and are served.
 */
export function localMetricsRoute(app: App, deps: { readonly stats: StatsService }): App {
  app.get("/metrics", async (c) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const remote = incoming?.socket?.remoteAddress;
    if (incoming && !(remote && LOOPBACK.test(remote))) {
      throw new ForbiddenError("GET /metrics answers loopback clients only; scrape GET /api/metrics with a read token");
    }
    return prometheus(c, deps.stats);
  });
  return app;
}

export const statsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/cache/stats",
    role: "read",
    summary:
      "Cache statistics: requests, hits and latencies over a rolling window (hour buckets), exact storage per tier, " +
      "percentiles within a documented relative error, the slowest requests, warming and faults. A tier that " +
      "cannot be read is null and listed in `errors` (still 200); 503 when nothing can be read.",
    query: StatsQuery,
    response: StatsResponse,
  },
  {
    method: "get",
    path: "/api/cache/stats/history",
    role: "read",
    summary: "Hit rate, requests by tier and p50/p95/p99 latency per tier per period (CloudWatch when deployed; the hot store's 8 days locally)",
    query: HistoryQuery,
    response: HistoryResponse,
  },
  {
    method: "get",
    path: "/api/metrics",
    role: "read",
    summary: "Prometheus text exposition of the service-wide counters and latency histograms (also GET /metrics, unauthenticated, on the local server)",
    responseContentType: PROMETHEUS_CONTENT_TYPE,
  },
];
