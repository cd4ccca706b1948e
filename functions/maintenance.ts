// Lambda: durable-tier upkeep on a schedule (evict to DURABLE_MAX_BYTES, delete stale invalidated/failed
// rows) and job-table upkeep (fail stale live jobs, purge old finished ones).
import { createDrizzleWarmStore } from "../adapters/jobs-drizzle";
import { loadWarmSettings } from "../core/warming";
import { lambdaContext } from "./shared/lambda";
import { withMetricsFlush } from "./shared/metrics";
import { createMaintenanceHandler } from "./shared/warming";

const { runtime, metrics } = await lambdaContext("maintenance");

export const handler = withMetricsFlush(
  metrics,
  createMaintenanceHandler({
    durable: runtime.durable,
    store: createDrizzleWarmStore(runtime.db.db),
    settings: loadWarmSettings(process.env),
    log: runtime.log,
  }),
);
