// Who did what to the cache, and what it reached. Rows are only ever inserted (an audit trail).
import { sql } from "drizzle-orm";
import { boolean, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** One row per admin operation (invalidate, warm …) with the actor and what each tier reported. */
export const cacheAuditLog = pgTable(
  "cache_audit_log",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    scope: text("scope").notNull(),
    fundId: text("fund_id"),
    matrixKey: text("matrix_key"),
    mode: text("mode"),
    reason: text("reason"),
    dryRun: boolean("dry_run").notNull().default(false),
    redisCount: integer("redis_count"),
    postgresCount: integer("postgres_count"),
    durationMs: doublePrecision("duration_ms").notNull(),
    errors: jsonb("errors"),
  },
  (t) => [
    // newest first, overall and per fund. NULLS FIRST is what a plain `ORDER BY created_at DESC` means;
    // drizzle-kit's default (NULLS LAST) would not match it and the planner would sort instead.
    index("cache_audit_log_created_at_idx").on(t.createdAt.desc().nullsFirst()),
    index("cache_audit_log_fund_created_at_idx").on(t.fundId, t.createdAt.desc().nullsFirst()),
  ],
);

/** A row as drizzle reads it, for the audit adapter. */
export type CacheAuditRow = typeof cacheAuditLog.$inferSelect;
