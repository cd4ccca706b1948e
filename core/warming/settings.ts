// Settings of warming, the generator and maintenance, parsed from an environment record (functions/ passes
// process.env). Defaults match stacks/settings.ts DEFAULT_SETTINGS, so an unset variable means the same
// thing in the code as in the infrastructure.
import { z } from "zod";
import { DEFAULT_CELLS_PER_SECOND, DEFAULT_PER_JOB_OVERHEAD_MS } from "./estimate";

const int = (def: number, min = 1, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const flag = z
  .enum(["true", "false", "1", "0", ""])
  .default("false")
  .transform((v) => v === "true" || v === "1");

const HOUR = 3600_000;

const Env = z.object({
  /** consumers of each lane on AWS (the event source's maximumConcurrency): the estimate's parallelism */
  WARM_HIGH_CONCURRENCY: int(5),
  WARM_LOW_CONCURRENCY: int(2),
  /** the queues' maxReceiveCount (stacks: queues.maxReceiveCount) */
  WARM_MAX_RECEIVE_COUNT: int(5, 1, 1000),
  /** SendMessageBatch calls in flight at once when enqueuing */
  WARM_SEND_CONCURRENCY: int(4, 1, 64),
  /** new jobs per scheduled run */
  WARM_SCHEDULE_BUDGET: int(200, 1, 10_000),
  WARM_SCHEDULE_LOOKBACK_DAYS: int(7, 1, 90),
  /** in-process queue (local server): workers, records per event, first retry delay */
  WARM_LOCAL_CONCURRENCY: int(2, 1, 64),
  WARM_LOCAL_BATCH_SIZE: int(1, 1, 10),
  WARM_LOCAL_RETRY_BASE_MS: int(200, 0),
  /** how long SIGTERM waits for the in-process queue to empty before stopping it */
  WARM_DRAIN_TIMEOUT_MS: int(10_000, 0),
  /** warm the registered profiles when the local server starts */
  PREWARM_ON_START: flag,
  /** fallbacks of the estimate until something is measured */
  WARM_DEFAULT_CELLS_PER_SECOND: int(DEFAULT_CELLS_PER_SECOND),
  WARM_DEFAULT_JOB_OVERHEAD_MS: int(DEFAULT_PER_JOB_OVERHEAD_MS, 0),
  /** maintenance: a pending job untouched this long lost its message; a processing one its consumer */
  WARM_STALE_PENDING_HOURS: int(24),
  WARM_STALE_PROCESSING_MINUTES: int(30),
  WARM_JOB_RETENTION_DAYS: int(30),
  /** maintenance: durable tier byte budget (complete rows, least recently hit evicted first) */
  DURABLE_MAX_BYTES: int(10 * 1024 ** 3, 0),
  /** maintenance: invalidated and failed matrix rows are deleted after this */
  DURABLE_CLEANUP_AFTER_HOURS: int(24, 0),
});

/** Parsed settings; durations in milliseconds. */
export interface WarmSettings {
  readonly concurrency: { readonly high: number; readonly low: number };
  readonly maxReceiveCount: number;
  readonly sendConcurrency: number;
  readonly schedule: { readonly budget: number; readonly lookbackMs: number };
  readonly local: { readonly concurrency: number; readonly batchSize: number; readonly retryBaseMs: number; readonly drainTimeoutMs: number; readonly prewarmOnStart: boolean };
  readonly defaults: { readonly cellsPerSecond: number; readonly perJobOverheadMs: number };
  readonly maintenance: {
    readonly stalePendingMs: number;
    readonly staleProcessingMs: number;
    readonly jobRetentionMs: number;
    readonly durableMaxBytes: number;
    readonly durableCleanupAfterMs: number;
  };
}

/** Thrown with the variable named (values are not secrets here, but the message stays short). */
export class WarmSettingsError extends Error {
  override readonly name = "WarmSettingsError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** Parses the WARM_* / PREWARM_ON_START / DURABLE_* variables, naming the first bad one. */
export function loadWarmSettings(env: Readonly<Record<string, string | undefined>>): WarmSettings {
  // empty strings mean "unset", as in functions/shared/config.ts
  const present = Object.fromEntries(Object.keys(Env.shape).map((k) => [k, env[k]?.trim() ? env[k]!.trim() : undefined]));
  const r = Env.safeParse(present);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new WarmSettingsError(String(issue.path[0] ?? "env"), issue.message);
  }
  const e = r.data;
  return {
    concurrency: { high: e.WARM_HIGH_CONCURRENCY, low: e.WARM_LOW_CONCURRENCY },
    maxReceiveCount: e.WARM_MAX_RECEIVE_COUNT,
    sendConcurrency: e.WARM_SEND_CONCURRENCY,
    schedule: { budget: e.WARM_SCHEDULE_BUDGET, lookbackMs: e.WARM_SCHEDULE_LOOKBACK_DAYS * 24 * HOUR },
    local: {
      concurrency: e.WARM_LOCAL_CONCURRENCY,
      batchSize: e.WARM_LOCAL_BATCH_SIZE,
      retryBaseMs: e.WARM_LOCAL_RETRY_BASE_MS,
      drainTimeoutMs: e.WARM_DRAIN_TIMEOUT_MS,
      prewarmOnStart: e.PREWARM_ON_START,
    },
    defaults: { cellsPerSecond: e.WARM_DEFAULT_CELLS_PER_SECOND, perJobOverheadMs: e.WARM_DEFAULT_JOB_OVERHEAD_MS },
    maintenance: {
      stalePendingMs: e.WARM_STALE_PENDING_HOURS * HOUR,
      staleProcessingMs: e.WARM_STALE_PROCESSING_MINUTES * 60_000,
      jobRetentionMs: e.WARM_JOB_RETENTION_DAYS * 24 * HOUR,
      durableMaxBytes: e.DURABLE_MAX_BYTES,
      durableCleanupAfterMs: e.DURABLE_CLEANUP_AFTER_HOURS * HOUR,
    },
  };
}
