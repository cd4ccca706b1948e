// Every stage-level knob of the infrastructure, in one place. Pure data and functions: no `sst`/`aws`
// globals, so the values can be checked by unit tests and read by docs/DEPLOY.md without a deploy.

/** The app name `sst.config.ts` declares; resource names and the dashboard derive from it. */
export const APP_NAME = "scenario-matrix-cache";

/** CloudWatch namespace of the app's EMF metrics (the functions get it as `METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = "ScenarioMatrixCache";

/**
 * `POWERTOOLS_SERVICE_NAME` of every function. It is one value for the whole app on purpose: it becomes the
 * `Service` dimension, and alarms match exact dimension sets, so a per-function value would split each metric.
 */
export const SERVICE_NAME = "scenario-matrix-cache";

/** Log retentions SST accepts (a subset of its `RETENTION` keys). */
export type LogRetention = "1 week" | "2 weeks" | "1 month" | "3 months" | "6 months" | "1 year";

/** One priority lane: a warm queue and the generator function that drains it. */
export interface LaneSettings {
  /** SQS records per invocation; generation is CPU-bound, so small batches keep the p99 of a batch low. */
  readonly batchSize: number;
  /** How long the poller may wait to fill a batch (0 = invoke as soon as a record arrives). */
  readonly batchWindowSeconds: number;
  /** `scalingConfig.maximumConcurrency` of the event source mapping (2..1000): the lane's priority. */
  readonly maximumConcurrency: number;
  /**
   * Reserved concurrency of the lane's function: guarantees the lane its share of the account pool and caps it.
   * Left unset on stages whose account may have a low concurrency quota (AWS keeps 100 unreserved).
   */
  readonly reservedConcurrency?: number;
  /** Alarm when the oldest message of this lane's queue is older than this. */
  readonly oldestMessageAlarmSeconds: number;
}

export interface StageSettings {
  readonly runtime: "nodejs22.x" | "nodejs24.x";
  /** arm64 (Graviton) costs about 20% less per GB-second; every dependency is plain JavaScript. */
  readonly architecture: "arm64" | "x86_64";
  readonly logRetention: LogRetention;
  readonly api: {
    /** HTTP API integrations time out at 30 s; the function must give up first. */
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
    /** `simulate` may generate a matrix inline on a miss. */
    readonly simulateMemoryMb: number;
    /** Stage-wide default route throttling (requests per second and burst). */
    readonly throttle: { readonly rate: number; readonly burst: number };
  };
  readonly generator: {
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
    readonly high: LaneSettings;
    readonly low: LaneSettings;
  };
  readonly queues: {
    /** Receives before a message moves to its DLQ (the `retry` of SST's `dlq`). */
    readonly maxReceiveCount: number;
    /** DLQs keep messages for SQS's maximum, 14 days: a DLQ message's age counts from its first enqueue. */
    readonly dlqRetentionSeconds: number;
  };
  readonly schedules: {
    /** EventBridge Scheduler expression for re-warming profiles and popular configs (low priority). */
    readonly scheduledWarm: `rate(${string})` | `cron(${string})`;
    readonly scheduledWarmTimeoutSeconds: number;
    /** Expression for durable-tier eviction to budget and cleanup. */
    readonly maintenance: `rate(${string})` | `cron(${string})`;
    readonly maintenanceTimeoutSeconds: number;
  };
  readonly alarms: {
    /** Period of every alarm and dashboard graph. */
    readonly periodSeconds: number;
    /** Consecutive breaching periods before an alarm fires (DLQ alarms fire on the first). */
    readonly evaluationPeriods: number;
    /** Alarm when the hit rate (CacheHit / Requests, in percent) is below this … */
    readonly hitRateMinPercent: number;
    /** … but only in periods with at least this many requests (a quiet stage is not an incident). */
    readonly hitRateMinRequests: number;
    /** Alarm when the p99 of `Latency` for a tier is above this. */
    readonly p99LatencyMaxMs: { readonly redis: number; readonly postgres: number; readonly generated: number };
    /** Alarm when a generator function reports more errors than this in a period. */
    readonly generatorErrorsMax: number;
    /** Alarm when more warm jobs than this fail in a period (record failures are not Lambda errors). */
    readonly warmJobsFailedMax: number;
    /** Optional address subscribed to the alarm topic (confirm the subscription e-mail once). */
    readonly email?: string;
  };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** What every stage gets unless it is overridden below. Sized for a personal or CI stage. */
export const DEFAULT_SETTINGS: StageSettings = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  logRetention: "2 weeks",
  api: { timeoutSeconds: 29, memoryMb: 1024, simulateMemoryMb: 2048, throttle: { rate: 50, burst: 100 } },
  generator: {
    timeoutSeconds: 120,
    memoryMb: 2048,
    high: { batchSize: 1, batchWindowSeconds: 0, maximumConcurrency: 5, oldestMessageAlarmSeconds: 300 },
    low: { batchSize: 5, batchWindowSeconds: 10, maximumConcurrency: 2, oldestMessageAlarmSeconds: 3600 },
  },
  queues: { maxReceiveCount: 5, dlqRetentionSeconds: 14 * 24 * 3600 },
  schedules: {
    scheduledWarm: "rate(6 hours)",
    scheduledWarmTimeoutSeconds: 120,
    maintenance: "rate(1 hour)",
    maintenanceTimeoutSeconds: 300,
  },
  alarms: {
    periodSeconds: 300,
    evaluationPeriods: 3,
    hitRateMinPercent: 70,
    hitRateMinRequests: 20,
    p99LatencyMaxMs: { redis: 100, postgres: 750, generated: 30_000 },
    generatorErrorsMax: 0,
    warmJobsFailedMax: 0,
  },
};

