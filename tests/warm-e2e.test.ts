// Warming end to end through the local app (createLocalApp + app.request), over the embedded stores and the
// real servers: request → in-process queue → generator handler → both tiers → job complete → simulate hits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matrixKey, ScenarioConfig, type ScenarioConfigInput } from "../core/scenario";
import { silentLog } from "../core/shared/log";
import { loadWarmSettings, type WarmJobView, type WarmResponse } from "../core/warming";
import type { App } from "../functions/http/kernel";
import { createLocalApp } from "../functions/local/app";
import { createLocalWarming, type LocalWarming } from "../functions/local/warming";
import { createRuntime, type Runtime } from "../functions/shared/runtime";
import { freshPostgresDatabase, uniquePrefix } from "./helpers/services";
import { realTargets, type Backend } from "./helpers/cache-fixture";
import { waitFor } from "./helpers/warm";

const ADMIN = "e2e-admin-token";
const READER = "e2e-read-token";
const auth = {
  deployed: false,
  tokens: [
    { actor: "ops-alice", role: "admin" as const, token: ADMIN },
    { actor: "viewer-bob", role: "read" as const, token: READER },
  ],
};
const SETTINGS = loadWarmSettings({ WARM_MAX_RECEIVE_COUNT: "2", WARM_LOCAL_RETRY_BASE_MS: "5", WARM_LOCAL_CONCURRENCY: "2" });

