// Lambda: POST /api/cache/invalidate.
import { handle } from "hono/aws-lambda";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createApp } from "./http/kernel";
import { invalidateRoutes } from "./http/routes/invalidate";
import { lambdaContext } from "./shared/lambda";
import { withMetricsFlush } from "./shared/metrics";

const { runtime, auth, metrics } = await lambdaContext("invalidate");
export const app = invalidateRoutes(createApp({ auth, log: runtime.log }), {
  auth,
  hot: runtime.hot,
  durable: runtime.durable,
  audit: createDrizzleAuditStore(runtime.db.db),
  metrics, // InvalidatedEntries {Service, Tier}
});
export const handler = withMetricsFlush(metrics, handle(app));
