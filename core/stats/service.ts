// GET /api/cache/stats as a core service: the last 168 hour buckets (and the window's histograms) in one
// `readHashes` round trip, the window's slow logs, and exact storage from both tiers — all concurrently.
//
// Windows are rolling at hour granularity: "24h" is the 24 most recent hour buckets including the current,
// partial one, i.e. it always covers the last 23 hours and never anything older than 24 hours (an event
// leaves the window at most one hour early, never late). "7d" is 168 buckets, likewise.
//
// Faults: each part is read on its own. A part that cannot be read (hot-store counters, hot storage,
// durable storage) is reported as null with an entry in `errors` and the answer is still 200; when nothing
// at all can be read the service throws UnavailableError (503).
import type { DurableStore, HotStore } from "../cache";
import { UnavailableError } from "../shared/errors";
import { silentLog, systemClock, type Clock, type Log } from "../shared/log";
import { aggregate, type Aggregate } from "./aggregate";
import { histogramCount, mergeHistogram, percentileMs, RELATIVE_ERROR_BOUND, type Histogram } from "./histogram";
import { HOURS_KEPT, hourId, recentHours, SLOW_LOG_KEEP, STATS_KEY } from "./keys";
import { parseSlowMember } from "./recorder";
import type { StatsErrorEntry, StatsResponse, StatsWindow } from "./schemas";

export interface StatsServiceDeps {
  readonly hot: HotStore;
  readonly durable: DurableStore;
  readonly clock?: Clock;
  /** a tier that has not answered after this long counts as unreadable (default 2 s) */
  readonly timeoutMs?: number;
  readonly log?: Log;
}

export interface StorageFigures {
  readonly entriesCount: number;
  readonly totalSizeBytes: number;
}

/** All-time figures for Prometheus; a part that could not be read is an Error. */
export interface ServiceTotals {
  readonly counters: Aggregate | Error;
  readonly storage: { readonly redis: StorageFigures | Error; readonly postgres: StorageFigures | Error };
}

export interface StatsService {
  read(query?: { window?: StatsWindow; fundId?: string }): Promise<StatsResponse>;
  totals(): Promise<ServiceTotals>;
}

const WINDOW_HOURS: Record<StatsWindow, number> = { "24h": 24, "7d": 168 };

/** Rounds to the microsecond: the recorder's resolution. */
const roundMs = (x: number) => Math.round(x * 1000) / 1000;
const orNull = (x: number | null) => (x === null ? null : roundMs(x));

