// Wiring of warming shared by the Lambdas (warm, generator, scheduled-warm, maintenance) and the local
// server: the store and service over a runtime, and the handler factories. Side-effect free, so the
// local server and tests import it without building a Lambda context.
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { createDrizzleAuditStore } from "../../adapters/audit-drizzle";
import { createDrizzleWarmStore, type DrizzleWarmStore } from "../../adapters/jobs-drizzle";
import type { DurableStore } from "../../core/cache";
import type { Log } from "../../core/shared/log";
import type { MetricsSink } from "../../core/stats";
import {
  createWarmConsumer,
  createWarmService,
  runMaintenance,
  type MaintenanceResult,
  type WarmJobEvent,
  type WarmQueue,
  type WarmRecord,
  type WarmService,
  type WarmSettings,
} from "../../core/warming";
import type { Runtime } from "./runtime";

/** The part of the metrics sink warming reports to (functions/shared/metrics.ts provides the EMF one). */
export type WarmMetrics = Pick<MetricsSink, "warmJobs" | "flush">;

/** What `createWarming` builds. */
export interface WarmingParts {
  readonly store: DrizzleWarmStore;
  readonly service: WarmService;
}

/**
 * The store and the service over a runtime. `parallelism` and `sharedConsumers` describe who consumes the
 * queue, for the estimate: the SQS lanes' concurrency on AWS, the in-process pool locally.
 */
export function createWarming(deps: {
  readonly runtime: Pick<Runtime, "db" | "cache" | "log">;
  readonly settings: WarmSettings;
  readonly queue: WarmQueue;
  readonly store?: DrizzleWarmStore;
  readonly parallelism?: { readonly high: number; readonly low: number };
  readonly sharedConsumers?: boolean;
  readonly metrics?: WarmMetrics;
}): WarmingParts {
  const { runtime, settings, metrics } = deps;
  const store = deps.store ?? createDrizzleWarmStore(runtime.db.db);
  const service = createWarmService({
    cache: runtime.cache,
    jobs: store,
    profiles: store.profiles,
    signals: store.signals,
    queue: deps.queue,
    audit: createDrizzleAuditStore(runtime.db.db),
    log: runtime.log,
    estimate: {
      parallelism: deps.parallelism ?? settings.concurrency,
      sharedConsumers: deps.sharedConsumers ?? false,
      defaultCellsPerSecond: settings.defaults.cellsPerSecond,
      defaultPerJobOverheadMs: settings.defaults.perJobOverheadMs,
    },
    observer: {
      onEnqueued: (e) => {
        if (e.enqueued > 0) metrics?.warmJobs("enqueued", e.enqueued, { priority: e.priority });
        if (e.failed > 0) metrics?.warmJobs("failed", e.failed, { priority: e.priority, stage: "enqueue" });
      },
    },
  });
  return { store, service };
}

/**
 * The generator's per-record consumer. Only final failures count in WarmJobsFailed: a failure SQS will
 * retry is logged, and alarming on it would page for every transient blip.
 */
export function createGeneratorConsumer(deps: {
  readonly runtime: Pick<Runtime, "cache" | "log">;
  readonly store: Pick<DrizzleWarmStore, "start" | "complete" | "retry" | "fail">;
  readonly maxReceiveCount: number;
  readonly metrics?: WarmMetrics;
}): (record: WarmRecord) => Promise<WarmJobEvent> {
  return createWarmConsumer({
    cache: deps.runtime.cache,
    jobs: deps.store,
    maxReceiveCount: deps.maxReceiveCount,
    log: deps.runtime.log,
    onJob: (e) => {
      const props = { jobId: e.jobId, matrixKey: e.matrixKey, fundId: e.fundId, priority: e.priority, tier: e.tier, receiveCount: e.receiveCount, durationMs: e.durationMs };
      if (e.outcome === "completed") deps.metrics?.warmJobs("completed", 1, props);
      else if (e.outcome === "failed") deps.metrics?.warmJobs("failed", 1, { ...props, error: e.error?.slice(0, 200) });
    },
  });
}

const receiveCountOf = (r: SQSRecord) => {
  const n = Number(r.attributes?.ApproximateReceiveCount);
  return Number.isInteger(n) && n >= 1 ? n : 1;
};