/** Per-stage differences from the defaults; stages not listed (personal, ci, pr-*) use the defaults. */
export const STAGE_OVERRIDES: Readonly<Record<string, DeepPartial<StageSettings>>> = {
  production: {
    logRetention: "3 months",
    api: { throttle: { rate: 500, burst: 1000 } },
    generator: {
      high: { maximumConcurrency: 20, reservedConcurrency: 20 },
      low: { maximumConcurrency: 5, reservedConcurrency: 5 },
    },
    schedules: { scheduledWarm: "rate(1 hour)" },
    alarms: { hitRateMinPercent: 85, p99LatencyMaxMs: { redis: 50, postgres: 500, generated: 20_000 } },
  },
  staging: {
    generator: { high: { maximumConcurrency: 10 }, low: { maximumConcurrency: 3 } },
  },
};

/** Raised when a stage's settings are inconsistent; names the setting. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  constructor(
    readonly stage: string,
    readonly setting: string,
    message: string,
  ) {
    super(`settings for stage "${stage}": ${setting}: ${message}`);
  }
}

/** The settings of `stage` (defaults merged with its overrides), validated. */
export function settingsFor(stage: string): StageSettings {
  const merged = merge(DEFAULT_SETTINGS, STAGE_OVERRIDES[stage] ?? {});
  validateSettings(stage, merged);
  return merged;
}

/**
 * SQS visibility timeout of a warm queue: AWS advises at least six times the consumer's timeout (plus the
 * batching window), so a record is not redelivered while throttled retries of its batch are still running.
 */
export function visibilityTimeoutSeconds(s: StageSettings, lane: "high" | "low"): number {
  return 6 * s.generator.timeoutSeconds + s.generator[lane].batchWindowSeconds;
}

/** Throws a `SettingsError` naming the first setting that AWS would reject or that defeats its purpose. */
export function validateSettings(stage: string, s: StageSettings): void {
  const fail = (setting: string, message: string): never => {
    throw new SettingsError(stage, setting, message);
  };
  if (s.api.timeoutSeconds < 1 || s.api.timeoutSeconds > 29) fail("api.timeoutSeconds", "must be 1..29 (HTTP API limit is 30 s)");
  if (s.generator.timeoutSeconds < 1 || s.generator.timeoutSeconds > 900) fail("generator.timeoutSeconds", "must be 1..900");
  for (const lane of ["high", "low"] as const) {
    const l = s.generator[lane];
    const at = `generator.${lane}`;
    if (l.maximumConcurrency < 2 || l.maximumConcurrency > 1000) fail(`${at}.maximumConcurrency`, "must be 2..1000 (SQS event source limit)");
    if (l.reservedConcurrency !== undefined && l.reservedConcurrency < l.maximumConcurrency) {
      // A lower reservation throttles the poller's invocations, and throttled records burn receive counts.
      fail(`${at}.reservedConcurrency`, "must be at least maximumConcurrency");
    }
    if (l.batchSize < 1 || l.batchSize > 10) fail(`${at}.batchSize`, "must be 1..10");
    if (l.batchWindowSeconds < 0 || l.batchWindowSeconds > 300) fail(`${at}.batchWindowSeconds`, "must be 0..300");
    if (visibilityTimeoutSeconds(s, lane) > 43_200) fail("generator.timeoutSeconds", "visibility timeout would exceed 12 hours");
  }
  if (s.generator.high.maximumConcurrency <= s.generator.low.maximumConcurrency) {
    fail("generator.high.maximumConcurrency", "the high lane must get more concurrency than the low lane");
  }
  if (s.queues.maxReceiveCount < 1 || s.queues.maxReceiveCount > 1000) fail("queues.maxReceiveCount", "must be 1..1000");
  if (s.queues.dlqRetentionSeconds < 60 || s.queues.dlqRetentionSeconds > 1_209_600) fail("queues.dlqRetentionSeconds", "must be 60..1209600");
  if (s.alarms.hitRateMinPercent < 0 || s.alarms.hitRateMinPercent > 100) fail("alarms.hitRateMinPercent", "must be 0..100");
  if (s.alarms.periodSeconds < 60 || s.alarms.periodSeconds % 60 !== 0) fail("alarms.periodSeconds", "must be a multiple of 60");
  if (s.alarms.evaluationPeriods < 1) fail("alarms.evaluationPeriods", "must be at least 1");
}

function merge<T>(base: T, patch: DeepPartial<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] =
      isPlainObject(value) && isPlainObject(current) ? merge(current, value as DeepPartial<typeof current>) : value;
  }
  return out as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
