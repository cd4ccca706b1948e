// GET /api/cache/audit (role read): the audit trail, newest first. Mounted by the stats Lambda.
import { AuditListQuery, AuditListResponse, listAudit, type AuditStore } from "../../../core/audit";
import { readQuery, requireRole, type App, type AuthSettings } from "../kernel";
import type { RouteDoc } from "../openapi";

/** The trail to read; the stats Lambda and the local server pass the drizzle AuditStore. */
export interface AuditRouteDeps {
  readonly auth: AuthSettings;
  readonly audit: Pick<AuditStore, "list">;
}

/** Mounts GET /api/cache/audit (read) on `app`. */
export function auditRoutes(app: App, deps: AuditRouteDeps): App {
  app.get("/api/cache/audit", requireRole(deps.auth, "read"), async (c) => {
    return c.json(await listAudit(deps.audit, readQuery(c, AuditListQuery)));
  });
  return app;
}

/** OpenAPI entries of this group. */
export const auditDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/cache/audit",
    role: "read",
    summary: "Audit trail of admin operations (invalidations, dry runs, warms), newest first; page with cursor (or offset), filter by fundId or action",
    query: AuditListQuery,
    response: AuditListResponse,
  },
];
