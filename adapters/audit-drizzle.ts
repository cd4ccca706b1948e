// AuditStore on PostgreSQL through drizzle (postgres.js or PGlite): one INSERT per record, one SELECT per
// page. Pages are keyset-paginated on (created_at, id) at the database's full timestamp precision.
import { and, desc, eq, getTableColumns, sql } from "drizzle-orm";
import { cacheAuditLog as a, type CacheAuditRow } from "../core/audit/audit.sql";
import { AuditFailure, type AuditEntry, type AuditStore } from "../core/audit/ports";
import type { Database } from "./db";

const Failures = AuditFailure.array();

// the row's timestamp in UTC with microseconds, the form the cursor carries back
const exactAt = sql<string>`to_char(${a.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function toEntry(row: CacheAuditRow): AuditEntry {
  // `errors` is jsonb written only by append(); a row edited by hand still reads, its errors kept verbatim
  const parsed = row.errors === null ? { success: true as const, data: [] } : Failures.safeParse(row.errors);
  return {
    id: row.id,
    timestamp: row.createdAt.toISOString(),
    actor: row.actor,
    action: row.action,
    scope: row.scope,
    fundId: row.fundId,
    matrixKey: row.matrixKey,
    mode: row.mode,
    reason: row.reason,
    dryRun: row.dryRun,
    counts: { redis: row.redisCount, postgres: row.postgresCount },
    durationMs: row.durationMs,
    errors: parsed.success ? parsed.data : [{ tier: "unknown", message: JSON.stringify(row.errors) }],
  };
}

/** The audit trail over drizzle; `db` comes from `createDb` (either driver). */
export function createDrizzleAuditStore(db: Database): AuditStore {
  return {
    async append(r) {
      const [row] = await db
        .insert(a)
        .values({
          actor: r.actor,
          action: r.action,
          scope: r.scope,
          fundId: r.fundId,
          matrixKey: r.matrixKey,
          mode: r.mode,
          reason: r.reason,
          dryRun: r.dryRun,
          redisCount: r.counts.redis,
          postgresCount: r.counts.postgres,
          durationMs: r.durationMs,
          // NULL when nothing failed, so `errors IS NOT NULL` finds the operations that need a look
          errors: r.errors.length === 0 ? null : r.errors,
          // Strictly after the newest record (one index probe), so successive appends list newest first
          // even on a millisecond clock (PGlite) or a clock that stepped back.
          createdAt: sql`greatest(clock_timestamp(), (select max(${a.createdAt}) from ${a}) + interval '1 microsecond')`,
        })
        .returning();
      return toEntry(row);
    },

    async list(q) {
      const rows = await db
        .select({ ...getTableColumns(a), at: exactAt })
        .from(a)
        .where(
          and(
            q.fundId === undefined ? undefined : eq(a.fundId, q.fundId),
            q.action === undefined ? undefined : eq(a.action, q.action),
            q.after === undefined ? undefined : sql`(${a.createdAt}, ${a.id}) < (${q.after.at}::timestamptz, ${q.after.id}::uuid)`,
          ),
        )
        // DESC is NULLS FIRST, matching both created_at indexes; id orders rows that share a timestamp
        .orderBy(desc(a.createdAt), desc(a.id))
        .limit(q.limit + 1) // one extra row says whether another page exists
        .offset(q.offset ?? 0);
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        entries: page.map(({ at: _at, ...row }) => toEntry(row)),
        next: rows.length > q.limit && last ? { at: last.at, id: last.id } : null,
      };
    },
  };
}
