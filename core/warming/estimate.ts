// Completion estimate of a warm request from measured generation speed and the consumers' concurrency.
//   cost(job) = perJobOverheadMs + cells / cellsPerMs;   lane duration = Σ cost over the lane's live jobs / parallelism
// Live jobs ahead of the new ones are included: a queue is worked roughly in order.
import type { WarmPriority } from "./messages";
import type { LaneBacklog, Throughput } from "./ports";
import type { Estimate } from "./requests";

/**
 * Used only until something has been measured, and deliberately pessimistic: the generator does about
 * 15 M cells/s on one 2024 laptop core; 1 M cells/s leaves room for a small Lambda and cold caches.
 */
export const DEFAULT_CELLS_PER_SECOND = 1_000_000;
/** Likewise the fallback for a job's cost beyond generation (PostgreSQL and Redis writes, queue hand-off). */
export const DEFAULT_PER_JOB_OVERHEAD_MS = 50;

/** Who consumes the queues, and the fallbacks used before anything is measured. */
export interface EstimateSettings {
  /**
   * consumers per lane: the SQS event source's maximumConcurrency on AWS; locally the in-process queue's
   * worker count, the same figure for both lanes
   */
  readonly parallelism: Readonly<Record<WarmPriority, number>>;
  /**
   * true when one consumer pool serves both lanes, high first (the in-process queue): low-lane jobs then
   * also wait for the high backlog. On AWS each lane has its own consumers.
   */
  readonly sharedConsumers: boolean;
  readonly defaultCellsPerSecond: number;
  readonly defaultPerJobOverheadMs: number;
}

/** Estimate for the lanes that have live jobs in a response; 0 when nothing is left to do. */
export function estimateCompletion(input: {
  readonly lanes: readonly WarmPriority[];
  readonly backlog: Record<WarmPriority, LaneBacklog>;
  readonly throughput: Throughput;
  readonly settings: EstimateSettings;
  readonly now: number;
}): Estimate {
  const { throughput: t, settings: s } = input;
  const cellsPerSecond = t.cellsPerSecond ?? s.defaultCellsPerSecond;
  const perJobOverheadMs = t.perJobOverheadMs ?? s.defaultPerJobOverheadMs;
  const basis = t.cellsPerSecond === null ? "default" : t.perJobOverheadMs === null ? "partly-measured" : "measured";

  const laneMs = (lane: WarmPriority): { ms: number; jobs: number } => {
    const parts = s.sharedConsumers && lane === "low" ? [input.backlog.high, input.backlog.low] : [input.backlog[lane]];
    const jobs = parts.reduce((n, b) => n + b.jobs, 0);
    const cells = parts.reduce((n, b) => n + b.cells, 0);
    const parallelism = Math.max(1, s.parallelism[lane]);
    return { ms: (jobs * perJobOverheadMs + (cells / cellsPerSecond) * 1000) / parallelism, jobs };
  };

  let totalDurationMs = 0;
  let backlogJobs = 0;
  for (const lane of new Set(input.lanes)) {
    const l = laneMs(lane);
    totalDurationMs = Math.max(totalDurationMs, l.ms);
    backlogJobs = Math.max(backlogJobs, l.jobs);
  }
  totalDurationMs = Math.ceil(totalDurationMs);
  return {
    totalDurationMs,
    completionTime: new Date(input.now + totalDurationMs).toISOString(),
    basis,
    cellsPerSecond: Math.round(cellsPerSecond),
    perJobOverheadMs: Math.round(perJobOverheadMs * 10) / 10,
    parallelism: { high: s.parallelism.high, low: s.parallelism.low },
    backlogJobs,
    generationSamples: t.generationSamples,
    jobSamples: t.jobSamples,
  };
}
