// The local server's app: every route group on one Hono app over one runtime, plus /health.
import type { Runtime } from "../shared/runtime";
import { createApp, type App, type AuthSettings } from "../http/kernel";
import { openApiRoute } from "../http/routes";
import { simulateRoutes } from "../http/routes/simulate";
import { invalidateRoutes } from "../http/routes/invalidate";
import { auditRoutes } from "../http/routes/audit";
import { createDrizzleAuditStore } from "../../adapters/audit-drizzle";
import { warmRoutes } from "../http/routes/warm";
import { localMetricsRoute, statsRoutes } from "../http/routes/stats";
import { createHotStoreHistorySource, createStatsService } from "../../core/stats";
import { createLocalWarming, type LocalWarming } from "./warming";

export interface LocalAppDeps {
  readonly runtime: Runtime;
  readonly auth: AuthSettings;
  /** the in-process warm queue and service; the server passes its own so it can drain it on SIGTERM */
  readonly warming?: LocalWarming;
}

export function createLocalApp(deps: LocalAppDeps): App {
  const { runtime, auth } = deps;
  const app = createApp({ auth, log: runtime.log });

  app.get("/health", async (c) => {
    const check = async (f: () => Promise<void>) => {
      const t = performance.now();
      try {
        await f();
        return { ok: true, latencyMs: performance.now() - t };
      } catch (e) {
        return { ok: false, latencyMs: performance.now() - t, error: e instanceof Error ? e.message : String(e) };
      }
    };
    const [hot, durable] = await Promise.all([check(() => runtime.hot.ping()), check(() => runtime.durable.ping())]);
    const body = {
      status: hot.ok && durable.ok ? "ok" : "degraded",
      dependencies: { hot: { kind: runtime.tiers.hot, ...hot }, durable: { kind: runtime.tiers.durable, ...durable } },
    };
    return c.json(body, hot.ok && durable.ok ? 200 : 503);
  });
  openApiRoute(app);

  simulateRoutes(app, { auth, cache: runtime.cache });
  const audit = createDrizzleAuditStore(runtime.db.db);
  invalidateRoutes(app, { auth, hot: runtime.hot, durable: runtime.durable, audit });
  auditRoutes(app, { auth, audit });
  const warming = deps.warming ?? createLocalWarming(runtime);
  warmRoutes(app, { auth, warm: warming.service, deadLetters: warming.queue });
  // locally, history comes from the hot store's hour buckets (no CloudWatch)
  const stats = createStatsService({ hot: runtime.hot, durable: runtime.durable, log: runtime.log });
  statsRoutes(app, { auth, stats, history: createHotStoreHistorySource({ hot: runtime.hot }) });
  localMetricsRoute(app, { stats });
  return app;
}
