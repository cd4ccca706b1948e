// The maintenance handler (a scheduled Lambda) over the embedded stores and the real servers: durable
// eviction to budget, cleanup of dead rows, stale warm jobs failed, old finished jobs purged.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleWarmStore, type DrizzleWarmStore } from "../adapters/jobs-drizzle";
import { scenarioMatrices } from "../core/cache/matrices.sql";
import { silentLog } from "../core/shared/log";
import { loadWarmSettings } from "../core/warming";
import { warmJobs } from "../core/warming/warming.sql";
import { createMaintenanceHandler } from "../functions/shared/warming";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";
import { newJob, scheduledEvent } from "./helpers/warm";

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`maintenance (${backend})`, () => {
    let fx: CacheFixture;
    let store: DrizzleWarmStore;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "maintenance");
      store = createDrizzleWarmStore(fx.db.db);
    });
    afterAll(async () => fx?.close());
    beforeEach(async () => {
      await fx.db.db.delete(warmJobs);
      await fx.db.db.delete(scenarioMatrices);
    });

    it("evicts least recently hit matrices to budget, deletes old dead rows and tidies the job table", async () => {
      const cache = fx.cache();
      const [old, recent, dead] = await Promise.all(["m-old", "m-recent", "m-dead"].map((seed) => cache.get(config({ seed, numScenarios: 1000 }))));
      await fx.db.db.execute(sql`UPDATE scenario_matrices SET last_hit_at = now() - interval '3 days' WHERE matrix_key = ${old.matrixKey}`);
      await fx.durable.invalidate({ kind: "matrix", matrixKey: dead.matrixKey }, { mode: "soft", dryRun: false });
      await fx.db.db.execute(sql`UPDATE scenario_matrices SET updated_at = now() - interval '2 days' WHERE matrix_key = ${dead.matrixKey}`);
      const [{ job: stale }] = await store.createLive([newJob({ seed: "j-stale" })]);
      await fx.db.db.execute(sql`UPDATE warm_jobs SET updated_at = now() - interval '2 days' WHERE id = ${stale.id}`);
      const [finished] = await store.recordComplete([newJob({ seed: "j-done" })]);
      await fx.db.db.execute(sql`UPDATE warm_jobs SET updated_at = now() - interval '60 days' WHERE id = ${finished.id}`);
      const { totalSizeBytes } = await fx.durable.storage();
      const oneMatrix = totalSizeBytes / 2; // the two complete rows are the same size
      const handler = createMaintenanceHandler({
        durable: fx.durable,
        store,
        settings: loadWarmSettings({ DURABLE_MAX_BYTES: String(Math.ceil(oneMatrix)), DURABLE_CLEANUP_AFTER_HOURS: "24", WARM_STALE_PENDING_HOURS: "24", WARM_JOB_RETENTION_DAYS: "30" }),
        log: silentLog,
      });

      const r = await handler(scheduledEvent());

      expect(r).toMatchObject({ evicted: { rows: 1, bytes: oneMatrix }, cleanedUp: { rows: 1 }, staleJobsFailed: 1, jobsPurged: 1 });
      expect(await fx.durable.status(old.matrixKey)).toBeNull();
      expect(await fx.durable.status(recent.matrixKey)).toMatchObject({ status: "complete" });
      expect(await fx.durable.status(dead.matrixKey)).toBeNull();
      expect(await store.get(stale.id)).toMatchObject({ status: "failed" });
      expect(await store.get(finished.id)).toBeNull();
    });

    it("runs every step even when one fails, then fails the invocation", async () => {
      const [{ job: stale }] = await store.createLive([newJob({ seed: "j-stale-2" })]);
      await fx.db.db.execute(sql`UPDATE warm_jobs SET updated_at = now() - interval '2 days' WHERE id = ${stale.id}`);
      const broken = { ...fx.durable, evictToBudget: async () => Promise.reject(new Error("statement timeout")) };
      const handler = createMaintenanceHandler({ durable: broken, store, settings: loadWarmSettings({}), log: silentLog });

      await expect(handler({})).rejects.toThrow(/1 step\(s\) failed/);

      expect(await store.get(stale.id)).toMatchObject({ status: "failed" });
    });
  });
}
