// POST /api/cache/invalidate (role admin): both tiers, then the audit record (core/invalidation).
import type { AuditStore } from "../../../core/audit";
import type { DurableStore, HotStore } from "../../../core/cache";
import { invalidate, InvalidateRequest, InvalidateResponse } from "../../../core/invalidation";
import type { MetricsSink } from "../../../core/stats";
import { readJson, requireRole, type App, type AuthSettings } from "../kernel";
import type { RouteDoc } from "../openapi";

/** The stores the route changes and the trail it records to; built once per process by the caller. */
export interface InvalidateRouteDeps {
  readonly auth: AuthSettings;
  readonly hot: Pick<HotStore, "invalidate">;
  readonly durable: Pick<DurableStore, "invalidate">;
  readonly audit: Pick<AuditStore, "append">;
  /** per-step budget (tests shorten it); core's default fits the Lambda timeout */
  readonly stepTimeoutMs?: number;
  /** where InvalidatedEntries goes (EMF in the Lambda) */
  readonly metrics?: Pick<MetricsSink, "invalidated">;
}

/** Mounts POST /api/cache/invalidate (admin) on `app`. */
export function invalidateRoutes(app: App, deps: InvalidateRouteDeps): App {
  app.post("/api/cache/invalidate", requireRole(deps.auth, "admin"), async (c) => {
    const body = await readJson(c, InvalidateRequest);
    const result = await invalidate({ ...deps, log: c.get("log") }, body, c.get("actor"));
    if (result.errors.length === 0) return c.json(result);
    // A tier failed, so the scope may still be served stale: 503 (retry), with the usual error object and,
    // beside it, the partial counts and the id of the audit record that logged the failure.
    const failed = result.errors.map((e) => e.tier).join(" and ");
    const error = {
      code: "invalidation_incomplete",
      message: `the ${failed} tier could not be invalidated; entries of this scope may still be served from it. Retry the request (it is safe to repeat)`,
      details: result.errors.map((e) => ({ path: e.tier, message: e.message })),
      requestId: c.get("requestId"),
    };
    return c.json({ error, ...result }, 503);
  });
  return app;
}

/** OpenAPI entries of this group (functions/http/routes/index.ts lists every group). */
export const invalidateDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/api/cache/invalidate",
    role: "admin",
    summary:
      "Invalidate all entries, one fund's or one matrix in both tiers (soft keeps durable rows marked invalidated, hard deletes them; dryRun counts only). Audited. 503 with partial counts when a tier fails.",
    body: InvalidateRequest,
    response: InvalidateResponse,
  },
];
