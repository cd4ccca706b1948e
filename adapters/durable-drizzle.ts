// DurableStore on PostgreSQL through drizzle; the same queries run on postgres.js and PGlite.
// Every method is one SQL statement (acquireLease adds a status read only when refused), and every
// lease decision uses the database clock, so processes with skewed clocks still agree on expiry.
import { and, eq, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { matrixStorageTotals as totals, scenarioMatrices as m } from "../core/cache/matrices.sql";
import type { DurableEntry, DurableStore, InvalidationScope, LeaseResult, MatrixStatus } from "../core/cache/ports";
import type { Database } from "./db";

/** Options of `createDrizzleDurableStore`. */
export interface DrizzleDurableStoreOptions {
  /**
   * Accepted for call-site compatibility and deliberately unused: leases, hits and ages are stamped with
   * the database's now(), because a process clock would disagree with the other processes' clocks.
   */
  readonly now?: () => Date;
}

/** A fault of the durable store (never an expected outcome: those are return values). */
export class DurableStoreError extends Error {
  override readonly name = "DurableStoreError";
  constructor(
    message: string,
    readonly matrixKey: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Statuses a new owner may take the lease over from (plus `processing` whose lease expired). */
const RELEASABLE: MatrixStatus[] = ["pending", "failed", "invalidated"];
/** Statuses a soft invalidation reaches: finished rows and in-flight generations (whose `complete` then fails). */
const SOFT_INVALIDATABLE: MatrixStatus[] = ["complete", "processing"];
/** Statuses cleanup may delete. */
const DEAD: MatrixStatus[] = ["invalidated", "failed"];

// aggregates come back as numeric/bigint text on both drivers
const countAll = () => sql<number>`count(*)`.mapWith(Number);

function scopeWhere(scope: InvalidationScope): SQL | undefined {
  switch (scope.kind) {
    case "all":
      return undefined;
    case "fund":
      return eq(m.fundId, scope.fundId);
    case "matrix":
      return eq(m.matrixKey, scope.matrixKey);
  }
}

/** The durable tier over drizzle; `db` comes from `createDb` (either driver). */
export function createDrizzleDurableStore(db: Database, _opts: DrizzleDurableStoreOptions = {}): DurableStore {
  const readStatus = async (matrixKey: string) => {
    const rows = await db
      .select({ status: m.status, leaseExpiresAt: m.leaseExpiresAt })
      .from(m)
      .where(eq(m.matrixKey, matrixKey));
    return rows[0] ?? null;
  };

  return {
    async readComplete(matrixKey) {
      // stamp and read in one round trip: the hit that serves the bytes is the hit eviction sees
      const rows = await db
        .update(m)
        .set({ lastHitAt: sql`now()` })
        .where(and(eq(m.matrixKey, matrixKey), eq(m.status, "complete")))
        .returning({
          bytes: m.moicMatrix,
          matrixKey: m.matrixKey,
          fundId: m.fundId,
          taxonomyVersion: m.taxonomyVersion,
          numScenarios: m.numScenarios,
          numBuckets: m.numBuckets,
          recyclingMultiples: m.recyclingMultiples,
          generationMs: m.generationMs,
          createdAt: m.createdAt,
        });
      const row = rows[0];
      if (!row || !row.bytes) return null;
      const entry: DurableEntry = {
        bytes: row.bytes,
        meta: {
          matrixKey: row.matrixKey,
          fundId: row.fundId,
          taxonomyVersion: row.taxonomyVersion,
          numScenarios: row.numScenarios,
          numBuckets: row.numBuckets,
          recyclingMultiples: row.recyclingMultiples ?? [],
          generationMs: row.generationMs ?? 0,
          createdAt: row.createdAt.toISOString(),
        },
      };
      return entry;
    },

    async acquireLease(input): Promise<LeaseResult> {
      const expiresAt = sql`now() + ${input.leaseMs}::double precision * interval '1 millisecond'`;
      // A refused upsert followed by a vanished row means a hard invalidation slipped in between: try again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const taken = await db
          .insert(m)
          .values({
            matrixKey: input.matrixKey,
            fundId: input.fundId,
            taxonomyVersion: input.taxonomyVersion,
            config: input.config,
            status: "processing",
            numScenarios: input.numScenarios,
            numBuckets: input.numBuckets,
            leaseOwner: input.owner,
            leaseExpiresAt: expiresAt,
          })
          .onConflictDoUpdate({
            target: m.matrixKey,
            // take over in place (never DO NOTHING): a regeneration of an invalidated key must not be dropped
            set: {
              status: "processing",
              leaseOwner: input.owner,
              leaseExpiresAt: expiresAt,
              config: input.config,
              fundId: input.fundId,
              taxonomyVersion: input.taxonomyVersion,
              numScenarios: input.numScenarios,
              numBuckets: input.numBuckets,
              errorMessage: null,
              moicMatrix: null,
              sizeBytes: 0,
              updatedAt: sql`now()`,
            },
            setWhere: or(
              inArray(m.status, RELEASABLE),
              and(eq(m.status, "processing"), lt(m.leaseExpiresAt, sql`now()`)),
            ),
          })
          .returning({ owner: m.leaseOwner });
        if (taken.length === 1) return { acquired: true };

        const current = await readStatus(input.matrixKey);
        if (current) return { acquired: false, status: current.status, leaseExpiresAt: current.leaseExpiresAt };
      }
      throw new DurableStoreError(
        `acquireLease: the row kept vanishing between refusal and status read (concurrent hard invalidations)`,
        input.matrixKey,
      );
    },

    async complete(owner, entry) {
      const { meta } = entry;
      const rows = await db
        .update(m)
        .set({
          status: "complete",
          moicMatrix: entry.bytes,
          sizeBytes: entry.sizeBytes,
          fundId: meta.fundId,
          taxonomyVersion: meta.taxonomyVersion,
          numScenarios: meta.numScenarios,
          numBuckets: meta.numBuckets,
          generationMs: meta.generationMs,
          recyclingMultiples: [...meta.recyclingMultiples],
          // the row carries the entry's own creation time so both tiers report the same createdAt
          createdAt: new Date(meta.createdAt),
          errorMessage: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          updatedAt: sql`now()`,
          lastHitAt: sql`now()`,
        })
        // an expired but untaken lease may still complete: the work is done and nobody else is doing it
        .where(and(eq(m.matrixKey, meta.matrixKey), eq(m.status, "processing"), eq(m.leaseOwner, owner)))
        .returning({ id: m.id });
      return rows.length === 1;
    },

    async fail(matrixKey, owner, message) {
      await db
        .update(m)
        .set({ status: "failed", errorMessage: message, leaseOwner: null, leaseExpiresAt: null, updatedAt: sql`now()` })
        .where(and(eq(m.matrixKey, matrixKey), eq(m.status, "processing"), eq(m.leaseOwner, owner)));
    },

    async status(matrixKey) {
      return readStatus(matrixKey);
    },

    async invalidate(scope, { mode, dryRun }) {
      const where = mode === "soft" ? and(scopeWhere(scope), inArray(m.status, SOFT_INVALIDATABLE)) : scopeWhere(scope);
      if (dryRun) {
        const [row] = await db.select({ n: countAll() }).from(m).where(where);
        return row.n;
      }
      // the count comes back from the same statement (data-modifying CTE), not from a second query
      const changed =
        mode === "soft"
          ? db.$with("changed").as(
              db
                .update(m)
                .set({ status: "invalidated", leaseOwner: null, leaseExpiresAt: null, updatedAt: sql`now()` })
                .where(where)
                .returning({ id: m.id }),
            )
          : db.$with("changed").as(db.delete(m).where(where).returning({ id: m.id }));
      const [row] = await db.with(changed).select({ n: countAll() }).from(changed);
      return row.n;
    },

    async storage(fundId) {
      // Trigger-maintained totals (drizzle/0002): one row per fund, not an aggregate over every entry.
      const [row] = await db
        .select({
          entriesCount: sql<number>`coalesce(sum(${totals.entries}), 0)`.mapWith(Number),
          totalSizeBytes: sql<number>`coalesce(sum(${totals.bytes}), 0)`.mapWith(Number),
        })
        .from(totals)
        .where(fundId === undefined ? undefined : eq(totals.fundId, fundId));
      return row;
    },

    async evictToBudget(maxBytes) {
      // `kept_from_here` = bytes of this row and every more-recently-hit row. Deleting from the
      // least-recently-hit end until the rest fits = deleting exactly the rows where that exceeds the budget.
      const ranked = db
        .select({
          id: m.id,
          keptFromHere: sql<number>`sum(${m.sizeBytes}) OVER (
            ORDER BY ${m.lastHitAt} ASC NULLS FIRST, ${m.createdAt} ASC, ${m.id} ASC
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)`.as("kept_from_here"),
        })
        .from(m)
        .where(eq(m.status, "complete"))
        .as("ranked");
      const victims = db.select({ id: ranked.id }).from(ranked).where(sql`${ranked.keptFromHere} > ${maxBytes}`);
      return deleteAndTotal(and(inArray(m.id, victims), eq(m.status, "complete")));
    },

    async cleanup(olderThan) {
      return deleteAndTotal(and(inArray(m.status, DEAD), lt(m.updatedAt, olderThan)));
    },

    async ping() {
      await db.execute(sql`select 1`);
    },
  };

  // Deletes and totals in one statement (data-modifying CTE), so the figures are exactly what was removed.
  async function deleteAndTotal(where: SQL | undefined) {
    const gone = db.$with("gone").as(db.delete(m).where(where).returning({ size: m.sizeBytes }));
    const [row] = await db
      .with(gone)
      .select({ rows: countAll(), bytes: sql<number>`coalesce(sum(${gone.size}), 0)`.mapWith(Number) })
      .from(gone);
    return row;
  }
}
