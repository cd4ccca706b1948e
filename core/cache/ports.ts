// Ports owned by the cache. Adapters (adapters/) implement them; core never imports a driver.

/** Opaque invalidation-epoch token read with an entry and handed back on write (no-resurrection check). */
export type EpochToken = string;

/** What an invalidation reaches. `matrix` names one key; its fund is looked up by the store. */
export type InvalidationScope =
  | { readonly kind: "all" }
  | { readonly kind: "fund"; readonly fundId: string }
  | { readonly kind: "matrix"; readonly matrixKey: string };

export type HotWriteOutcome = "stored" | "stale-epoch";

/** Counter updates the statistics module applies to the hot store atomically, in one round trip. */
export type CounterOp =
  | { readonly op: "hincr"; readonly key: string; readonly field: string; readonly by: number; readonly ttlSec: number }
  | {
      /** sorted set keeping only the `keep` highest scores (the slow log) */
      readonly op: "ztop";
      readonly key: string;
      readonly member: string;
      readonly score: number;
      readonly keep: number;
      readonly ttlSec: number;
    };

/**
 * Hot tier: Redis (TCP or Upstash REST) or the in-memory store. Every method is one round trip.
 * Keys live under the store's own prefix; ids are validated before they reach here.
 */
export interface HotStore {
  readonly kind: "memory" | "redis" | "upstash";
  /** The entry alone (one plain GET): the hit path, which needs no epoch. */
  peek(matrixKey: string): Promise<Uint8Array | null>;
  /** The entry (or null) and the epoch token current for the global and the fund scope. */
  read(matrixKey: string, fundId: string): Promise<{ value: Uint8Array | null; epoch: EpochToken }>;
  /**
   * Stores the entry only if `epoch` is still current (no invalidation of its scope since it was read),
   * adds it to its fund's index and accounts its size; otherwise writes nothing.
   */
  write(entry: {
    matrixKey: string;
    fundId: string;
    value: Uint8Array;
    ttlMs: number;
    epoch: EpochToken;
  }): Promise<HotWriteOutcome>;
  /** Removes one entry (e.g. a corrupt one) and its accounting; 1 if it existed. */
  remove(matrixKey: string): Promise<number>;
  /**
   * Bumps the scope's epoch (so in-flight writers are rejected), then removes the scope's entries in chunks
   * through the per-fund index (never a keyspace scan, never FLUSHDB). Returns the entries actually removed;
   * on a dry run, the live entries that would be, changing nothing.
   */
  invalidate(scope: InvalidationScope, opts: { dryRun: boolean }): Promise<number>;
  /** Exact live entries and bytes (expired entries pruned first), optionally for one fund. */
  storage(fundId?: string): Promise<{ entriesCount: number; totalSizeBytes: number }>;
  /** Applies counter updates atomically in one round trip (MULTI / script / in-process). */
  apply(ops: readonly CounterOp[]): Promise<void>;
  /** Reads many counter hashes in one round trip; a missing hash reads as {}. */
  readHashes(keys: readonly string[]): Promise<Record<string, number>[]>;
  /** The highest `n` members of a `ztop` set, highest first. */
  readTop(key: string, n: number): Promise<{ member: string; score: number }[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MatrixStatus = {
  pending: "pending",
  processing: "processing",
  complete: "complete",
  failed: "failed",
  invalidated: "invalidated",
} as const;
export type MatrixStatus = (typeof MatrixStatus)[keyof typeof MatrixStatus];
export const MATRIX_STATUSES = Object.values(MatrixStatus) as [MatrixStatus, ...MatrixStatus[]];

/** Metadata stored beside the matrix bytes in the durable tier (and inside hot entries). */
export interface MatrixMeta {
  readonly matrixKey: string;
  readonly fundId: string;
  readonly taxonomyVersion: string;
  readonly numScenarios: number;
  readonly numBuckets: number;
  readonly recyclingMultiples: readonly number[];
  readonly generationMs: number;
  readonly createdAt: string; // ISO-8601
}

export interface DurableEntry {
  readonly bytes: Uint8Array; // the codec's bytes
  readonly meta: MatrixMeta;
}

export type LeaseResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly status: MatrixStatus; readonly leaseExpiresAt: Date | null };

/** Durable tier: PostgreSQL via drizzle (postgres.js or PGlite). */
export interface DurableStore {
  /** The complete entry, stamping last_hit_at in the same statement; null when absent or not complete. */
  readComplete(matrixKey: string): Promise<DurableEntry | null>;
  /**
   * Takes the generation lease for a key: inserts a `processing` row, or takes over a row that is
   * pending, failed, invalidated, or processing with an expired lease. Never touches a complete row
   * or a live lease: then it reports what it found.
   */
  acquireLease(input: {
    matrixKey: string;
    fundId: string;
    taxonomyVersion: string;
    config: unknown;
    numScenarios: number;
    numBuckets: number;
    owner: string;
    leaseMs: number;
  }): Promise<LeaseResult>;
  /** Completes the row the owner leased; false when the lease was lost (invalidated, expired and taken). */
  complete(owner: string, entry: DurableEntry & { sizeBytes: number }): Promise<boolean>;
  /** Marks the owner's row failed with the message (next call retries). */
  fail(matrixKey: string, owner: string, message: string): Promise<void>;
  /** Current status and lease expiry, for waiters. */
  status(matrixKey: string): Promise<{ status: MatrixStatus; leaseExpiresAt: Date | null } | null>;
  /** Soft marks complete/processing rows `invalidated` (clearing leases); hard deletes them. Count of rows. */
  invalidate(scope: InvalidationScope, opts: { mode: "soft" | "hard"; dryRun: boolean }): Promise<number>;
  /** Exact complete entries and bytes (SQL aggregates), optionally for one fund. */
  storage(fundId?: string): Promise<{ entriesCount: number; totalSizeBytes: number }>;
  /** Deletes least-recently-hit complete rows until their total size is within budget. */
  evictToBudget(maxBytes: number): Promise<{ rows: number; bytes: number }>;
  /** Deletes invalidated and failed rows last updated before `olderThan`. */
  cleanup(olderThan: Date): Promise<{ rows: number; bytes: number }>;
  ping(): Promise<void>;
}
