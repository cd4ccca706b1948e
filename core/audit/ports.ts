// The audit trail: what an admin operation records, the port that stores it, and how the trail is paged.
// Records are only ever appended; the trail is read newest first.
import { z } from "zod";

/** Operations that write to the trail. Free text in the table, so a new operation needs no migration. */
export const AuditAction = { invalidate: "invalidate", warm: "warm" } as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** A part of the system an operation could not reach (a cache tier, typically), and why. */
export const AuditFailure = z.object({ tier: z.string(), message: z.string() });
export type AuditFailure = z.infer<typeof AuditFailure>;

/**
 * What an operation appends. A count is null when its tier failed or was not involved, so "unknown" is
 * never recorded as 0.
 */
export const AuditRecord = z.object({
  actor: z.string().min(1),
  action: z.string().min(1),
  scope: z.string().min(1),
  fundId: z.string().nullable(),
  matrixKey: z.string().nullable(),
  mode: z.string().nullable(),
  reason: z.string().nullable(),
  dryRun: z.boolean(),
  counts: z.object({ redis: z.number().int().nullable(), postgres: z.number().int().nullable() }),
  durationMs: z.number().nonnegative(),
  errors: z.array(AuditFailure),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** A stored record: the record plus its id and the database's timestamp (ISO-8601). */
export const AuditEntry = AuditRecord.extend({ id: z.string(), timestamp: z.string() });
export type AuditEntry = z.infer<typeof AuditEntry>;

/**
 * Position after the last entry of a page. `at` is the row's timestamp at full (microsecond) precision:
 * a millisecond Date would skip or repeat rows that share a millisecond.
 */
export interface AuditPosition {
  readonly at: string;
  readonly id: string;
}

/** One page request as the store sees it (already validated). */
export interface AuditPageQuery {
  readonly limit: number;
  readonly after?: AuditPosition;
  readonly offset?: number;
  readonly fundId?: string;
  readonly action?: string;
}

/** The audit trail in PostgreSQL (adapters/audit-drizzle.ts). */
export interface AuditStore {
  /** Inserts one record and returns it as stored; throws when it could not be written. */
  append(record: AuditRecord): Promise<AuditEntry>;
  /** Newest first (ties broken by id), after `after` or skipping `offset`; `next` is null on the last page. */
  list(query: AuditPageQuery): Promise<{ entries: AuditEntry[]; next: AuditPosition | null }>;
}
