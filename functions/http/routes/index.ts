// Every route group and its OpenAPI docs. The local server mounts all of them on one app; each Lambda
// mounts its own group. A new group adds one line to each list.
import type { App } from "../kernel";
import { buildOpenApi, type RouteDoc } from "../openapi";
import { auditDocs } from "./audit";
import { invalidateDocs } from "./invalidate";
import { simulateDocs } from "./simulate";
import { statsDocs } from "./stats";
import { warmDocs } from "./warm";

export const allRouteDocs: RouteDoc[] = [
  ...simulateDocs,
  ...statsDocs,
  ...invalidateDocs,
  ...auditDocs,
  ...warmDocs,
];

/**
 * GET /api/openapi.json, public: the document describes the API and holds no data. Built once, on the
 * first request, then served as is.
 */
export function openApiRoute(app: App): App {
  let doc: ReturnType<typeof buildOpenApi> | undefined;
  app.get("/api/openapi.json", (c) => c.json((doc ??= buildOpenApi(allRouteDocs, { title: "Scenario matrix cache", version: "1.0.0" }))));
  return app;
}
