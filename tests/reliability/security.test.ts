// Every admin route refuses missing, malformed and wrong-role tokens; every read route refuses missing
// and unknown ones; ids can only address keys under the cache's own Redis prefix.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLog } from "../../core/shared/log";
import type { App } from "../../functions/http/kernel";
import { allRouteDocs } from "../../functions/http/routes";
import { createLocalApp } from "../../functions/local/app";
import { createLocalWarming, type LocalWarming } from "../../functions/local/warming";
import { createRuntime, type Runtime } from "../../functions/shared/runtime";
import { realTargets } from "../helpers/cache-fixture";
import { uniquePrefix } from "../helpers/services";

const auth = {
  deployed: false,
  tokens: [
    { actor: "reader", role: "read" as const, token: "read-tok" },
    { actor: "ops", role: "admin" as const, token: "admin-tok" },
  ],
};
const concrete = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "00000000-0000-4000-8000-000000000000");

describe("route authorisation", () => {
  let rt: Runtime;
  let warming: LocalWarming;
  let app: App;
  beforeAll(async () => {
    rt = await createRuntime({ pgliteDir: "memory://", migrate: true, log: silentLog });
    warming = createLocalWarming(rt);
    app = createLocalApp({ runtime: rt, auth, warming });
  });
  afterAll(async () => {
    await warming?.close(1000);
    await rt?.close();
  });

  const protectedRoutes = allRouteDocs.filter((d) => d.role !== "public");
  it("documents a role for every route, admin for every state-changing admin operation", () => {
    const admin = protectedRoutes.filter((d) => d.role === "admin").map((d) => `${d.method} ${d.path}`);
    expect(admin).toEqual(expect.arrayContaining(["post /api/cache/invalidate", "post /api/cache/warm"]));
  });

  for (const doc of protectedRoutes) {
    const req = (authorization?: string) =>
      app.request(concrete(doc.path), {
        method: doc.method.toUpperCase(),
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        ...(doc.method === "get" ? {} : { body: "{}" }),
      });
    it(`${doc.method.toUpperCase()} ${doc.path} (${doc.role}) refuses missing, malformed and unknown tokens${doc.role === "admin" ? " and the read role" : ""}`, async () => {
      for (const h of [undefined, "Bearer", "Bearer ", "Basic cmVhZC10b2s=", "bearer read-tok x", "Bearer  admin-tok", "Bearer admin-tok extra", "Bearer nope"]) {
        const r = await req(h);
        expect(r.status, String(h)).toBe(401);
      }
      if (doc.role === "admin") expect((await req("Bearer read-tok")).status).toBe(403);
      else expect((await req("Bearer read-tok")).status).not.toBe(401);
    });
  }
});

const targets = await realTargets();
describe.skipIf(!targets.redis.available)("ids stay inside the cache's Redis prefix", () => {
  let rt: Runtime;
  let warming: LocalWarming;
  let app: App;
  let raw: Redis;
  const prefix = uniquePrefix("sec");
  beforeAll(async () => {
    rt = await createRuntime({ pgliteDir: "memory://", redisUrl: targets.redis.url, hotPrefix: prefix, migrate: true, log: silentLog });
    warming = createLocalWarming(rt);
    app = createLocalApp({ runtime: rt, auth: { deployed: false, tokens: [] }, warming });
    raw = new Redis(targets.redis.url);
    await raw.set("victim:key", "untouched");
  });
  afterAll(async () => {
    await raw?.del("victim:key");
    raw?.disconnect();
    await warming?.close(1000);
    await rt?.close();
  });

  it("rejects glob and separator characters in ids and never touches keys outside the prefix", async () => {
    const victimKeys = async () => {
      const keys = new Set<string>();
      let cursor = "0";
      do {
        const [next, batch] = await raw.scan(cursor, "MATCH", "*victim*", "COUNT", 1000);
        cursor = next;
        for (const k of batch) keys.add(k);
      } while (cursor !== "0");
      return keys;
    };
    const before = await victimKeys();
    const post = (path: string, body: unknown) =>
      app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    for (const fundId of ["*", "victim:*", "../victim", "fund 1", "a\r\nFLUSHALL", "{victim}", "[a-z]*"]) {
      expect((await post("/api/cache/invalidate", { scope: "fund", fundId })).status).toBe(400);
      expect((await post("/api/monte-carlo/simulate", { fundId, runs: 10 })).status).toBe(400);
    }
    expect((await post("/api/cache/invalidate", { scope: "matrix", matrixKey: "*" })).status).toBe(400);
    // legal ids with ':' still land under the prefix
    expect((await post("/api/monte-carlo/simulate", { fundId: "victim:key", runs: 10 })).status).toBe(200);
    expect((await post("/api/cache/invalidate", { scope: "fund", fundId: "victim:key" })).status).toBe(200);
    expect((await post("/api/cache/invalidate", { scope: "all" })).status).toBe(200);
    expect(await raw.get("victim:key")).toBe("untouched");
    const created = [...(await victimKeys())].filter((k) => !before.has(k));
    expect(created.length).toBeGreaterThan(0); // the legal 'victim:key' fund did write (under the prefix)
    expect(created.filter((k) => !k.startsWith(prefix))).toEqual([]);
  });
});
