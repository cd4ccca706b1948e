// Ports owned by the warming module. adapters/jobs-drizzle.ts implements the stores and signals,
// adapters/queue-sqs.ts and adapters/queue-memory.ts the queue.
import type { ScenarioConfigWithMeta } from "../scenario";
import type { WarmJobStatus, WarmMessage, WarmPriority } from "./messages";

/** One warm job as stored. `config` is the ScenarioConfigWithMeta the job generates. */
export interface WarmJob {
  readonly id: string;
  readonly matrixKey: string;
  readonly fundId: string;
  readonly taxonomyVersion: string;
  readonly priority: WarmPriority;
  readonly status: WarmJobStatus;
  readonly config: unknown;
  /** receives the generator has started (SQS deliveries, including redeliveries) */
  readonly attempts: number;
  readonly requestedBy: string;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** start of the latest attempt */
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
}

/** A job about to be inserted; `matrixKey` is `matrixKey(config)`. */
export interface NewWarmJob {
  readonly matrixKey: string;
  readonly fundId: string;
  readonly taxonomyVersion: string;
  readonly priority: WarmPriority;
  readonly config: ScenarioConfigWithMeta;
  readonly requestedBy: string;
}

/** What `start` found: the consumer only generates for `started` (and `missing`, see consumer.ts). */
export type StartOutcome =
  | { readonly kind: "started"; readonly job: WarmJob }
  /** a redelivery of a finished job: acknowledge, nothing to do */
  | { readonly kind: "already-complete"; readonly job: WarmJob }
  /** a failed job whose key has since got another live job: that job does the work */
  | { readonly kind: "superseded"; readonly job: WarmJob }
  | { readonly kind: "missing" };

/** The `warm_jobs` table: live-job dedupe and the job lifecycle (adapters/jobs-drizzle.ts). */
export interface WarmJobStore {
  /**
   * Inserts pending jobs. A key that already has a live (pending/processing) job yields that job with
   * `created: false` instead: the database's partial unique index decides, never a read-then-insert.
   * Results are in input order; input keys must be distinct.
   */
  createLive(jobs: readonly NewWarmJob[]): Promise<{ job: WarmJob; created: boolean }[]>;
  /** Records requests that were already cached as `complete` jobs (pollable like any other). */
  recordComplete(jobs: readonly NewWarmJob[]): Promise<WarmJob[]>;
  get(id: string): Promise<WarmJob | null>;
  /** Newest first. */
  list(query: { status?: WarmJobStatus; priority?: WarmPriority; limit: number }): Promise<WarmJob[]>;
  /** Live jobs, oldest first (the local server re-enqueues them after a restart). */
  listLive(limit: number): Promise<WarmJob[]>;
  /** pending/processing (or failed, if its key has no other live job) → processing, attempts + 1. */
  start(id: string): Promise<StartOutcome>;
  /** Any unfinished status → complete. */
  complete(id: string): Promise<void>;
  /** processing → pending with the error: still live, SQS will redeliver the message. */
  retry(id: string, error: string): Promise<void>;
  /** Live → failed with the error (a complete job is never failed). */
  fail(ids: readonly string[], error: string): Promise<void>;
  /** Fails live jobs with no progress since the cut-offs (their message was lost or dead-lettered mid-run). */
  failStale(cutoffs: { pendingBefore: Date; processingBefore: Date }): Promise<number>;
  /** Deletes complete and failed jobs last updated before `before`. */
  purgeFinished(before: Date): Promise<number>;
}

/** A named config the schedule keeps warm. */
export interface WarmProfile {
  readonly id: string;
  readonly name: string;
  readonly fundId: string;
  readonly taxonomyVersion: string;
  readonly priority: WarmPriority;
  /** the stored ScenarioConfig (without fund and taxonomy, which are columns) */
  readonly config: unknown;
  readonly createdBy: string;
  readonly createdAt: Date;
}

/** The `warm_profiles` table. */
export interface WarmProfileStore {
  /** Oldest first (the order the scheduler warms them in). */
  list(): Promise<WarmProfile[]>;
  /** null when the name is taken. */
  create(profile: Omit<WarmProfile, "id" | "createdAt">): Promise<WarmProfile | null>;
  /** false when there was no such profile. */
  delete(id: string): Promise<boolean>;
}

/** Measured generation speed: the inputs of the completion estimate. */
export interface Throughput {
  /** cells per second of generation proper, from recent durable rows; null before any was measured */
  readonly cellsPerSecond: number | null;
  readonly generationSamples: number;
  /** mean wall time of a warm job beyond its generation (stores, queue hand-off); null before any job ran */
  readonly perJobOverheadMs: number | null;
  readonly jobSamples: number;
}

/** Live jobs of one priority lane and their total cells (numScenarios × buckets). */
export interface LaneBacklog {
  readonly jobs: number;
  readonly cells: number;
}

/** A durable row that was served recently and is no longer cached (scheduled warming, part b). */
export interface RecentlyRequested {
  readonly matrixKey: string;
  readonly config: unknown;
  readonly lastHitAt: Date;
}

/** Read-only SQL aggregates the warming module needs from the job and matrix tables. */
export interface WarmSignals {
  throughput(sampleSize: number): Promise<Throughput>;
  /** Live jobs and their cells, per priority lane. */
  backlog(): Promise<Record<WarmPriority, LaneBacklog>>;
  recentlyRequestedUncached(query: { since: Date; limit: number }): Promise<RecentlyRequested[]>;
}

/** Hands messages to the consumers; a message it could not hand over is reported, never dropped silently. */
export interface WarmQueue {
  send(messages: readonly WarmMessage[]): Promise<{ failed: { jobId: string; error: string }[] }>;
}

/** A message that exhausted its receives. */
export interface DeadLetter {
  readonly messageId?: string;
  readonly jobId?: string;
  readonly matrixKey?: string;
  readonly priority?: WarmPriority;
  readonly receiveCount: number;
  readonly error: string;
  readonly deadLetteredAt: string; // ISO-8601
}

/** Where `GET /api/cache/warm/dead-letters` reads from (the in-process queue, or failed jobs on AWS). */
export interface DeadLetterSource {
  readonly kind: "in-process-queue" | "failed-jobs";
  list(limit: number): Promise<DeadLetter[]>;
}
