// Lambda: GET /api/cache/stats, /api/cache/stats/history, /api/cache/audit, /api/metrics, /api/openapi.json.
import { handle } from "hono/aws-lambda";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createStatsService } from "../core/stats";
import { createApp } from "./http/kernel";
import { openApiRoute } from "./http/routes";
import { auditRoutes } from "./http/routes/audit";
import { statsRoutes } from "./http/routes/stats";
import { createCloudWatchClient, createCloudWatchHistorySource } from "./shared/cloudwatch-history";
import { lambdaContext } from "./shared/lambda";
import { DEFAULT_SERVICE_NAME, withMetricsFlush } from "./shared/metrics";

const { runtime, auth, config, metrics } = await lambdaContext("stats");
// The history reads back what every function emitted: same namespace, same Service dimension.
const history = createCloudWatchHistorySource({
  client: createCloudWatchClient(),
  namespace: config.metricsNamespace,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
});

export const app = createApp({ auth, log: runtime.log });
statsRoutes(app, { auth, stats: createStatsService({ hot: runtime.hot, durable: runtime.durable, log: runtime.log }), history });
auditRoutes(app, { auth, audit: createDrizzleAuditStore(runtime.db.db) });
openApiRoute(app);

export const handler = withMetricsFlush(metrics, handle(app));
