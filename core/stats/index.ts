// Cache statistics: the recorder (a CacheObserver writing counters and histograms to the hot store), the
// stats service that reads them back, the history port, and the metrics port other modules report to.
export { createStatsRecorder, lookupOps, faultOps, StatsRecordTimeoutError, type StatsRecorder, type StatsRecorderOptions } from "./recorder";
export { createStatsService, type StatsService, type StatsServiceDeps, type ServiceTotals, type StorageFigures } from "./service";
export {
  createHotStoreHistorySource,
  resolveHistoryQuery,
  DEFAULT_HISTORY_PERIOD_SECONDS,
  MAX_HISTORY_POINTS,
  MAX_HISTORY_DAYS,
  type HistoryRange,
  type HistorySource,
} from "./history";
export { composeObservers, metricsObserver, noopMetricsSink, type MetricProps, type MetricsSink, type WarmJobKind } from "./metrics-sink";
export { aggregate, emptyAggregate, type Aggregate, type PurposeCounts } from "./aggregate";
export {
  bucketIndex,
  bucketEstimateMs,
  bucketLowerMs,
  bucketUpperMs,
  histogramCount,
  mergeHistogram,
  percentileMs,
  HISTOGRAM_GROWTH,
  RELATIVE_ERROR_BOUND,
  MIN_MS,
  MAX_MS,
  type Histogram,
} from "./histogram";
export { STATS_KEY, STATS_FIELD, STATS_TTL_SEC, HOURS_KEPT, SLOW_LOG_KEEP, SERVED_TIERS, TIMED_TIERS, hourId, type TimedTier } from "./keys";
export {
  StatsQuery,
  StatsResponse,
  StatsErrorEntry,
  HistoryQuery,
  HistoryPoint,
  HistoryResponse,
  STATS_WINDOWS,
  type StatsWindow,
} from "./schemas";
