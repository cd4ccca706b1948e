// Request and response schemas of the statistics routes: the single source of their types, their HTTP
// validation and their OpenAPI document. Field names of the original plan are kept exactly; everything
// else is an addition. `null` always means "not known" (no samples, or the tier could not be read), never 0.
import { z } from "zod";
import { Id } from "../scenario";

const count = () => z.number().int().nonnegative();
const ms = (what: string) => z.number().nonnegative().nullable().describe(`${what}, in ms; null without samples`);
const isoTime = () => z.string().describe("ISO-8601 UTC");

export const STATS_WINDOWS = ["24h", "7d"] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];

export const StatsQuery = z.object({
  window: z
    .enum(STATS_WINDOWS)
    .default("24h")
    .describe("rolling window of overview, performance, warming and faults (hourly buckets)"),
  fundId: Id.optional().describe("report storage for this fund only"),
});
export type StatsQuery = z.output<typeof StatsQuery>;

const Activity = z.object({ requests: count(), hits: count(), misses: count() });

const StorageTier = z.object({
  entriesCount: count(),
  totalSizeBytes: count(),
  avgEntrySizeBytes: z.number().nonnegative().nullable().describe("null when the tier holds no entries"),
});

const Percentiles = z.object({
  count: count().describe("samples in the window"),
  avgMs: ms("mean (exact)"),
  p50LatencyMs: ms("median"),
  p95LatencyMs: ms("95th percentile"),
  p99LatencyMs: ms("99th percentile"),
});

export const StatsErrorEntry = z.object({
  tier: z.enum(["redis", "postgres"]),
  part: z.enum(["counters", "storage"]).describe("counters: the statistics kept in the hot store"),
  message: z.string(),
});
export type StatsErrorEntry = z.output<typeof StatsErrorEntry>;

export const StatsResponse = z.object({
  generatedAt: isoTime(),
  window: z.object({
    name: z.enum(STATS_WINDOWS),
    from: isoTime().describe("start of the oldest hour bucket in the window"),
    to: isoTime(),
    granularity: z.literal("hour"),
    hours: count(),
  }),
  fundId: z.string().nullable().describe("the fund `storage` is restricted to; counters are service-wide"),
  overview: z
    .object({
      totalRequests: count().describe("client requests in the window (warming excluded)"),
      cacheHits: count(),
      cacheMisses: count(),
      hitRate: z.number().min(0).max(1).nullable().describe("cacheHits / totalRequests (0..1); null without requests"),
      avgLatencyMs: z.object({
        redis: ms("mean hot-tier time per request that touched it"),
        postgres: ms("mean durable-tier time per request that touched it"),
        generation: ms("mean generation time per request that generated"),
      }),
      requestsByTier: z.object({ redis: count(), postgres: count(), generated: count() }),
      bytesServed: count(),
      generationSecondsSaved: z.number().nonnegative().describe("generation time of the matrices hits served"),
    })
    .nullable(),
  storage: z.object({ redis: StorageTier.nullable(), postgres: StorageTier.nullable() }),
  performance: z
    .object({
      p50LatencyMs: ms("median end-to-end latency of client requests"),
      p95LatencyMs: ms("95th percentile"),
      p99LatencyMs: ms("99th percentile"),
      slowestQueries: z
        .array(z.object({ matrixKey: z.string(), latencyMs: z.number().nonnegative(), timestamp: isoTime() }))
        .max(10)
        .describe("the 10 slowest client requests of the window, slowest first (exact latencies)"),
      relativeErrorBound: z.number().describe("worst-case relative error of every percentile (log-bucket histograms)"),
      tiers: z
        .object({ redis: Percentiles, postgres: Percentiles, generation: Percentiles })
        .describe("time spent in each tier by the requests that touched it"),
      servedBy: z
        .object({ redis: Percentiles, postgres: Percentiles, generated: Percentiles })
        .describe("end-to-end latency by the tier that answered"),
    })
    .nullable(),
  recentActivity: z.object({ last24Hours: Activity, last7Days: Activity }).nullable(),
  warming: z
    .object({
      requests: count(),
      hits: count().describe("warm lookups that found the matrix already cached"),
      misses: count(),
      generated: count(),
      generationSeconds: z.number().nonnegative(),
    })
    .nullable()
    .describe("lookups made for warming, kept out of the client figures above"),
  faults: z
    .object({
      redis: count(),
      postgres: count(),
      byOperation: z.record(z.string(), count()).describe("`<tier>:<operation>` → count"),
    })
    .nullable()
    .describe("tier faults the cache degraded around, in the window"),
  errors: z.array(StatsErrorEntry).describe("parts that could not be read; they are null above, never zeros"),
});
export type StatsResponse = z.output<typeof StatsResponse>;

/** 455 days: CloudWatch's longest retention, so no longer period can have data. */
const MAX_PERIOD_SECONDS = 455 * 86_400;

/** History query as it arrives (strings); defaults and range checks are applied by `resolveHistoryQuery`. */
export const HistoryQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe("ISO-8601; default `to` − 24 h"),
  to: z.iso.datetime({ offset: true }).optional().describe("ISO-8601; default now (a later time is cut to now)"),
  period: z.coerce
    .number()
    .int()
    .positive()
    .multipleOf(60)
    .max(MAX_PERIOD_SECONDS)
    .optional()
    .describe("seconds per point, a multiple of 60; default 3600"),
});
export type HistoryQuery = z.output<typeof HistoryQuery>;

const TierHistory = z.object({
  requests: count(),
  p50LatencyMs: ms("median end-to-end latency of requests this tier answered"),
  p95LatencyMs: ms("95th percentile"),
  p99LatencyMs: ms("99th percentile"),
});

export const HistoryPoint = z.object({
  timestamp: isoTime().describe("start of the period"),
  requests: count(),
  hits: count(),
  misses: count(),
  hitRate: z.number().min(0).max(1).nullable(),
  byTier: z.object({ redis: TierHistory, postgres: TierHistory, generated: TierHistory }),
});
export type HistoryPoint = z.output<typeof HistoryPoint>;

export const HistoryResponse = z.object({
  source: z.enum(["cloudwatch", "hot-store"]).describe("CloudWatch when deployed; the hot store's hour buckets locally"),
  from: isoTime(),
  to: isoTime(),
  periodSeconds: count(),
  points: z.array(HistoryPoint).describe("periods with at least one request, oldest first"),
});
export type HistoryResponse = z.output<typeof HistoryResponse>;
