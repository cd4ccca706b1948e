// The scheduled-warm handler with EventBridge event shapes, over the embedded stores and the real servers:
// profiles first, then recently served keys that were invalidated, at low priority, within a budget.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createDrizzleWarmStore, type DrizzleWarmStore } from "../adapters/jobs-drizzle";
import { cacheAuditLog } from "../core/audit/audit.sql";
import { scenarioMatrices } from "../core/cache/matrices.sql";
import { matrixKey, ScenarioConfig } from "../core/scenario";
import { silentLog } from "../core/shared/log";
import { loadWarmSettings } from "../core/warming";
import { warmJobs, warmProfiles } from "../core/warming/warming.sql";
import { createScheduledWarmHandler, createWarming } from "../functions/shared/warming";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";
import { recordingQueue, scheduledEvent } from "./helpers/warm";

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`scheduled warming (${backend})`, () => {
    let fx: CacheFixture;
    let store: DrizzleWarmStore;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "scheduled");
      store = createDrizzleWarmStore(fx.db.db);
    });
    afterAll(async () => fx?.close());
    beforeEach(async () => {
      for (const t of [warmJobs, warmProfiles, scenarioMatrices, cacheAuditLog]) await fx.db.db.delete(t);
      await fx.hot.invalidate({ kind: "all" }, { dryRun: false });
    });

    const handlerWith = (budget: number) => {
      const queue = recordingQueue();
      const settings = loadWarmSettings({ WARM_SCHEDULE_BUDGET: String(budget) });
      const { service } = createWarming({ runtime: { db: fx.db, cache: fx.cache(), log: silentLog }, settings, queue, store });
      return { handler: createScheduledWarmHandler({ service, settings, log: silentLog }), queue };
    };

    const profile = (name: string, seed: string, createdBy = "admin") =>
      store.profiles.create({ name, fundId: "fund-s", taxonomyVersion: "v1", priority: "high", config: { numScenarios: 300, seed }, createdBy });
    const profileKey = (seed: string) => matrixKey({ ...ScenarioConfig.parse({ numScenarios: 300, seed }), fundId: "fund-s", taxonomyVersion: "v1" });

    /** A key that was generated, served `hoursAgo`, then soft-invalidated. */
    async function servedThenInvalidated(seed: string, hoursAgo: number) {
      const c = config({ seed, fundId: "fund-r" });
      const { matrixKey: key } = await fx.cache().get(c);
      await fx.durable.invalidate({ kind: "matrix", matrixKey: key }, { mode: "soft", dryRun: false });
      await fx.db.db.execute(sql`UPDATE scenario_matrices SET last_hit_at = now() - ${`${hoursAgo} hours`}::interval WHERE matrix_key = ${key}`);
      return key;
    }

    it("enqueues profiles, then recently served invalidated keys, at low priority and within the budget", async () => {
      await profile("cached", "p-cached");
      await profile("cold", "p-cold");
      await fx.cache().get({ ...ScenarioConfig.parse({ numScenarios: 300, seed: "p-cached" }), fundId: "fund-s", taxonomyVersion: "v1" });
      const recent = await servedThenInvalidated("r-recent", 1);
      const older = await servedThenInvalidated("r-older", 30);
      await servedThenInvalidated("r-oldest", 50);
      await servedThenInvalidated("r-outside-window", 24 * 8);
      const { handler, queue } = handlerWith(3);

      const summary = await handler(scheduledEvent());

      expect(queue.sent.map((m) => m.matrixKey)).toEqual([profileKey("p-cold"), recent, older]);
      expect(queue.sent.every((m) => m.priority === "low" && m.requestedBy === "scheduled-warm")).toBe(true);
      expect(summary).toMatchObject({ budget: 3, scheduled: 3, profiles: 2, popular: 3, alreadyCached: 1, overBudget: 1, invalid: 0 });
      const { entries } = await createDrizzleAuditStore(fx.db.db).list({ limit: 5 });
      expect(entries[0]).toMatchObject({ actor: "scheduled-warm", action: "warm", scope: "scheduled", mode: "low" });
    });

    it("does not enqueue a key twice across runs while its job is live", async () => {
      await profile("one", "p-one");
      const { handler, queue } = handlerWith(10);

      const first = await handler(scheduledEvent());
      const second = await handler(scheduledEvent());

      expect(first.scheduled).toBe(1);
      expect(second).toMatchObject({ scheduled: 0, alreadyQueued: 1 });
      expect(queue.sent).toHaveLength(1);
    });

    it("accepts EventBridge Scheduler's default payload ({}) and a budget override in detail", async () => {
      for (const seed of ["b1", "b2", "b3"]) await profile(seed, seed);
      const { handler } = handlerWith(10);

      const scheduler = await handler({});
      await fx.db.db.delete(warmJobs);
      const manual = await handler(scheduledEvent({ budget: 1 }));

      expect(scheduler).toMatchObject({ budget: 10, scheduled: 3 });
      expect(manual).toMatchObject({ budget: 1, scheduled: 1, overBudget: 2 });
    });

    it("skips a stored config that no longer validates and warms the rest", async () => {
      await profile("good", "p-good");
      await fx.db.db.insert(warmProfiles).values({ name: "broken", fundId: "fund-s", taxonomyVersion: "v1", config: { numScenarios: -5 }, createdBy: "admin" });
      const { handler, queue } = handlerWith(10);

      const summary = await handler(scheduledEvent());

      expect(summary).toMatchObject({ scheduled: 1, invalid: 1, profiles: 1 });
      expect(queue.sent.map((m) => m.matrixKey)).toEqual([profileKey("p-good")]);
    });
  });
}
