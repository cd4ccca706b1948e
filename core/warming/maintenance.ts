// Periodic upkeep of the durable tier and of the job table (the maintenance schedule).
// Each step runs even if an earlier one failed; the failures are thrown together at the end so the
// scheduled invocation errors (and alarms) without skipping the rest of the upkeep.
import type { DurableStore } from "../cache";
import { silentLog, systemClock, type Clock, type Log } from "../shared/log";
import type { WarmJobStore } from "./ports";
import type { WarmSettings } from "./settings";

/** The durable tier's upkeep methods and the job store's, with their cut-offs. */
export interface MaintenanceDeps {
  readonly durable: Pick<DurableStore, "evictToBudget" | "cleanup">;
  readonly jobs: Pick<WarmJobStore, "failStale" | "purgeFinished">;
  readonly settings: WarmSettings["maintenance"];
  readonly log?: Log;
  readonly clock?: Clock;
}

/** What each step did; null for a step that failed. */
export interface MaintenanceResult {
  readonly evicted: { rows: number; bytes: number } | null;
  readonly cleanedUp: { rows: number; bytes: number } | null;
  readonly staleJobsFailed: number | null;
  readonly jobsPurged: number | null;
  readonly durationMs: number;
}

/** One maintenance run: evict to budget, clean up dead rows, fail stale jobs, purge old jobs. */
export async function runMaintenance(deps: MaintenanceDeps): Promise<MaintenanceResult> {
  const log = deps.log ?? silentLog;
  const now = (deps.clock ?? systemClock)();
  const s = deps.settings;
  const started = performance.now();
  const errors: unknown[] = [];
  const step = async <T>(name: string, f: () => Promise<T>): Promise<T | null> => {
    try {
      return await f();
    } catch (e) {
      log.error(`maintenance step ${name} failed`, { error: e instanceof Error ? e.message : String(e) });
      errors.push(e);
      return null;
    }
  };

  const evicted = await step("evictToBudget", () => deps.durable.evictToBudget(s.durableMaxBytes));
  const cleanedUp = await step("cleanup", () => deps.durable.cleanup(new Date(now - s.durableCleanupAfterMs)));
  const staleJobsFailed = await step("failStale", () =>
    deps.jobs.failStale({ pendingBefore: new Date(now - s.stalePendingMs), processingBefore: new Date(now - s.staleProcessingMs) }),
  );
  const jobsPurged = await step("purgeFinished", () => deps.jobs.purgeFinished(new Date(now - s.jobRetentionMs)));
  const result = { evicted, cleanedUp, staleJobsFailed, jobsPurged, durationMs: performance.now() - started };
  log.info("maintenance done", { ...result, failedSteps: errors.length });
  if (errors.length > 0) throw new AggregateError(errors, `maintenance: ${errors.length} step(s) failed`);
  return result;
}