const cfg = (seed: string, numScenarios = 500): ScenarioConfigInput => ({
  numScenarios,
  buckets: [
    { name: "Seed", capitalAllocation: 60, moicCalibration: { median: 1.2, p90: 3.2 } },
    { name: "Growth", capitalAllocation: 40, moicCalibration: { median: 1.8, p90: 4.1 } },
  ],
  correlationWeights: { macro: 0.2, systematic: 0.3, idiosyncratic: 0.5 },
  recycling: { enabled: true, reinvestmentRate: 0.5, avgHoldingPeriod: 5, fundLifetime: 10 },
  seed,
});
/** The key computed independently of the service: the real matrixKey of (fundId, taxonomyVersion, config). */
const keyOf = (fundId: string, c: ScenarioConfigInput, taxonomyVersion = "tax-e2e") => matrixKey({ ...ScenarioConfig.parse(c), fundId, taxonomyVersion });

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`warming end to end (${backend})`, () => {
    let runtime: Runtime;
    let warming: LocalWarming;
    let app: App;
    let dropDb: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      if (backend === "real") {
        const fresh = await freshPostgresDatabase(targets.pg.url);
        dropDb = fresh.drop;
        runtime = await createRuntime({ databaseUrl: fresh.url, redisUrl: targets.redis.url, hotPrefix: uniquePrefix("warm-e2e"), migrate: true, log: silentLog });
      } else {
        runtime = await createRuntime({ pgliteDir: "memory://", migrate: true, log: silentLog });
      }
      warming = createLocalWarming(runtime, SETTINGS);
      app = createLocalApp({ runtime, auth, warming });
    });
    afterAll(async () => {
      await warming?.close(5_000);
      await runtime?.close();
      await dropDb?.();
    });

    const call = async (method: string, path: string, opts: { body?: unknown; token?: string | null } = {}) => {
      const token = opts.token === undefined ? ADMIN : opts.token;
      const res = await app.request(path, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const pollComplete = (jobId: string) =>
      waitFor(async () => {
        const { body } = await call("GET", `/api/cache/warm/jobs/${jobId}`, { token: READER });
        return body.status === "complete" || body.status === "failed" ? (body as WarmJobView) : undefined;
      });

    it("warms through the queue into both tiers; the job completes and the next simulate is a hit", async () => {
      const configs = [cfg("e2e-a"), cfg("e2e-b", 800)];

      const warm = await call("POST", "/api/cache/warm", { body: { fundIds: ["fund-x", "fund-y"], taxonomyVersion: "tax-e2e", priority: "high", configs } });

      expect(warm.status).toBe(202);
      const body = warm.body as WarmResponse;
      expect(body.scheduled).toBe(4);
      expect(body.jobs.map((j) => j.configHash)).toEqual([
        keyOf("fund-x", configs[0]),
        keyOf("fund-x", configs[1]),
        keyOf("fund-y", configs[0]),
        keyOf("fund-y", configs[1]),
      ]);
      expect(body.estimated.totalDurationMs).toBeGreaterThan(0);
      expect(Date.parse(body.estimated.completionTime)).toBeGreaterThan(Date.now() - 60_000);

      const done = await Promise.all(body.jobs.map((j) => pollComplete(j.jobId!)));
      expect(done.map((j) => [j.status, j.attempts, j.requestedBy])).toEqual(Array(4).fill(["complete", 1, "ops-alice"]));
      for (const j of body.jobs) {
        expect(await runtime.durable.status(j.configHash)).toMatchObject({ status: "complete" });
        expect((await runtime.hot.read(j.configHash, j.fundId)).value).not.toBeNull();
      }

      const sim = await call("POST", "/api/monte-carlo/simulate", { body: { fundId: "fund-y", taxonomyVersion: "tax-e2e", config: configs[1] }, token: READER });
      expect(sim.status).toBe(200);
      expect(sim.body.cache).toMatchObject({ hit: true, tier: "redis", matrixKey: keyOf("fund-y", configs[1]) });
      expect(sim.body.runs).toBe(800);
    });

    it("answers a repeated request from the cache: nothing scheduled, every job complete and pollable", async () => {
      const configs = [cfg("e2e-c")];
      const first = await call("POST", "/api/cache/warm", { body: { fundIds: ["fund-z"], taxonomyVersion: "tax-e2e", configs } });
      await pollComplete(first.body.jobs[0].jobId);

      const again = await call("POST", "/api/cache/warm", { body: { fundIds: ["fund-z"], taxonomyVersion: "tax-e2e", configs } });

      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ scheduled: 0, summary: { alreadyCached: 1 } });
      expect(again.body.jobs[0]).toMatchObject({ status: "complete", enqueued: false, configHash: keyOf("fund-z", configs[0]) });
      expect((await call("GET", `/api/cache/warm/jobs/${again.body.jobs[0].jobId}`, { token: READER })).body).toMatchObject({ status: "complete", attempts: 0 });
      expect(again.body.estimated).toMatchObject({ totalDurationMs: 0 });
    });

    it("lists jobs by status, newest first, and records the request in the audit trail", async () => {
      const listed = await call("GET", "/api/cache/warm/jobs?status=complete&limit=2", { token: READER });
      const audit = await call("GET", "/api/cache/audit?action=warm", { token: READER });

      expect(listed.status).toBe(200);
      expect(listed.body.count).toBe(2);
      expect(listed.body.jobs.every((j: WarmJobView) => j.status === "complete")).toBe(true);
      expect(Date.parse(listed.body.jobs[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(listed.body.jobs[1].createdAt));
      expect(audit.body.entries[0]).toMatchObject({ actor: "ops-alice", action: "warm", scope: "fund", fundId: "fund-z", mode: "high" });
    });

    it("rejects bad input with a 4xx naming the field, and enforces roles", async () => {
      const tooMany = await call("POST", "/api/cache/warm", { body: { fundIds: Array.from({ length: 20 }, (_, i) => `f${i}`), configs: Array.from({ length: 51 }, () => ({})) } });
      const badConfig = await call("POST", "/api/cache/warm", { body: { fundIds: ["f"], configs: [{ buckets: [{ name: "A", capitalAllocation: 100, moicCalibration: { median: 3, p90: 2 } }] }] } });
      const noFunds = await call("POST", "/api/cache/warm", { body: { fundIds: [], configs: [{}] } });
      const reader = await call("POST", "/api/cache/warm", { body: { fundIds: ["f"], configs: [{}] }, token: READER });
      const anonymous = await call("GET", "/api/cache/warm/jobs", { token: null });
      const badStatus = await call("GET", "/api/cache/warm/jobs?status=done", { token: READER });
      const notUuid = await call("GET", "/api/cache/warm/jobs/not-a-uuid", { token: READER });
      const unknown = await call("GET", "/api/cache/warm/jobs/7d3c5a0e-8f1b-4c2d-9e3f-0a1b2c3d4e5f", { token: READER });

      expect([tooMany.status, tooMany.body.error.details[0].path]).toEqual([400, "configs"]);
      expect(tooMany.body.error.message).toContain("1020 jobs exceeds 1000");
      expect([badConfig.status, badConfig.body.error.details[0].path]).toEqual([400, "configs.0.buckets.0.moicCalibration.p90"]);
      expect([noFunds.status, noFunds.body.error.details[0].path]).toEqual([400, "fundIds"]);
      expect(reader.status).toBe(403);
      expect(anonymous.status).toBe(401);
      expect([badStatus.status, badStatus.body.error.details[0].path]).toEqual([400, "status"]);
      expect([notUuid.status, notUuid.body.error.details[0].path]).toEqual([400, "jobId"]);
      expect([unknown.status, unknown.body.error.code]).toEqual([404, "not_found"]);
    });

    it("manages profiles: admin creates and deletes, a taken name is a 409, readers list", async () => {
      const profile = { name: "flagship-e2e", fundId: "fund-p", taxonomyVersion: "tax-e2e", config: cfg("profile") };

      const created = await call("POST", "/api/cache/warm/profiles", { body: profile });
      const taken = await call("POST", "/api/cache/warm/profiles", { body: profile });
      const byReader = await call("POST", "/api/cache/warm/profiles", { body: { ...profile, name: "other" }, token: READER });
      const listed = await call("GET", "/api/cache/warm/profiles", { token: READER });
      const badId = await call("DELETE", "/api/cache/warm/profiles/42");
      const deleted = await call("DELETE", `/api/cache/warm/profiles/${created.body.id}`);
      const again = await call("DELETE", `/api/cache/warm/profiles/${created.body.id}`);

      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: "flagship-e2e", priority: "low", createdBy: "ops-alice", configHash: keyOf("fund-p", profile.config) });
      expect([taken.status, taken.body.error.code, taken.body.error.details[0].path]).toEqual([409, "conflict", "name"]);
      expect(byReader.status).toBe(403);
      expect(listed.body.profiles.map((p: { name: string }) => p.name)).toContain("flagship-e2e");
      expect(badId.status).toBe(400);
      expect(deleted.body).toEqual({ deleted: true, id: created.body.id });
      expect(again.status).toBe(404);
    });

    it("shows a message that exhausted its receives in the dead-letter list", async () => {
      warming.queue.sendRaw("this is not a warm message", "low");
      await warming.queue.drain(10_000);

      const res = await call("GET", "/api/cache/warm/dead-letters", { token: READER });

      expect(res.status).toBe(200);
      expect(res.body.source).toBe("in-process-queue");
      expect(res.body.deadLetters[0]).toMatchObject({ priority: "low", receiveCount: 2 });
    });

    it("on start re-enqueues live jobs left by a previous process and pre-warms profiles when asked", async () => {
      const profileConfig = cfg("prewarm");
      await call("POST", "/api/cache/warm/profiles", { body: { name: "prewarm-e2e", fundId: "fund-q", taxonomyVersion: "tax-e2e", priority: "high", config: profileConfig } });
      const orphan = { ...ScenarioConfig.parse(cfg("orphan")), fundId: "fund-q", taxonomyVersion: "tax-e2e" };
      const [{ job }] = await warming.store.createLive([{ matrixKey: matrixKey(orphan), fundId: "fund-q", taxonomyVersion: "tax-e2e", priority: "low", config: orphan, requestedBy: "old-process" }]);
      const restarted = createLocalWarming(runtime, { ...SETTINGS, local: { ...SETTINGS.local, prewarmOnStart: true } });

      const started = await restarted.start();
      await restarted.close(10_000);

      expect(started).toEqual({ recovered: 1, prewarmed: 1 });
      expect((await call("GET", `/api/cache/warm/jobs/${job.id}`, { token: READER })).body).toMatchObject({ status: "complete" });
      expect(await runtime.cache.isCached(keyOf("fund-q", profileConfig))).toBe(true);
    });

    it("documents every warm route in the OpenAPI document", async () => {
      const doc = await call("GET", "/api/openapi.json", { token: null });

      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining(["/api/cache/warm", "/api/cache/warm/jobs", "/api/cache/warm/jobs/{jobId}", "/api/cache/warm/dead-letters", "/api/cache/warm/profiles", "/api/cache/warm/profiles/{id}"]),
      );
    });
  });
}
