// The generator's work on one queue record, free of any AWS type: parse → start job → get-or-generate →
// complete. A throw means "this record failed": the SQS wrapper (functions/shared/warming.ts) reports it
// in batchItemFailures and SQS redelivers it, up to maxReceiveCount, then moves it to the DLQ.
//
// Idempotency: duplicate or concurrent deliveries of one message, or messages of two jobs for one key,
// generate once, because `cache.get` is single-flight per key (an in-process map plus the durable lease).
import type { MatrixCache, Tier } from "../cache";
import { matrixKey } from "../scenario";
import { ValidationError } from "../shared/errors";
import { silentLog, type Log } from "../shared/log";
import { PoisonMessageError, WarmNotStoredError } from "./errors";
import { decodeWarmMessage, salvageJobId, type WarmPriority } from "./messages";
import type { WarmJobStore } from "./ports";

/** What the consumer needs of one SQS record. */
export interface WarmRecord {
  readonly messageId: string;
  readonly body: string;
  /** ApproximateReceiveCount: 1 on the first delivery */
  readonly receiveCount: number;
}

/** `retrying`: failed, SQS will redeliver; `failed`: failed on the last receive; `skipped`: nothing to do. */
export type WarmJobOutcome = "completed" | "retrying" | "failed" | "skipped";

/** One record's outcome, for metrics and logs. */
export interface WarmJobEvent {
  readonly outcome: WarmJobOutcome;
  readonly messageId: string;
  readonly jobId?: string;
  readonly matrixKey?: string;
  readonly fundId?: string;
  readonly priority?: WarmPriority;
  /** the tier that served get-or-generate (`generated` = this consumer generated it) */
  readonly tier?: Tier;
  readonly receiveCount: number;
  readonly durationMs: number;
  readonly generationMs?: number;
  readonly cells?: number;
  readonly error?: string;
  /** why a record was skipped without generating */
  readonly reason?: "already-complete" | "superseded";
}

/** The consumer's ports: the cache's get-or-generate and the job store's transitions. */
export interface WarmConsumerDeps {
  readonly cache: Pick<MatrixCache, "get">;
  readonly jobs: Pick<WarmJobStore, "start" | "complete" | "retry" | "fail">;
  /** the queues' maxReceiveCount: a failure on this receive is final (the message goes to the DLQ) */
  readonly maxReceiveCount: number;
  readonly log?: Log;
  onJob?(event: WarmJobEvent): void;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Builds the per-record function; it resolves on success and throws to fail the record. */
export function createWarmConsumer(deps: WarmConsumerDeps): (record: WarmRecord) => Promise<WarmJobEvent> {
  const log = deps.log ?? silentLog;
  const emit = (e: WarmJobEvent) => {
    deps.onJob?.(e);
    return e;
  };

  return async (record) => {
    const started = performance.now();
    const final = record.receiveCount >= deps.maxReceiveCount;
    const base = { messageId: record.messageId, receiveCount: record.receiveCount };

    let msg;
    try {
      msg = decodeWarmMessage(record.body);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      const jobId = salvageJobId(record.body);
      log.error("poison warm message", { ...base, jobId, final, error: e.message, details: e.details });
      // only on the last receive: earlier ones may still be followed by a fixed consumer (a deploy)
      if (final && jobId) await deps.jobs.fail([jobId], `invalid message: ${e.message}`);
      emit({ ...base, outcome: final ? "failed" : "retrying", jobId, durationMs: performance.now() - started, error: e.message });
      throw new PoisonMessageError(`invalid warm message: ${e.message}`, { messageId: record.messageId, jobId }, { cause: e });
    }

    const key = matrixKey(msg.config);
    const ids = { ...base, jobId: msg.jobId, matrixKey: key, fundId: msg.config.fundId, priority: msg.priority };
    if (key !== msg.matrixKey) {
      // e.g. a generator version bump between enqueue and consume: the config is the truth
      log.warn("message matrix key differs from its config's; warming the config's key", { ...ids, messageKey: msg.matrixKey });
    }

    const start = await deps.jobs.start(msg.jobId);
    if (start.kind === "already-complete" || start.kind === "superseded") {
      log.info("warm job needs no work", { ...ids, reason: start.kind });
      return emit({ ...ids, outcome: "skipped", reason: start.kind, durationMs: performance.now() - started });
    }
    if (start.kind === "missing") {
      // the row was purged or the message came from elsewhere: still worth warming, nothing to record
      log.warn("warm job row not found; warming without tracking", ids);
    }

    try {
      const lookup = await deps.cache.get(msg.config, { purpose: "warm" });
      if (!lookup.stored) throw new WarmNotStoredError(`matrix ${key} was served but not stored`, { jobId: msg.jobId, matrixKey: key });
      if (start.kind === "started") await deps.jobs.complete(msg.jobId);
      return emit({
        ...ids,
        outcome: "completed",
        tier: lookup.tier,
        durationMs: performance.now() - started,
        generationMs: lookup.timings.generationMs,
        cells: lookup.matrix.rows * lookup.matrix.cols,
      });
    } catch (e) {
      const error = messageOf(e);
      if (start.kind === "started") {
        // Not final: back to pending (still live, so its key stays deduplicated) while SQS redelivers.
        if (final) await deps.jobs.fail([msg.jobId], `${error} (receive ${record.receiveCount} of ${deps.maxReceiveCount})`);
        else await deps.jobs.retry(msg.jobId, error);
      }
      log.error("warm job failed", { ...ids, final, error });
      emit({ ...ids, outcome: final ? "failed" : "retrying", durationMs: performance.now() - started, error });
      throw e;
    }
  };
}
