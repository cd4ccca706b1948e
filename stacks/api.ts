// The HTTP API: API Gateway HTTP API (payload 2.0) in front of one Lambda per route group. Each group's
// function is declared once and every route of the group points at its ARN, so a group shares one
// function (one cold start, one set of warm clients) instead of SST's default of one function per route.
import { type FunctionContext, HANDLERS, functionArgs, linksFor } from "./functions";

/** Route keys served by each function; the Hono apps in functions/ route the same paths. */
export const ROUTES = {
  stats: [
    "GET /api/cache/stats",
    "GET /api/cache/stats/history",
    "GET /api/cache/audit",
    "GET /api/metrics",
    "GET /api/openapi.json",
  ],
  invalidate: ["POST /api/cache/invalidate"],
  warm: [
    "POST /api/cache/warm",
    "GET /api/cache/warm/jobs",
    "GET /api/cache/warm/jobs/{jobId}",
    "GET /api/cache/warm/dead-letters",
    "GET /api/cache/warm/profiles",
    "POST /api/cache/warm/profiles",
    "DELETE /api/cache/warm/profiles/{id}",
  ],
  simulate: ["POST /api/monte-carlo/simulate"],
} as const;

export type RouteGroup = keyof typeof ROUTES;

export interface HttpApi {
  readonly api: sst.aws.ApiGatewayV2;
  readonly functions: Record<RouteGroup, sst.aws.Function>;
}

/** Declares the API, the four route-group functions and every route. */
export function createApi(ctx: FunctionContext): HttpApi {
  const { settings } = ctx;
  const links = linksFor(ctx);
  const http = (
    name: string,
    handler: string,
    link: unknown[],
    memoryMb = settings.api.memoryMb,
    permissions?: sst.aws.FunctionPermissionArgs[],
  ) =>
    new sst.aws.Function(
      name,
      functionArgs(ctx, {
        handler,
        description: `HTTP ${name}`,
        link,
        timeoutSeconds: settings.api.timeoutSeconds,
        memoryMb,
        permissions,
      }),
    );

  const functions: Record<RouteGroup, sst.aws.Function> = {
    // GET /api/cache/stats/history reads the EMF metrics back (GetMetricData has no resource-level scoping)
    stats: http("Stats", HANDLERS.stats, links.http, settings.api.memoryMb, [{ actions: ["cloudwatch:GetMetricData"], resources: ["*"] }]),
    invalidate: http("Invalidate", HANDLERS.invalidate, links.http),
    warm: http("Warm", HANDLERS.warm, links.warmHttp),
    simulate: http("Simulate", HANDLERS.simulate, links.http, settings.api.simulateMemoryMb),
  };

  const api = new sst.aws.ApiGatewayV2("Api", {
    transform: {
      stage: {
        // Caps the bill and the database load a runaway client can cause; API Gateway answers 429 beyond it.
        defaultRouteSettings: {
          throttlingRateLimit: settings.api.throttle.rate,
          throttlingBurstLimit: settings.api.throttle.burst,
        },
      },
    },
  });
  for (const group of Object.keys(ROUTES) as RouteGroup[]) {
    for (const route of ROUTES[group]) api.route(route, functions[group].arn);
  }
  return { api, functions };
}
