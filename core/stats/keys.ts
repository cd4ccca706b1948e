// Where statistics live in the hot store: hourly buckets (UTC) kept 8 days, plus all-time totals for
// Prometheus counters (which must never go down when an old bucket expires). Key and field names are
// built here only, so the recorder that writes them and the readers that parse them cannot drift apart.
import type { Purpose, Tier } from "../cache";

/** Tiers whose own time a lookup measures (`generation` is the generator's run, not a storage tier). */
export const TIMED_TIERS = ["redis", "postgres", "generation"] as const;
export type TimedTier = (typeof TIMED_TIERS)[number];
/** Tiers that can answer a lookup. */
export const SERVED_TIERS = ["redis", "postgres", "generated"] as const satisfies readonly Tier[];
export const PURPOSES = ["request", "warm"] as const satisfies readonly Purpose[];
export const FAULT_TIERS = ["redis", "postgres"] as const;
export type FaultTier = (typeof FAULT_TIERS)[number];

export const HOUR_MS = 3_600_000;
/** 8 days: a week of full hours plus a day of slack, so a 7-day window never reads an expired bucket. */
export const STATS_TTL_SEC = 8 * 24 * 3600;
/** Hour buckets in the longest window (7 days). */
export const HOURS_KEPT = 168;
/** Entries of each hour's slow log. */
export const SLOW_LOG_KEEP = 10;

/** Counter keys (the hot store puts them under its own prefix and counter namespace). */
export const STATS_KEY = {
  /** client requests, hits and misses of one hour only: the 7-day activity reads 168 of these, so they stay tiny */
  activity: (hour: string) => `stats:a:${hour}`,
  /** counters of one hour: requests, hits, tiers, latency sums, bytes, faults */
  counters: (hour: string) => `stats:h:${hour}`,
  /** latency histograms of one hour, apart from the counters so a 7-day activity read stays small */
  histograms: (hour: string) => `stats:l:${hour}`,
  /** the hour's slowest client requests (a sorted set keeping SLOW_LOG_KEEP) */
  slowLog: (hour: string) => `stats:s:${hour}`,
  /** all-time counters and histograms, never expiring (Prometheus counters) */
  total: "stats:total",
} as const;

/** Hash fields. Latencies are integer microseconds: HINCRBY stays exact where float sums would drift. */
export const STATS_FIELD = {
  requests: (p: Purpose) => `req:${p}`,
  hits: (p: Purpose) => `hit:${p}`,
  misses: (p: Purpose) => `miss:${p}`,
  servedBy: (p: Purpose, t: Tier) => `tier:${p}:${t}`,
  bytes: (p: Purpose) => `bytes:${p}`,
  /** generation time hits avoided (the stored generationMs of what they served) */
  savedUs: (p: Purpose) => `saved_us:${p}`,
  /** time spent generating for this purpose */
  generationUs: (p: Purpose) => `gen_us:${p}`,
  /** client requests: time spent in each tier they touched */
  tierTimeUs: (t: TimedTier) => `time_us:${t}`,
  /** client requests: end-to-end latency by the tier that answered */
  servedLatencyUs: (t: Tier) => `lat_us:${t}`,
  faults: (t: FaultTier) => `fault:${t}`,
  faultsByOp: (t: FaultTier, op: string) => `fault:${t}:${op}`,
  tierHistogram: (t: TimedTier, bucket: number) => `t:${t}:${bucket}`,
  servedHistogram: (t: Tier, bucket: number) => `s:${t}:${bucket}`,
} as const;

/** Start (ms) of the UTC hour containing `ms`. */
export const hourStart = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** `yyyymmddhh` (UTC) of the hour containing `ms`. */
export function hourId(ms: number): string {
  return new Date(hourStart(ms)).toISOString().slice(0, 13).replace(/[-T]/g, "");
}

/** Starts of the `n` most recent hours up to and including the current one, oldest first. */
export function recentHours(now: number, n: number): number[] {
  const current = hourStart(now);
  return Array.from({ length: n }, (_, i) => current - (n - 1 - i) * HOUR_MS);
}

/** Fault operations become field names: keep them short and to a safe alphabet. */
export function safeOp(op: string): string {
  return op.replace(/[^a-z0-9_-]/gi, "_").slice(0, 40) || "unknown";
}
