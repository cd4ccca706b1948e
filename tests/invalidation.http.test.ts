// POST /api/cache/invalidate and GET /api/cache/audit through the HTTP kernel (auth, validation, error
// bodies), over the embedded stores and the real servers; plus the routes on the local server's app.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import type { AuditStore } from "../core/audit";
import { cacheAuditLog } from "../core/audit/audit.sql";
import type { DurableStore, HotStore } from "../core/cache";
import { matrixKey, type ScenarioConfigWithMeta } from "../core/scenario";
import { silentLog } from "../core/shared/log";
import { createApp, type ApiToken, type App } from "../functions/http/kernel";
import { auditRoutes } from "../functions/http/routes/audit";
import { invalidateRoutes } from "../functions/http/routes/invalidate";
import { createLocalApp } from "../functions/local/app";
import { createRuntime } from "../functions/shared/runtime";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";

const TOKENS: ApiToken[] = [
  { actor: "alice", role: "admin", token: "tok-admin-alice" },
  { actor: "rita", role: "read", token: "tok-read-rita" },
];
const ADMIN = "tok-admin-alice";
const READER = "tok-read-rita";

const cfgA = [1, 2].map((i) => config({ fundId: "fund-a", numScenarios: 50, seed: `a${i}` }));
const cfgB = [config({ fundId: "fund-b", numScenarios: 50, seed: "b1" })];
const ALL = [...cfgA, ...cfgB];

interface Overrides {
  hot?: Pick<HotStore, "invalidate">;
  durable?: Pick<DurableStore, "invalidate">;
  audit?: Pick<AuditStore, "append">;
}

// Response bodies are checked field by field below; `any` keeps those checks readable.
const json = async (res: Response): Promise<any> => res.json();

