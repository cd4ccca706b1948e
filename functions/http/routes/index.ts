// Every route group and its OpenAPI docs. The local server mounts all of them on one app; each Lambda
// mounts its own group. A new group adds one line to each list.
import type { RouteDoc } from "../openapi";
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
