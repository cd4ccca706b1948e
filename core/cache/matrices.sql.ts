// The durable tier's table. One row per matrix key carries both the generation lease and the result,
// so single-flight and storage are a single upsert/update on one row (see adapters/durable-drizzle.ts).
import { sql } from "drizzle-orm";
import {
  bigint,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { MATRIX_STATUSES } from "./ports";

/** The status enum is generated from the port's constant, so ORM, DB and core share one list. */
export const matrixStatusEnum = pgEnum("matrix_status", MATRIX_STATUSES);

/**
 * bytea as a plain, zero-offset Uint8Array on every driver: postgres.js hands back pooled Buffers whose
 * byteOffset may not be 4-aligned, which would break a Float32Array view over the codec's bytes.
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (value) => value,
  fromDriver: (value) => {
    const plain = value.constructor === Uint8Array;
    if (plain && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) return value;
    return new Uint8Array(value); // copies into a fresh, exactly-sized buffer
  },
});

/** Scenario matrices: the lease (`processing`, owner, expiry) and the finished bytes live on one row. */
export const scenarioMatrices = pgTable(
  "scenario_matrices",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    matrixKey: text("matrix_key").notNull().unique(),
    fundId: text("fund_id").notNull(),
    taxonomyVersion: text("taxonomy_version").notNull(),
    config: jsonb("config").notNull(),
    status: matrixStatusEnum("status").notNull(),
    moicMatrix: bytea("moic_matrix"),
    numScenarios: integer("num_scenarios").notNull(),
    numBuckets: integer("num_buckets").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull().default(0),
    generationMs: doublePrecision("generation_ms"),
    recyclingMultiples: jsonb("recycling_multiples").$type<number[]>(),
    errorMessage: text("error_message"),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastHitAt: timestamp("last_hit_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("scenario_matrices_fund_status_idx").on(t.fundId, t.status),
    // eviction walks complete rows least-recently-hit first, never-hit (NULL) ones before all others;
    // cleanup walks invalidated/failed rows by age
    index("scenario_matrices_status_last_hit_idx").on(t.status, t.lastHitAt.asc().nullsFirst()),
    index("scenario_matrices_status_updated_idx").on(t.status, t.updatedAt),
  ],
);

/** A row as drizzle reads it (adapters map it to the port's `DurableEntry`). */
export type ScenarioMatrixRow = typeof scenarioMatrices.$inferSelect;

/**
 * Complete entries and bytes per fund, kept exact by a trigger on scenario_matrices (migration
 * 0002_storage_totals), so storage() reads a row per fund instead of aggregating every entry.
 */
export const matrixStorageTotals = pgTable("matrix_storage_totals", {
  fundId: text("fund_id").primaryKey(),
  entries: bigint("entries", { mode: "number" }).notNull().default(0),
  bytes: bigint("bytes", { mode: "number" }).notNull().default(0),
});
