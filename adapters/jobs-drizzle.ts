// Warm jobs, warm profiles and the warming signals over drizzle (postgres.js or PGlite, same SQL).
// Deduplication of live jobs is the partial unique index `warm_jobs_live_matrix_key_uq`: an insert that
// would make a second live job for a key does nothing, and the existing job is read back instead.
import { and, asc, desc, eq, gte, inArray, lt, or, sql } from "drizzle-orm";
import { scenarioMatrices as m } from "../core/cache/matrices.sql";
import { warmJobs as j, warmProfiles as p, type WarmJobRow, type WarmProfileRow } from "../core/warming/warming.sql";
import { LIVE_JOB_STATUSES, type WarmPriority } from "../core/warming/messages";
import type {
  LaneBacklog,
  NewWarmJob,
  RecentlyRequested,
  StartOutcome,
  Throughput,
  WarmJob,
  WarmJobStore,
  WarmProfile,
  WarmProfileStore,
  WarmSignals,
} from "../core/warming/ports";
import type { Database } from "./db";

/** Rows per INSERT: 500 jobs × 7 bound columns stays far below PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 500;
/** A conflicting live job can finish between our insert and our read; then the insert is tried again. */
const DEDUPE_ROUNDS = 3;

const live = () => inArray(j.status, [...LIVE_JOB_STATUSES]);
const num = (x: unknown): number => (x === null || x === undefined ? 0 : Number(x));
// cells of a stored ScenarioConfigWithMeta (defaults are applied before storing, so both fields exist)
const jobCells = sql`((${j.config}->>'numScenarios')::float8 * jsonb_array_length(${j.config}->'buckets'))`;

function toJob(r: WarmJobRow): WarmJob {
  return {
    id: r.id,
    matrixKey: r.matrixKey,
    fundId: r.fundId,
    taxonomyVersion: r.taxonomyVersion,
    priority: r.priority,
    status: r.status,
    config: r.config,
    attempts: r.attempts,
    requestedBy: r.requestedBy,
    error: r.error,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    startedAt: r.startedAt,
    completedAt: r.completedAt,
  };
}

function toProfile(r: WarmProfileRow): WarmProfile {
  return { ...r };
}

const chunks = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** The job store with the profile store and the signals beside it. */
export type DrizzleWarmStore = WarmJobStore & { readonly profiles: WarmProfileStore; readonly signals: WarmSignals };

