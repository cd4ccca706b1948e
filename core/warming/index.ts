// Public surface of the warming module: messages, HTTP schemas, ports, the service, the consumer,
// the estimate, settings and maintenance.
export * from "./messages";
export * from "./requests";
export type * from "./ports";
export { createWarmService, jobView, profileView, profileConfig } from "./service";
export type { WarmService, WarmServiceDeps, WarmOptions, WarmServiceObserver, ScheduledWarmResult } from "./service";
export { createWarmConsumer } from "./consumer";
export type { WarmRecord, WarmJobEvent, WarmJobOutcome, WarmConsumerDeps } from "./consumer";
export { estimateCompletion, DEFAULT_CELLS_PER_SECOND, DEFAULT_PER_JOB_OVERHEAD_MS, type EstimateSettings } from "./estimate";
export { loadWarmSettings, WarmSettingsError, type WarmSettings } from "./settings";
export { runMaintenance, type MaintenanceDeps, type MaintenanceResult } from "./maintenance";
export { WarmError, PoisonMessageError, WarmNotStoredError } from "./errors";
export { mapConcurrent } from "./concurrency";
