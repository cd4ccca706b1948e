// Warming in the local server: the in-process queue driving the same generator handler the Lambda runs,
// the warm service over it, and the start/stop steps (recover live jobs, optional pre-warm, drain).
import { createMemoryWarmQueue, type MemoryWarmQueue } from "../../adapters/queue-memory";
import { loadWarmSettings, type WarmService, type WarmSettings } from "../../core/warming";
import type { DrizzleWarmStore } from "../../adapters/jobs-drizzle";
import { createDrizzleWarmStore } from "../../adapters/jobs-drizzle";
import type { Runtime } from "../shared/runtime";
import { createGeneratorConsumer, createGeneratorHandler, createWarming } from "../shared/warming";

/** Warming as the local server runs it. */
export interface LocalWarming {
  readonly settings: WarmSettings;
  readonly store: DrizzleWarmStore;
  readonly service: WarmService;
  readonly queue: MemoryWarmQueue;
  /** Re-enqueues jobs a previous process left live, then pre-warms profiles if PREWARM_ON_START is set. */
  start(): Promise<{ recovered: number; prewarmed: number | null }>;
  /** Waits up to `drainTimeoutMs` for queued work, then stops the queue (left-overs stay live in the DB). */
  close(drainTimeoutMs?: number): Promise<{ drained: boolean; dropped: number }>;
}

/** Builds the in-process queue, the generator handler behind it and the service; starts nothing. */
export function createLocalWarming(runtime: Runtime, settings: WarmSettings = loadWarmSettings(process.env)): LocalWarming {
  const store = createDrizzleWarmStore(runtime.db.db);
  const consumer = createGeneratorConsumer({ runtime, store, maxReceiveCount: settings.maxReceiveCount });
  const queue = createMemoryWarmQueue({
    consume: createGeneratorHandler({ consumer, log: runtime.log }),
    concurrency: settings.local.concurrency,
    batchSize: settings.local.batchSize,
    maxReceiveCount: settings.maxReceiveCount,
    retryBaseMs: settings.local.retryBaseMs,
    log: runtime.log,
  });
  // one pool serves both lanes here (high first), so the estimate uses the pool's size for both
  const parallelism = { high: settings.local.concurrency, low: settings.local.concurrency };
  const { service } = createWarming({ runtime, settings, queue, store, parallelism, sharedConsumers: true });

  return {
    settings,
    store,
    service,
    queue,
    async start() {
      const { resent } = await service.recover();
      if (resent > 0) runtime.log.info("re-enqueued live warm jobs left by a previous process", { resent });
      let prewarmed: number | null = null;
      if (settings.local.prewarmOnStart) {
        const r = await service.prewarmProfiles();
        prewarmed = r.scheduled;
        runtime.log.info("pre-warming profiles on start", r);
      }
      return { recovered: resent, prewarmed };
    },
    async close(drainTimeoutMs = settings.local.drainTimeoutMs) {
      const drained = await queue.drain(drainTimeoutMs);
      const { dropped } = await queue.stop();
      if (dropped > 0) runtime.log.warn("stopped the warm queue with messages left; their jobs stay live and are re-enqueued on the next start", { dropped });
      return { drained, dropped };
    },
  };
}