function post(app: App, body: unknown, token?: string, raw = false) {
  return app.request("/api/cache/invalidate", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ? (body as string) : JSON.stringify(body),
  });
}

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`POST /api/cache/invalidate (${backend})`, () => {
    let fx: CacheFixture;
    let audit: AuditStore;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "inval-http");
      audit = createDrizzleAuditStore(fx.db.db);
    });
    afterAll(async () => fx?.close());
    beforeEach(async () => {
      await fx.durable.invalidate({ kind: "all" }, { mode: "hard", dryRun: false });
      await fx.hot.invalidate({ kind: "all" }, { dryRun: false });
      await fx.db.db.delete(cacheAuditLog); // each test counts its own audit records
      const cache = fx.cache({ options: { hotTimeoutMs: 5_000 } }); // seeding must reach the hot tier under load
      for (const c of ALL) await cache.get(c);
    });

    const appWith = (o: Overrides = {}) => {
      const auth = { tokens: TOKENS, deployed: false };
      const app = createApp({ auth, log: silentLog });
      invalidateRoutes(app, { auth, hot: o.hot ?? fx.hot, durable: o.durable ?? fx.durable, audit: o.audit ?? audit });
      auditRoutes(app, { auth, audit });
      return app;
    };
    /** Every seeded entry still in both tiers, and the audit trail as long as expected. */
    async function expectUnchanged(auditRows: number) {
      for (const c of ALL) {
        expect((await fx.hot.read(matrixKey(c), c.fundId)).value).not.toBeNull();
        expect((await fx.durable.status(matrixKey(c)))?.status).toBe("complete");
      }
      expect((await audit.list({ limit: 100 })).entries).toHaveLength(auditRows);
    }
    const auditCount = async () => (await audit.list({ limit: 100 })).entries.length;
    const inTiers = async (c: ScenarioConfigWithMeta) => ({
      hot: (await fx.hot.read(matrixKey(c), c.fundId)).value !== null,
      durable: (await fx.durable.status(matrixKey(c)))?.status ?? null,
    });

    it("an admin invalidates a fund: 200 with the plan's fields, the audit id and the actor from the token", async () => {
      const res = await post(appWith(), { scope: "fund", fundId: "fund-a", reason: "recalibrated" }, ADMIN);

      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({
        scope: "fund",
        fundId: "fund-a",
        mode: "soft",
        dryRun: false,
        invalidated: { redis: 2, postgres: 2 },
        errors: [],
        auditLog: { user: "alice", reason: "recalibrated" },
      });
      expect(typeof body.duration).toBe("number");
      expect(body.auditLog.id).toMatch(/^[0-9a-f-]{36}$/);
      for (const c of cfgA) expect(await inTiers(c)).toEqual({ hot: false, durable: "invalidated" });
      expect(await inTiers(cfgB[0])).toEqual({ hot: true, durable: "complete" });

      const listed = await appWith().request("/api/cache/audit?fundId=fund-a", { headers: { authorization: `Bearer ${READER}` } });
      expect(listed.status).toBe(200);
      const page = await json(listed);
      expect(page.entries[0]).toMatchObject({ id: body.auditLog.id, actor: "alice", scope: "fund", counts: { redis: 2, postgres: 2 } });
    });

    it("hard-deletes one matrix and dry-runs everything, each audited", async () => {
      const app = appWith();
      const dry = await json(await post(app, { scope: "all", mode: "hard", dryRun: true }, ADMIN));
      expect(dry).toMatchObject({ dryRun: true, mode: "hard", invalidated: { redis: 3, postgres: 3 } });
      await expectUnchanged(1);

      const one = await post(app, { scope: "matrix", matrixKey: matrixKey(cfgB[0]), mode: "hard" }, ADMIN);
      expect(one.status).toBe(200);
      expect((await json(one)).invalidated).toEqual({ redis: 1, postgres: 1 });
      expect(await inTiers(cfgB[0])).toEqual({ hot: false, durable: null });
      expect(await auditCount()).toBe(2);
    });

    it("a read-role token gets 403 and an absent or unknown token 401; nothing changes and nothing is audited", async () => {
      const app = appWith();
      const body = { scope: "all", mode: "hard" };
      const forbidden = await post(app, body, READER);
      expect(forbidden.status).toBe(403);
      expect((await json(forbidden)).error.code).toBe("forbidden");
      expect((await post(app, body)).status).toBe(401);
      expect((await post(app, body, "tok-nobody")).status).toBe(401);
      await expectUnchanged(0);
    });

    const bad: [string, unknown, string][] = [
      ["fund scope without fundId", { scope: "fund" }, "fundId"],
      ["matrix scope without matrixKey", { scope: "matrix" }, "matrixKey"],
      ["a matrix key that is not 64 lowercase hex", { scope: "matrix", matrixKey: "ABC" }, "matrixKey"],
      ["a fund id with forbidden characters", { scope: "fund", fundId: "fund a*" }, "fundId"],
      ["fundId with the all scope", { scope: "all", fundId: "fund-a" }, "fundId"],
      ["an unknown scope", { scope: "everything" }, "scope"],
      ["an unknown mode", { scope: "all", mode: "purge" }, "mode"],
      ["dryRun as a string", { scope: "all", dryRun: "yes" }, "dryRun"],
      ["a misspelt field", { scope: "all", dryrun: true }, "body"],
      ["an array body", [{ scope: "all" }], "body"],
      ["a reason with a NUL byte (PostgreSQL text cannot store it)", { scope: "all", reason: "a\u0000b" }, "reason"],
    ];
    for (const [what, body, field] of bad) {
      it(`400 naming ${field} for ${what}; nothing changes`, async () => {
        const res = await post(appWith(), body, ADMIN);
        expect(res.status).toBe(400);
        const err = (await json(res)).error;
        expect(err.code).toBe("validation_error");
        expect(err.details[0].path).toBe(field);
        await expectUnchanged(0);
      });
    }

    it("400 for malformed JSON and for an empty body; nothing changes", async () => {
      const app = appWith();
      const malformed = await post(app, "{scope:", ADMIN, true);
      expect(malformed.status).toBe(400);
      expect((await json(malformed)).error.code).toBe("malformed_json");
      expect((await post(app, "", ADMIN, true)).status).toBe(400);
      await expectUnchanged(0);
    });

    it("hot tier down: 503 with the error object, the partial counts and the id of the audit record of the failure", async () => {
      const app = appWith({ hot: { invalidate: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")) } });
      const res = await post(app, { scope: "fund", fundId: "fund-a" }, ADMIN);

      expect(res.status).toBe(503);
      const body = await json(res);
      expect(body.error).toMatchObject({ code: "invalidation_incomplete", details: [{ path: "redis", message: "connect ECONNREFUSED 127.0.0.1:6379" }] });
      expect(body.error.message).toMatch(/redis tier could not be invalidated.*Retry/);
      expect(body.invalidated).toEqual({ redis: null, postgres: 2 });
      const [entry] = (await audit.list({ limit: 1 })).entries;
      expect(entry).toMatchObject({ id: body.auditLog.id, counts: { redis: null, postgres: 2 }, errors: [{ tier: "redis" }] });
    });

    it("audit write fails: 503 audit_write_failed saying the invalidation was applied but not audited", async () => {
      const app = appWith({ audit: { append: () => Promise.reject(new Error("too many connections")) } });
      const res = await post(app, { scope: "fund", fundId: "fund-a" }, ADMIN);

      expect(res.status).toBe(503);
      const err = (await json(res)).error;
      expect(err.code).toBe("audit_write_failed");
      expect(err.message).toMatch(/applied \(postgres: 2, redis: 2\) but its audit record could not be written \(too many connections\)/);
      for (const c of cfgA) expect(await inTiers(c)).toEqual({ hot: false, durable: "invalidated" });
    });
  });
}

describe("invalidation on the local server's app", () => {
  it("mounts POST /api/cache/invalidate and GET /api/cache/audit, documented in the OpenAPI", async () => {
    const runtime = await createRuntime({ pgliteDir: "memory://", migrate: true, log: silentLog });
    try {
      const app = createLocalApp({ runtime, auth: { tokens: [], deployed: false } });
      const cfg = config({ fundId: "fund-local", numScenarios: 50 });
      await runtime.cache.get(cfg);

      const res = await post(app, { scope: "fund", fundId: "fund-local", reason: "local" });
      expect(res.status).toBe(200);
      expect((await json(res)).invalidated).toEqual({ redis: 1, postgres: 1 });
      const page = await json(await app.request("/api/cache/audit"));
      expect(page.entries[0]).toMatchObject({ actor: "local-anonymous", fundId: "fund-local", reason: "local" });
      const doc = await json(await app.request("/api/openapi.json"));
      expect(doc.paths["/api/cache/invalidate"].post["x-required-role"]).toBe("admin");
      expect(doc.paths["/api/cache/audit"].get["x-required-role"]).toBe("read");
    } finally {
      await runtime.close();
    }
  });
});
