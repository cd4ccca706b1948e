// `npm start`: every route on one port over the embedded defaults (PGlite in .data/, in-memory hot
// tier, in-process queue) or the real services named by DATABASE_URL / REDIS_URL / UPSTASH_*.
import { serve } from "@hono/node-server";
import { loadConfig } from "../shared/config";
import { createLog } from "../shared/logger";
import { createRuntime } from "../shared/runtime";
import { createLocalApp } from "./app";
import { createLocalWarming } from "./warming";

const LOOPBACK = "127.0.0.1";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLog("local-server");
  const port = Number(process.env.PORT ?? 3000);
  const authOff = config.apiTokens.length === 0;
  // Without tokens the server is open, so it never listens beyond loopback.
  const host = authOff ? LOOPBACK : (process.env.HOST ?? LOOPBACK);
  if (authOff) {
    const bar = "!".repeat(78);
    console.warn(`${bar}\n!! AUTH IS OFF: no API_TOKENS configured. Every route is open to anyone on this machine.\n!! Listening on loopback (${LOOPBACK}) only. Set API_TOKENS='[{"actor":"me","role":"admin","token":"…"}]' to enable auth.\n${bar}`);
  }
  const runtime = await createRuntime({
    databaseUrl: config.databaseUrl,
    pgliteDir: process.env.PGLITE_DIR ?? ".data/pglite",
    upstash: config.upstash,
    redisUrl: config.redisUrl,
    // several servers (or test runs) can share one Redis under different prefixes
    hotPrefix: process.env.HOT_PREFIX,
    migrate: true,
    log,
  });
  const warming = createLocalWarming(runtime);
  const app = createLocalApp({ runtime, auth: { tokens: config.apiTokens, deployed: false }, warming });
  // the in-process queue forgets everything on exit: hand live jobs back to it, then pre-warm if asked
  const warmStart = await warming.start();
  if (warmStart.recovered > 0 || warmStart.prewarmed !== null) log.info("warming started", warmStart);

  // Track in-flight requests so SIGTERM can drain them before closing the stores.
  let inflight = 0;
  let drained: (() => void) | undefined;
  const server = serve({
    fetch: async (req, env) => {
      inflight++;
      try {
        return await app.fetch(req, env);
      } finally {
        inflight--;
        if (inflight === 0) drained?.();
      }
    },
    port,
    hostname: host,
  });
  server.once("listening", () => {
    const addr = server.address();
    const actual = typeof addr === "object" && addr ? addr.port : port;
    log.info("listening", { url: `http://${host}:${actual}`, hot: runtime.tiers.hot, durable: runtime.tiers.durable, auth: authOff ? "off" : "on" });
    console.log(`scenario-matrix-cache listening on http://${host}:${actual} (hot: ${runtime.tiers.hot}, durable: ${runtime.tiers.durable})`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal, inflight });
    server.close();
    if (inflight > 0) await new Promise<void>((r) => (drained = r));
    // generation still running uses the stores: drain the warm queue (bounded) before closing them
    const warm = await warming.close();
    log.info("warm queue stopped", warm);
    await runtime.close();
    log.info("stopped", { signal });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((e) => {
  console.error("failed to start:", e);
  process.exit(1);
});
