// Warm jobs (queued generations) and warm profiles (configs the schedule keeps warm).
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** Lifecycle of one queued generation. */
export const warmJobStatusEnum = pgEnum("warm_job_status", ["pending", "processing", "complete", "failed"]);

/** Which queue a job goes to (SQS high / low). */
export const warmPriorityEnum = pgEnum("warm_priority", ["high", "low"]);

/**
 * Warm jobs. The partial unique index lets at most one live (pending/processing) job exist per matrix key,
 * so a repeated warm request is deduplicated by the database, not by a racy read-then-insert.
 */
export const warmJobs = pgTable(
  "warm_jobs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    matrixKey: text("matrix_key").notNull(),
    fundId: text("fund_id").notNull(),
    taxonomyVersion: text("taxonomy_version").notNull(),
    priority: warmPriorityEnum("priority").notNull(),
    status: warmJobStatusEnum("status").notNull().default("pending"),
    config: jsonb("config").notNull(),
    attempts: integer("attempts").notNull().default(0),
    requestedBy: text("requested_by").notNull(),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    completedAt: timestamp("completed_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    // literal predicate (no bound parameters): drizzle-kit must write it verbatim into the migration
    uniqueIndex("warm_jobs_live_matrix_key_uq")
      .on(t.matrixKey)
      .where(sql`status IN ('pending', 'processing')`),
    index("warm_jobs_status_created_idx").on(t.status, t.createdAt),
  ],
);

/** Named configs the scheduled warmer regenerates; `name` is the operator's handle for one. */
export const warmProfiles = pgTable("warm_profiles", {
  id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
  name: text("name").notNull().unique(),
  fundId: text("fund_id").notNull(),
  taxonomyVersion: text("taxonomy_version").notNull(),
  config: jsonb("config").notNull(),
  priority: warmPriorityEnum("priority").notNull().default("low"),
  createdBy: text("created_by").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** Rows as drizzle reads them, for the warming adapters. */
export type WarmJobRow = typeof warmJobs.$inferSelect;
export type WarmProfileRow = typeof warmProfiles.$inferSelect;