/**
 * The SQS handler: each record through the consumer, failures reported in `batchItemFailures` so only they
 * return to the queue. A whole batch failing is also reported that way, not thrown: a thrown error would be
 * a Lambda error (the GeneratorErrors alarm) for what is a record-level outcome.
 */
export function createGeneratorHandler(deps: {
  readonly consumer: (record: WarmRecord) => Promise<unknown>;
  readonly log: Log;
  readonly metrics?: Pick<WarmMetrics, "flush">;
}): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const logger = { debug: (...a: unknown[]) => deps.log.debug(String(a[0])), warn: (...a: unknown[]) => deps.log.warn(String(a[0])), error: (...a: unknown[]) => deps.log.error(String(a[0])) };
  return async (event, context) => {
    // One processor per invocation: it holds the batch's state, and the in-process queue runs batches concurrently.
    const processor = new BatchProcessor(EventType.SQS, { logger });
    const recordHandler = (record: SQSRecord) => deps.consumer({ messageId: record.messageId, body: record.body, receiveCount: receiveCountOf(record) });
    try {
      return await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      deps.metrics?.flush();
    }
  };
}

/**
 * The scheduler's event. EventBridge rules send a ScheduledEvent; EventBridge Scheduler (SST CronV2) sends
 * the configured payload, `{}` by default. Both are accepted; `detail.budget` overrides the budget for a
 * manual run.
 */
export const ScheduledWarmEvent = z
  .looseObject({
    id: z.string().optional(),
    time: z.string().optional(),
    "detail-type": z.string().optional(),
    source: z.string().optional(),
    detail: z.looseObject({ budget: z.number().int().min(1).max(10_000).optional() }).optional(),
  })
  .catch({});

/** What a scheduled run logs and returns (visible in the Lambda's result and logs). */
export interface ScheduledWarmSummary {
  readonly eventId?: string;
  readonly budget: number;
  readonly scheduled: number;
  readonly profiles: number;
  readonly popular: number;
  readonly invalid: number;
  readonly alreadyCached: number;
  readonly alreadyQueued: number;
  readonly enqueueFailed: number;
  readonly overBudget: number;
  readonly estimatedDurationMs: number;
}

/** The scheduled-warm Lambda's handler: one budgeted run per event. */
export function createScheduledWarmHandler(deps: {
  readonly service: Pick<WarmService, "scheduled">;
  readonly settings: WarmSettings;
  readonly log: Log;
  readonly metrics?: Pick<WarmMetrics, "flush">;
}): (event: unknown) => Promise<ScheduledWarmSummary> {
  return async (event) => {
    const e = ScheduledWarmEvent.parse(event ?? {});
    const budget = e.detail?.budget ?? deps.settings.schedule.budget;
    try {
      const r = await deps.service.scheduled({ budget, lookbackMs: deps.settings.schedule.lookbackMs });
      const summary: ScheduledWarmSummary = {
        eventId: e.id,
        budget,
        scheduled: r.response.scheduled,
        profiles: r.profiles,
        popular: r.popular,
        invalid: r.invalid,
        alreadyCached: r.response.summary.alreadyCached,
        alreadyQueued: r.response.summary.alreadyQueued,
        enqueueFailed: r.response.summary.enqueueFailed,
        overBudget: r.response.summary.overBudget,
        estimatedDurationMs: r.response.estimated.totalDurationMs,
      };
      deps.log.info("scheduled warm run", { ...summary });
      return summary;
    } finally {
      deps.metrics?.flush();
    }
  };
}

/** The maintenance Lambda's handler (the event carries nothing it needs). */
export function createMaintenanceHandler(deps: {
  readonly durable: Pick<DurableStore, "evictToBudget" | "cleanup">;
  readonly store: Pick<DrizzleWarmStore, "failStale" | "purgeFinished">;
  readonly settings: WarmSettings;
  readonly log: Log;
}): (event: unknown) => Promise<MaintenanceResult> {
  return async () => runMaintenance({ durable: deps.durable, jobs: deps.store, settings: deps.settings.maintenance, log: deps.log });
}
