// GET /api/cache/stats/history: ranges longer than the hot store keeps. The HistorySource port has two
// adapters: CloudWatch GetMetricData over the EMF metrics when deployed (functions/shared/cloudwatch-
// history.ts), and the hot store's hour buckets locally (below). Both answer the same HistoryResponse.
import type { HotStore } from "../cache";
import { ValidationError } from "../shared/errors";
import { systemClock, type Clock } from "../shared/log";
import { aggregate } from "./aggregate";
import { percentileMs } from "./histogram";
import { HOUR_MS, hourId, hourStart, STATS_KEY, STATS_TTL_SEC, SERVED_TIERS } from "./keys";
import type { HistoryPoint, HistoryQuery, HistoryResponse } from "./schemas";

export interface HistoryRange {
  readonly from: Date;
  readonly to: Date;
  readonly periodSeconds: number;
}

export interface HistorySource {
  readonly kind: HistoryResponse["source"];
  /** Throws ValidationError (naming `from` or `period`) for a range this source cannot answer. */
  read(range: HistoryRange): Promise<HistoryResponse>;
}

export const DEFAULT_HISTORY_PERIOD_SECONDS = 3600;
/** Points per series per request: keeps one GetMetricData call far below its 100,800-datapoint limit. */
export const MAX_HISTORY_POINTS = 1440;
/** CloudWatch keeps 1-hour data 455 days; no source can answer older. */
export const MAX_HISTORY_DAYS = 455;

/** Applies defaults (to = now, from = to − 24 h, period = 1 h) and the checks every source shares. */
export function resolveHistoryQuery(q: HistoryQuery, now: number): HistoryRange {
  // nothing is recorded after now: a later `to` is cut to now, which also bounds every loop over the range
  const to = new Date(Math.min(q.to ? new Date(q.to).getTime() : now, now));
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 24 * HOUR_MS);
  const periodSeconds = q.period ?? DEFAULT_HISTORY_PERIOD_SECONDS;
  const fail = (path: string, msg: string): never => {
    throw new ValidationError(`invalid query: ${path}: ${msg}`, [{ path, message: msg }]);
  };
  if (from.getTime() >= now) fail("from", "must be in the past");
  if (from.getTime() >= to.getTime()) fail("from", "must be before `to`");
  if (from.getTime() < now - MAX_HISTORY_DAYS * 24 * HOUR_MS) fail("from", `must be within the last ${MAX_HISTORY_DAYS} days`);
  const points = Math.ceil((to.getTime() - from.getTime()) / (periodSeconds * 1000));
  if (points > MAX_HISTORY_POINTS) {
    fail("period", `${periodSeconds} s gives ${points} points over this range; at most ${MAX_HISTORY_POINTS} (use a longer period)`);
  }
  return { from, to, periodSeconds };
}

/**
 * History from the hour buckets the recorder keeps (8 days). Periods are whole hours, aligned to UTC
 * hours; hit rate and percentiles are computed exactly as GET /api/cache/stats computes them.
 */
export function createHotStoreHistorySource(deps: { hot: HotStore; clock?: Clock }): HistorySource {
  const clock = deps.clock ?? systemClock;
  return {
    kind: "hot-store",
    async read({ from, to, periodSeconds }) {
      if (periodSeconds % 3600 !== 0) {
        throw new ValidationError("invalid query: period: must be a multiple of 3600 here", [
          { path: "period", message: "the local history has hour buckets: use a multiple of 3600" },
        ]);
      }
      const oldest = hourStart(clock()) - (STATS_TTL_SEC * 1000 - HOUR_MS);
      if (from.getTime() < oldest) {
        throw new ValidationError("invalid query: from: older than the local history", [
          { path: "from", message: `the local history keeps 8 days: must be at or after ${new Date(oldest).toISOString()}` },
        ]);
      }
      const hoursPer = periodSeconds / 3600;
      const first = hourStart(from.getTime());
      const hours: number[] = [];
      for (let h = first; h < to.getTime(); h += HOUR_MS) hours.push(h);
      // counters and histograms of every hour in one round trip
      const hashes = await deps.hot.readHashes([
        ...hours.map((h) => STATS_KEY.counters(hourId(h))),
        ...hours.map((h) => STATS_KEY.histograms(hourId(h))),
      ]);
      const points: HistoryPoint[] = [];
      for (let i = 0; i < hours.length; i += hoursPer) {
        const idx = hours.slice(i, i + hoursPer).map((_, k) => i + k);
        const agg = aggregate(idx.flatMap((k) => [hashes[k], hashes[hours.length + k]]));
        const r = agg.purposes.request;
        if (r.requests === 0) continue;
        const byTier = Object.fromEntries(
          SERVED_TIERS.map((t) => {
            const h = agg.servedHistograms[t];
            return [
              t,
              {
                requests: r.servedBy[t],
                p50LatencyMs: percentileMs(h, 50),
                p95LatencyMs: percentileMs(h, 95),
                p99LatencyMs: percentileMs(h, 99),
              },
            ];
          }),
        ) as HistoryPoint["byTier"];
        points.push({
          timestamp: new Date(hours[i]).toISOString(),
          requests: r.requests,
          hits: r.hits,
          misses: r.misses,
          hitRate: r.hits / r.requests,
          byTier,
        });
      }
      return { source: "hot-store", from: from.toISOString(), to: to.toISOString(), periodSeconds, points };
    },
  };
}