/** The job store, with the profile store and the signals beside it (same database, separate ports). */
export function createDrizzleWarmStore(db: Database): DrizzleWarmStore {
  const values = (x: NewWarmJob) => ({
    matrixKey: x.matrixKey,
    fundId: x.fundId,
    taxonomyVersion: x.taxonomyVersion,
    priority: x.priority,
    config: x.config,
    requestedBy: x.requestedBy,
  });

  async function createLiveChunk(rows: readonly NewWarmJob[]): Promise<Map<string, { job: WarmJob; created: boolean }>> {
    const out = new Map<string, { job: WarmJob; created: boolean }>();
    let todo = [...rows];
    for (let round = 0; round < DEDUPE_ROUNDS && todo.length > 0; round++) {
      // No conflict target: the only unique constraints a new row can hit are the primary key (random
      // uuid) and the partial index on live keys, and DO NOTHING needs no arbiter for a partial index.
      const inserted = await db.insert(j).values(todo.map(values)).onConflictDoNothing().returning();
      for (const r of inserted) out.set(r.matrixKey, { job: toJob(r), created: true });
      todo = todo.filter((t) => !out.has(t.matrixKey));
      if (todo.length === 0) break;
      const existing = await db.select().from(j).where(and(inArray(j.matrixKey, todo.map((t) => t.matrixKey)), live()));
      for (const r of existing) out.set(r.matrixKey, { job: toJob(r), created: false });
      todo = todo.filter((t) => !out.has(t.matrixKey));
    }
    if (todo.length > 0) {
      throw new Error(`warm job dedupe did not settle for ${todo.length} key(s) after ${DEDUPE_ROUNDS} rounds (live jobs finishing as fast as they are created)`);
    }
    return out;
  }

  const store: DrizzleWarmStore = {
    async createLive(rows) {
      const byKey = new Map<string, { job: WarmJob; created: boolean }>();
      for (const c of chunks(rows, INSERT_CHUNK)) for (const [k, v] of await createLiveChunk(c)) byKey.set(k, v);
      return rows.map((r) => byKey.get(r.matrixKey)!);
    },

    async recordComplete(rows) {
      const out: WarmJob[] = [];
      for (const c of chunks(rows, INSERT_CHUNK)) {
        const inserted = await db
          .insert(j)
          .values(c.map((x) => ({ ...values(x), status: "complete" as const, completedAt: sql`now()` })))
          .returning();
        out.push(...inserted.map(toJob));
      }
      return out;
    },

    async get(id) {
      const [r] = await db.select().from(j).where(eq(j.id, id));
      return r ? toJob(r) : null;
    },

    async list(q) {
      const where = and(q.status ? eq(j.status, q.status) : undefined, q.priority ? eq(j.priority, q.priority) : undefined);
      const rows = await db.select().from(j).where(where).orderBy(desc(j.createdAt), desc(j.id)).limit(q.limit);
      return rows.map(toJob);
    },

    async listLive(limit) {
      const rows = await db.select().from(j).where(live()).orderBy(asc(j.createdAt), asc(j.id)).limit(limit);
      return rows.map(toJob);
    },

    async start(id): Promise<StartOutcome> {
      // A failed job may restart (a DLQ redrive) only if no other live job owns its key meanwhile;
      // otherwise the update would violate the partial unique index.
      // Qualified by table name on purpose: an unqualified column inside the subquery would bind to `other`.
      const noOtherLive = sql`NOT EXISTS (SELECT 1 FROM warm_jobs AS other WHERE other.matrix_key = warm_jobs.matrix_key AND other.id <> warm_jobs.id AND other.status IN ('pending', 'processing'))`;
      const [started] = await db
        .update(j)
        .set({ status: "processing", attempts: sql`${j.attempts} + 1`, startedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(j.id, id), or(live(), and(eq(j.status, "failed"), noOtherLive))))
        .returning();
      if (started) return { kind: "started", job: toJob(started) };
      const [row] = await db.select().from(j).where(eq(j.id, id));
      if (!row) return { kind: "missing" };
      return row.status === "complete" ? { kind: "already-complete", job: toJob(row) } : { kind: "superseded", job: toJob(row) };
    },

    async complete(id) {
      await db
        .update(j)
        .set({ status: "complete", error: null, completedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(j.id, id), sql`${j.status} <> 'complete'`));
    },

    async retry(id, error) {
      // only from processing: a duplicate delivery may have completed the job meanwhile
      await db.update(j).set({ status: "pending", error, updatedAt: sql`now()` }).where(and(eq(j.id, id), eq(j.status, "processing")));
    },

    async fail(ids, error) {
      if (ids.length === 0) return;
      await db.update(j).set({ status: "failed", error, updatedAt: sql`now()` }).where(and(inArray(j.id, [...ids]), live()));
    },

    async failStale({ pendingBefore, processingBefore }) {
      const stale = or(
        and(eq(j.status, "pending"), lt(j.updatedAt, pendingBefore)),
        and(eq(j.status, "processing"), lt(j.updatedAt, processingBefore)),
      );
      const rows = await db
        .update(j)
        .set({ status: "failed", error: sql`'stale: no progress since ' || ${j.updatedAt}::text`, updatedAt: sql`now()` })
        .where(stale)
        .returning({ id: j.id });
      return rows.length;
    },

    async purgeFinished(before) {
      const rows = await db
        .delete(j)
        .where(and(inArray(j.status, ["complete", "failed"]), lt(j.updatedAt, before)))
        .returning({ id: j.id });
      return rows.length;
    },

    profiles: {
      async list() {
        return (await db.select().from(p).orderBy(asc(p.createdAt), asc(p.id))).map(toProfile);
      },
      async create(profile) {
        // DO NOTHING on the unique name: a taken name is an expected outcome (409), not a driver error
        const [row] = await db
          .insert(p)
          .values({ ...profile, config: profile.config as object })
          .onConflictDoNothing({ target: p.name })
          .returning();
        return row ? toProfile(row) : null;
      },
      async delete(id) {
        return (await db.delete(p).where(eq(p.id, id)).returning({ id: p.id })).length === 1;
      },
    },

    signals: {
      async throughput(sampleSize): Promise<Throughput> {
        // Generation speed proper, over the most recently written complete rows (any purpose).
        const recentRows = db
          .select({ cells: sql`${m.numScenarios}::float8 * ${m.numBuckets}`.as("cells"), ms: sql`${m.generationMs}`.as("ms") })
          .from(m)
          .where(and(eq(m.status, "complete"), sql`${m.generationMs} > 0`))
          .orderBy(desc(m.updatedAt))
          .limit(sampleSize)
          .as("recent_rows");
        const [gen] = await db
          .select({ n: sql`count(*)`.mapWith(Number), cells: sql`sum(${recentRows.cells})`, ms: sql`sum(${recentRows.ms})` })
          .from(recentRows);
        // Wall time of recent warm jobs' last attempt (stores, hand-offs, waiting included).
        const recentJobs = db
          .select({
            wallMs: sql`extract(epoch from (${j.completedAt} - ${j.startedAt})) * 1000`.as("wall_ms"),
            cells: sql`${jobCells}`.as("cells"),
          })
          .from(j)
          .where(and(eq(j.status, "complete"), sql`${j.startedAt} IS NOT NULL`, sql`${j.attempts} > 0`))
          .orderBy(desc(j.createdAt))
          .limit(sampleSize)
          .as("recent_jobs");
        const [jobs] = await db
          .select({ n: sql`count(*)`.mapWith(Number), wallMs: sql`avg(${recentJobs.wallMs})`, cells: sql`avg(${recentJobs.cells})` })
          .from(recentJobs);
        const genMs = num(gen.ms);
        const cellsPerSecond = gen.n > 0 && genMs > 0 ? (num(gen.cells) / genMs) * 1000 : null;
        // overhead = mean job wall time minus the generation time its cells account for
        const perJobOverheadMs =
          cellsPerSecond !== null && jobs.n > 0 ? Math.max(0, num(jobs.wallMs) - (num(jobs.cells) / cellsPerSecond) * 1000) : null;
        return { cellsPerSecond, generationSamples: gen.n, perJobOverheadMs, jobSamples: jobs.n };
      },

      async backlog() {
        const rows = await db
          .select({ priority: j.priority, jobs: sql`count(*)`.mapWith(Number), cells: sql`coalesce(sum(${jobCells}), 0)`.mapWith(Number) })
          .from(j)
          .where(live())
          .groupBy(j.priority);
        const out: Record<WarmPriority, LaneBacklog> = { high: { jobs: 0, cells: 0 }, low: { jobs: 0, cells: 0 } };
        for (const r of rows) out[r.priority] = { jobs: r.jobs, cells: r.cells };
        return out;
      },

      /**
       * "Most requested in the last N days, no longer cached" as far as the durable tier can tell:
       * rows now `invalidated` whose last_hit_at (stamped by every durable-tier read and by completion)
       * falls in the window, most recent first. Limits: hot-tier hits do not stamp last_hit_at, so a key
       * served only from Redis counts from its last durable read or its generation; there is no per-key
       * request count, so recency stands in for frequency; rows deleted by eviction or hard invalidation
       * are gone with their config and cannot be re-warmed; `failed` rows are left out on purpose (a
       * config whose generation keeps failing would spend the budget on every run).
       */
      async recentlyRequestedUncached({ since, limit }): Promise<RecentlyRequested[]> {
        const rows = await db
          .select({ matrixKey: m.matrixKey, config: m.config, lastHitAt: m.lastHitAt })
          .from(m)
          .where(and(eq(m.status, "invalidated"), gte(m.lastHitAt, since)))
          .orderBy(desc(m.lastHitAt), asc(m.matrixKey))
          .limit(limit);
        return rows.map((r) => ({ matrixKey: r.matrixKey, config: r.config, lastHitAt: r.lastHitAt! }));
      },
    },
  };
  return store;
}

/**
 * Dead letters on AWS, read from the job table: jobs that failed on a receive (attempts > 0), i.e. whose
 * last allowed receive failed and whose message SQS moved to the DLQ. Poison messages without a
 * readable job id are only in the SQS DLQ itself (its alarm reports them).
 */
export function createFailedJobsDeadLetters(db: Database) {
  return {
    kind: "failed-jobs" as const,
    async list(limit: number) {
      const rows = await db
        .select()
        .from(j)
        .where(and(eq(j.status, "failed"), sql`${j.attempts} > 0`))
        .orderBy(desc(j.updatedAt))
        .limit(limit);
      return rows.map((r) => ({
        jobId: r.id,
        matrixKey: r.matrixKey,
        priority: r.priority,
        receiveCount: r.attempts,
        error: r.error ?? "failed",
        deadLetteredAt: r.updatedAt.toISOString(),
      }));
    },
  };
}
