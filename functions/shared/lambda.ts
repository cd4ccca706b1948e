// Shared cold-start wiring of the Lambdas: configuration (SST links or env), logger, runtime, auth.
// Built once per container at module scope; warm invocations reuse every client.
import type { AuthSettings } from "../http/kernel";
import { loadConfig } from "./config";
import { createLog } from "./logger";
import { composeObservers, metricsObserver, type MetricsSink } from "../../core/stats";
import { metricsSinkFor, setProcessMetrics } from "./metrics";
import { createRuntime, type Runtime, type RuntimeSettings } from "./runtime";

export interface LambdaContext {
  readonly runtime: Runtime;
  readonly auth: AuthSettings;
  readonly config: ReturnType<typeof loadConfig>;
  /** EMF metrics of this function (also what emitInvalidated / emitWarmJobs write to) */
  readonly metrics: MetricsSink;
}

export async function lambdaContext(service: string, extra: Partial<RuntimeSettings> = {}): Promise<LambdaContext> {
  const config = loadConfig();
  const log = createLog(service);
  if (config.deployed && !config.databaseUrl) throw new Error("DatabaseUrl is not configured: refusing to start");
  const metrics = metricsSinkFor(config);
  setProcessMetrics(metrics);
  const runtime = await createRuntime({
    databaseUrl: config.databaseUrl,
    upstash: config.upstash,
    redisUrl: config.redisUrl,
    // behind a transaction pooler (RDS Proxy, Supabase, Neon) prepared statements break
    prepare: process.env.PG_PREPARE === "true",
    // outside AWS (tests, a container) a handler may run on PGlite and migrate itself
    pgliteDir: process.env.PGLITE_DIR,
    migrate: process.env.MIGRATE_ON_START === "true",
    log,
    ...extra,
    observer: (parts) => composeObservers(metricsObserver(metrics), extra.observer?.(parts)),
  });
  return { runtime, auth: { tokens: config.apiTokens, deployed: config.deployed }, config, metrics };
}
