export * from "./ports";
export { createMatrixCache, DEFAULT_CACHE_OPTIONS } from "./matrix-cache";
export type { CacheLookup, CacheObserver, CacheOptions, FaultEvent, LookupEvent, MatrixCache, MatrixCacheDeps, Purpose, Tier, Timings } from "./matrix-cache";
export { encodeEntry, decodeEntry } from "./entry";
export { CacheError, GenerationFailedError, LeaseWaitTimeoutError } from "./errors";
