// POST /api/monte-carlo/simulate (role read).
import type { MatrixCache } from "../../../core/cache";
import { simulate, SimulateRequest, SimulateResponse } from "../../../core/simulate";
import { readJson, requireRole, type App, type AuthSettings } from "../kernel";
import type { RouteDoc } from "../openapi";

export interface SimulateRouteDeps {
  readonly auth: AuthSettings;
  readonly cache: MatrixCache;
}

export function simulateRoutes(app: App, deps: SimulateRouteDeps): App {
  app.post("/api/monte-carlo/simulate", requireRole(deps.auth, "read"), async (c) => {
    const body = await readJson(c, SimulateRequest);
    return c.json(await simulate(deps.cache, body));
  });
  return app;
}

export const simulateDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/api/monte-carlo/simulate",
    role: "read",
    summary: "Fund MOIC percentiles from the cached scenario matrix (generated on a miss)",
    body: SimulateRequest,
    response: SimulateResponse,
  },
];