class TierTimeoutError extends Error {
  override readonly name = "TierTimeoutError";
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TierTimeoutError(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Driver messages go to authenticated readers: enough to tell what failed, bounded in length. */
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 200);
const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

function storageBlock(s: StorageFigures) {
  return {
    entriesCount: s.entriesCount,
    totalSizeBytes: s.totalSizeBytes,
    avgEntrySizeBytes: s.entriesCount > 0 ? roundMs(s.totalSizeBytes / s.entriesCount) : null,
  };
}

function percentiles(h: Histogram, sumUs: number) {
  const n = histogramCount(h);
  return {
    count: n,
    avgMs: n > 0 ? roundMs(sumUs / 1000 / n) : null,
    p50LatencyMs: orNull(percentileMs(h, 50)),
    p95LatencyMs: orNull(percentileMs(h, 95)),
    p99LatencyMs: orNull(percentileMs(h, 99)),
  };
}

const activity = (a: Aggregate) => ({
  requests: a.purposes.request.requests,
  hits: a.purposes.request.hits,
  misses: a.purposes.request.misses,
});

export function createStatsService(deps: StatsServiceDeps): StatsService {
  const { hot, durable } = deps;
  const clock = deps.clock ?? systemClock;
  const timeoutMs = deps.timeoutMs ?? 2000;
  const log = deps.log ?? silentLog;

  async function readCounters(now: number, windowHours: number) {
    const week = recentHours(now, HOURS_KEPT).map(hourId);
    const window = week.slice(-windowHours);
    // One round trip: the week's tiny activity hashes, and the window's counters and histograms.
    const keys = [...week.map(STATS_KEY.activity), ...window.map(STATS_KEY.counters), ...window.map(STATS_KEY.histograms)];
    const [hashes, tops] = await Promise.all([
      hot.readHashes(keys),
      // one small read per hour of the window; drivers that pipeline (ioredis) send them together
      Promise.all(window.map((h) => hot.readTop(STATS_KEY.slowLog(h), SLOW_LOG_KEEP))),
    ]);
    const activityHashes = hashes.slice(0, week.length);
    return {
      window: aggregate(hashes.slice(week.length)),
      last24Hours: aggregate(activityHashes.slice(-24)),
      last7Days: aggregate(activityHashes),
      slowest: tops
        .flat()
        .map((t) => ({ ...t, parsed: parseSlowMember(t.member) }))
        .filter((t) => t.parsed !== null)
        .sort((a, b) => b.score - a.score)
        .slice(0, SLOW_LOG_KEEP)
        .map((t) => ({
          matrixKey: t.parsed!.matrixKey,
          latencyMs: roundMs(t.score),
          timestamp: new Date(t.parsed!.at).toISOString(),
        })),
    };
  }

  async function read(query: { window?: StatsWindow; fundId?: string } = {}): Promise<StatsResponse> {
    const windowName = query.window ?? "24h";
    const hours = WINDOW_HOURS[windowName];
    const now = clock();
    const [counters, hotStorage, durableStorage] = await Promise.allSettled([
      withTimeout(readCounters(now, hours), timeoutMs, "hot-tier statistics"),
      withTimeout(hot.storage(query.fundId), timeoutMs, "hot-tier storage"),
      withTimeout(durable.storage(query.fundId), timeoutMs, "durable-tier storage"),
    ]);

    const errors: StatsErrorEntry[] = [];
    if (counters.status === "rejected") errors.push({ tier: "redis", part: "counters", message: message(counters.reason) });
    if (hotStorage.status === "rejected") errors.push({ tier: "redis", part: "storage", message: message(hotStorage.reason) });
    if (durableStorage.status === "rejected") {
      errors.push({ tier: "postgres", part: "storage", message: message(durableStorage.reason) });
    }
    if (errors.length > 0) log.warn("statistics: a tier could not be read", { errors });
    if (errors.length === 3) {
      throw new UnavailableError(
        "statistics unavailable: neither tier could be read",
        errors.map((e) => ({ path: `${e.tier}.${e.part}`, message: e.message })),
      );
    }

    const c = counters.status === "fulfilled" ? counters.value : null;
    const w = c?.window;
    const served = w ? Object.values(w.servedHistograms).reduce((acc, h) => mergeHistogram(acc, h), new Map<number, number>()) : null;
    const req = w?.purposes.request;

    return {
      generatedAt: new Date(now).toISOString(),
      window: {
        name: windowName,
        from: new Date(recentHours(now, hours)[0]).toISOString(),
        to: new Date(now).toISOString(),
        granularity: "hour",
        hours,
      },
      fundId: query.fundId ?? null,
      overview:
        w && req
          ? {
              totalRequests: req.requests,
              cacheHits: req.hits,
              cacheMisses: req.misses,
              hitRate: req.requests > 0 ? req.hits / req.requests : null,
              avgLatencyMs: {
                redis: percentiles(w.tierHistograms.redis, w.tierTimeUs.redis).avgMs,
                postgres: percentiles(w.tierHistograms.postgres, w.tierTimeUs.postgres).avgMs,
                generation: percentiles(w.tierHistograms.generation, w.tierTimeUs.generation).avgMs,
              },
              requestsByTier: { ...req.servedBy },
              bytesServed: req.bytes,
              generationSecondsSaved: req.savedUs / 1e6,
            }
          : null,
      storage: {
        redis: hotStorage.status === "fulfilled" ? storageBlock(hotStorage.value) : null,
        postgres: durableStorage.status === "fulfilled" ? storageBlock(durableStorage.value) : null,
      },
      performance:
        w && served && c
          ? {
              p50LatencyMs: orNull(percentileMs(served, 50)),
              p95LatencyMs: orNull(percentileMs(served, 95)),
              p99LatencyMs: orNull(percentileMs(served, 99)),
              slowestQueries: c.slowest,
              relativeErrorBound: RELATIVE_ERROR_BOUND,
              tiers: {
                redis: percentiles(w.tierHistograms.redis, w.tierTimeUs.redis),
                postgres: percentiles(w.tierHistograms.postgres, w.tierTimeUs.postgres),
                generation: percentiles(w.tierHistograms.generation, w.tierTimeUs.generation),
              },
              servedBy: {
                redis: percentiles(w.servedHistograms.redis, w.servedLatencyUs.redis),
                postgres: percentiles(w.servedHistograms.postgres, w.servedLatencyUs.postgres),
                generated: percentiles(w.servedHistograms.generated, w.servedLatencyUs.generated),
              },
            }
          : null,
      recentActivity: c ? { last24Hours: activity(c.last24Hours), last7Days: activity(c.last7Days) } : null,
      warming: w
        ? {
            requests: w.purposes.warm.requests,
            hits: w.purposes.warm.hits,
            misses: w.purposes.warm.misses,
            generated: w.purposes.warm.servedBy.generated,
            generationSeconds: w.purposes.warm.generationUs / 1e6,
          }
        : null,
      faults: w ? { redis: w.faults.redis, postgres: w.faults.postgres, byOperation: { ...w.faultsByOperation } } : null,
      errors,
    };
  }

  async function totals(): Promise<ServiceTotals> {
    const [counters, redis, postgres] = await Promise.allSettled([
      withTimeout(hot.readHashes([STATS_KEY.total]), timeoutMs, "hot-tier statistics"),
      withTimeout(hot.storage(), timeoutMs, "hot-tier storage"),
      withTimeout(durable.storage(), timeoutMs, "durable-tier storage"),
    ]);
    return {
      counters: counters.status === "fulfilled" ? aggregate(counters.value) : asError(counters.reason),
      storage: {
        redis: redis.status === "fulfilled" ? redis.value : asError(redis.reason),
        postgres: postgres.status === "fulfilled" ? postgres.value : asError(postgres.reason),
      },
    };
  }

  return { read, totals };
}

