// The warm job / profile store and the warming signals, on embedded PGlite and on the real PostgreSQL.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleWarmStore, createFailedJobsDeadLetters, type DrizzleWarmStore } from "../adapters/jobs-drizzle";
import { scenarioMatrices } from "../core/cache/matrices.sql";
import { warmJobs, warmProfiles } from "../core/warming/warming.sql";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";
import { newJob } from "./helpers/warm";

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`warm store (${backend})`, () => {
    let fx: CacheFixture;
    let store: DrizzleWarmStore;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "warm-store");
      store = createDrizzleWarmStore(fx.db.db);
    });
    afterAll(async () => fx?.close());
    beforeEach(async () => {
      await fx.db.db.delete(warmJobs);
      await fx.db.db.delete(warmProfiles);
      await fx.db.db.delete(scenarioMatrices);
    });

    /** Moves a job's timestamps into the past (the store stamps with the database clock). */
    const age = (id: string, interval: string) =>
      fx.db.db.execute(sql`UPDATE warm_jobs SET updated_at = now() - ${interval}::interval, created_at = now() - ${interval}::interval WHERE id = ${id}`);

    describe("live-job deduplication", () => {
      it("creates pending jobs and returns the existing live job for a key instead of a second one", async () => {
        const a = newJob({ seed: "a" });
        const b = newJob({ seed: "b" });

        const first = await store.createLive([a, b]);
        const second = await store.createLive([newJob({ seed: "a" }, "low", "someone-else"), newJob({ seed: "c" })]);

        expect(first.map((r) => [r.created, r.job.status, r.job.attempts])).toEqual([[true, "pending", 0], [true, "pending", 0]]);
        expect(second[0]).toMatchObject({ created: false, job: { id: first[0].job.id, priority: "high", requestedBy: "tester" } });
        expect(second[1].created).toBe(true);
        const [{ n }] = await fx.db.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(warmJobs);
        expect(n).toBe(3);
      });

      it("lets concurrent requests for the same keys create exactly one live job per key", async () => {
        const keys = Array.from({ length: 20 }, (_, i) => ({ seed: `race-${i}` }));

        const results = await Promise.all(Array.from({ length: 6 }, () => store.createLive(keys.map((k) => newJob(k)))));

        for (let k = 0; k < keys.length; k++) {
          const forKey = results.map((r) => r[k]);
          expect(forKey.filter((r) => r.created)).toHaveLength(1);
          expect(new Set(forKey.map((r) => r.job.id)).size).toBe(1);
        }
        const live = await store.listLive(1000);
        expect(live).toHaveLength(keys.length);
      });

      it("creates a new job for a key whose previous job finished, and records cached requests beside a live job", async () => {
        const [{ job }] = await store.createLive([newJob({ seed: "again" })]);
        await store.start(job.id);
        await store.complete(job.id);

        const [again] = await store.createLive([newJob({ seed: "again" })]);
        const [cachedRecord] = await store.recordComplete([newJob({ seed: "again" })]);

        expect(again.created).toBe(true);
        expect(again.job.id).not.toBe(job.id);
        expect(cachedRecord).toMatchObject({ status: "complete", attempts: 0, matrixKey: job.matrixKey });
        expect(cachedRecord.completedAt).toBeInstanceOf(Date);
      });
    });

    describe("job lifecycle", () => {
      it("starts a job (attempts + 1 per delivery), completes it, and reports a redelivery as already complete", async () => {
        const [{ job }] = await store.createLive([newJob({ seed: "life" })]);

        const s1 = await store.start(job.id);
        const s2 = await store.start(job.id); // redelivery while processing (visibility timeout)
        await store.complete(job.id);
        const s3 = await store.start(job.id);
        const done = await store.get(job.id);

        expect(s1).toMatchObject({ kind: "started", job: { status: "processing", attempts: 1 } });
        expect(s2).toMatchObject({ kind: "started", job: { attempts: 2 } });
        expect(s3).toMatchObject({ kind: "already-complete" });
        expect(done).toMatchObject({ status: "complete", attempts: 2, error: null });
        expect(done!.startedAt).toBeInstanceOf(Date);
        expect(done!.completedAt!.getTime()).toBeGreaterThanOrEqual(done!.startedAt!.getTime());
      });

      it("puts a retried job back to pending (still live) and never fails or retries a complete job", async () => {
        const [{ job: a }, { job: b }] = await store.createLive([newJob({ seed: "r1" }), newJob({ seed: "r2" })]);
        await store.start(a.id);
        await store.retry(a.id, "boom");
        const retried = await store.get(a.id);
        const dup = await store.createLive([newJob({ seed: "r1" })]);

        await store.start(b.id);
        await store.complete(b.id);
        await store.fail([b.id], "late failure");
        await store.retry(b.id, "late retry");

        expect(retried).toMatchObject({ status: "pending", error: "boom", attempts: 1 });
        expect(dup[0]).toMatchObject({ created: false, job: { id: a.id } });
        expect(await store.get(b.id)).toMatchObject({ status: "complete", error: null });
      });

      it("restarts a failed job on redelivery unless another live job owns its key (then: superseded)", async () => {
        const [{ job }] = await store.createLive([newJob({ seed: "redrive" })]);
        await store.fail([job.id], "enqueue failed");
        const restarted = await store.start(job.id);
        await store.fail([job.id], "gave up");
        const [{ job: other }] = await store.createLive([newJob({ seed: "redrive" })]);

        const superseded = await store.start(job.id);
        const missing = await store.start("00000000-0000-4000-8000-000000000000");

        expect(restarted).toMatchObject({ kind: "started", job: { status: "processing" } });
        expect(superseded).toMatchObject({ kind: "superseded", job: { status: "failed" } });
        expect(missing).toEqual({ kind: "missing" });
        expect(await store.get(other.id)).toMatchObject({ status: "pending" });
      });

      it("lists newest first by status and priority, and live jobs oldest first", async () => {
        const rows = await store.createLive([newJob({ seed: "l1" }, "high"), newJob({ seed: "l2" }, "low"), newJob({ seed: "l3" }, "low")]);
        await age(rows[0].job.id, "3 minutes");
        await age(rows[1].job.id, "2 minutes");
        await age(rows[2].job.id, "1 minute");
        await store.start(rows[2].job.id);
        await store.complete(rows[2].job.id);

        const all = await store.list({ limit: 10 });
        const low = await store.list({ priority: "low", limit: 10 });
        const complete = await store.list({ status: "complete", limit: 10 });
        const limited = await store.list({ limit: 1 });
        const live = await store.listLive(10);

        expect(all.map((j) => j.id)).toEqual([rows[2].job.id, rows[1].job.id, rows[0].job.id]);
        expect(low.map((j) => j.id)).toEqual([rows[2].job.id, rows[1].job.id]);
        expect(complete.map((j) => j.id)).toEqual([rows[2].job.id]);
        expect(limited).toHaveLength(1);
        expect(live.map((j) => j.id)).toEqual([rows[0].job.id, rows[1].job.id]);
      });

      it("fails live jobs without progress past the cut-offs and purges old finished jobs", async () => {
        const rows = await store.createLive([newJob({ seed: "s1" }), newJob({ seed: "s2" }), newJob({ seed: "s3" }), newJob({ seed: "s4" })]);
        const [stalePending, freshPending, staleProcessing, oldDone] = rows.map((r) => r.job.id);
        await store.start(staleProcessing);
        await store.start(oldDone);
        await store.complete(oldDone);
        await age(stalePending, "2 days");
        await age(staleProcessing, "2 hours");
        await age(oldDone, "40 days");

        const now = Date.now();
        const failed = await store.failStale({ pendingBefore: new Date(now - 24 * 3600_000), processingBefore: new Date(now - 30 * 60_000) });
        const purged = await store.purgeFinished(new Date(now - 30 * 24 * 3600_000));

        expect(failed).toBe(2);
        expect(await store.get(stalePending)).toMatchObject({ status: "failed", error: expect.stringMatching(/^stale: no progress since/) });
        expect(await store.get(staleProcessing)).toMatchObject({ status: "failed" });
        expect(await store.get(freshPending)).toMatchObject({ status: "pending" });
        expect(purged).toBe(1);
        expect(await store.get(oldDone)).toBeNull();
      });

      it("reads dead letters as jobs that failed on a receive, not jobs that never reached a consumer", async () => {
        const rows = await store.createLive([newJob({ seed: "d1" }), newJob({ seed: "d2" })]);
        await store.start(rows[0].job.id);
        await store.fail([rows[0].job.id], "generator exploded (receive 5 of 5)");
        await store.fail([rows[1].job.id], "enqueue failed: throttled");

        const letters = await createFailedJobsDeadLetters(fx.db.db).list(10);

        expect(letters).toEqual([
          expect.objectContaining({ jobId: rows[0].job.id, receiveCount: 1, error: "generator exploded (receive 5 of 5)", priority: "high" }),
        ]);
      });
    });

    describe("profiles", () => {
      it("creates, lists oldest first, refuses a taken name and deletes", async () => {
        const base = { fundId: "f1", taxonomyVersion: "v1", priority: "low" as const, config: { seed: "p" }, createdBy: "admin" };
        const a = await store.profiles.create({ ...base, name: "alpha" });
        const b = await store.profiles.create({ ...base, name: "beta" });
        const dup = await store.profiles.create({ ...base, name: "alpha", fundId: "other" });

        const listed = await store.profiles.list();
        const deleted = await store.profiles.delete(a!.id);
        const deletedAgain = await store.profiles.delete(a!.id);

        expect(dup).toBeNull();
        expect(listed.map((p) => p.name)).toEqual(["alpha", "beta"]);
        expect(listed[0]).toMatchObject({ fundId: "f1", config: { seed: "p" }, createdBy: "admin" });
        expect(deleted).toBe(true);
        expect(deletedAgain).toBe(false);
        expect((await store.profiles.list()).map((p) => p.id)).toEqual([b!.id]);
      });
    });

    describe("signals", () => {
      it("reports no throughput before anything was generated, then the measured cells per second", async () => {
        const before = await store.signals.throughput(50);
        const cache = fx.cache();
        const generated = [];
        for (const seed of ["t1", "t2", "t3"]) generated.push(await cache.get(config({ seed, numScenarios: 2000 })));
        const after = await store.signals.throughput(50);

        const cells = generated.reduce((n, g) => n + g.matrix.rows * g.matrix.cols, 0);
        const ms = generated.reduce((n, g) => n + g.meta.generationMs, 0);
        expect(before).toEqual({ cellsPerSecond: null, generationSamples: 0, perJobOverheadMs: null, jobSamples: 0 });
        expect(after.generationSamples).toBe(3);
        expect(after.cellsPerSecond).toBeCloseTo((cells / ms) * 1000, 0);
        expect(after.perJobOverheadMs).toBeNull(); // no warm job has run yet
      });

      it("measures per-job overhead from completed jobs' wall time beyond their generation", async () => {
        const cache = fx.cache();
        const c = config({ seed: "overhead", numScenarios: 1000 });
        await cache.get(c);
        const [{ job }] = await store.createLive([newJob({ seed: "overhead", numScenarios: 1000 })]);
        await store.start(job.id);
        await store.complete(job.id);
        // a fixed wall time, so the figure does not depend on how busy the machine is
        await fx.db.db.execute(sql`UPDATE warm_jobs SET completed_at = started_at + interval '250 milliseconds' WHERE id = ${job.id}`);

        const t = await store.signals.throughput(50);

        expect(t.jobSamples).toBe(1);
        // 250 ms of wall time minus the time its 3,000 cells take at the measured speed
        expect(t.perJobOverheadMs!).toBeCloseTo(250 - (3000 / t.cellsPerSecond!) * 1000, 6);
        expect(t.perJobOverheadMs!).toBeLessThan(250);
      });

      it("sums live jobs and their cells per lane", async () => {
        await store.createLive([newJob({ seed: "b1", numScenarios: 100 }, "high"), newJob({ seed: "b2", numScenarios: 300 }, "high"), newJob({ seed: "b3", numScenarios: 50 }, "low")]);
        const [{ job: done }] = await store.createLive([newJob({ seed: "b4", numScenarios: 1000 }, "low")]);
        await store.start(done.id);
        await store.complete(done.id);

        const backlog = await store.signals.backlog();

        expect(backlog).toEqual({ high: { jobs: 2, cells: (100 + 300) * 3 }, low: { jobs: 1, cells: 50 * 3 } });
      });

      it("finds invalidated rows served within the window, most recently served first", async () => {
        const cache = fx.cache();
        for (const seed of ["recent-a", "recent-b", "old", "still-cached"]) await cache.get(config({ seed }));
        const keyOf = async (seed: string) => (await cache.get(config({ seed }))).matrixKey;
        const [a, b, old, cached] = [await keyOf("recent-a"), await keyOf("recent-b"), await keyOf("old"), await keyOf("still-cached")];
        for (const k of [a, b, old]) await fx.durable.invalidate({ kind: "matrix", matrixKey: k }, { mode: "soft", dryRun: false });
        await fx.db.db.execute(sql`UPDATE scenario_matrices SET last_hit_at = now() - interval '1 hour' WHERE matrix_key = ${a}`);
        await fx.db.db.execute(sql`UPDATE scenario_matrices SET last_hit_at = now() - interval '2 hours' WHERE matrix_key = ${b}`);
        await fx.db.db.execute(sql`UPDATE scenario_matrices SET last_hit_at = now() - interval '8 days' WHERE matrix_key = ${old}`);

        const found = await store.signals.recentlyRequestedUncached({ since: new Date(Date.now() - 7 * 24 * 3600_000), limit: 10 });
        const limited = await store.signals.recentlyRequestedUncached({ since: new Date(Date.now() - 7 * 24 * 3600_000), limit: 1 });

        expect(found.map((r) => r.matrixKey)).toEqual([a, b]);
        expect(found.map((r) => r.matrixKey)).not.toContain(cached);
        expect(found[0].config).toMatchObject({ seed: "recent-a", fundId: "fund-1" });
        expect(limited.map((r) => r.matrixKey)).toEqual([a]);
      });
    });
  });
}
