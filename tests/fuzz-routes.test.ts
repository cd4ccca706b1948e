// Property-based fuzzing of every documented route's body, query and path (fast-check): no input
// yields a 5xx, and a rejected request changes nothing in any store.
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLog } from "../core/shared/log";
import { allRouteDocs } from "../functions/http/routes";
import type { RouteDoc } from "../functions/http/openapi";
import type { App } from "../functions/http/kernel";
import { createLocalApp } from "../functions/local/app";
import { createRuntime, type Runtime } from "../functions/shared/runtime";

const ADMIN = "fuzz-admin-token";
const auth = { deployed: false, tokens: [{ actor: "fuzzer", role: "admin" as const, token: ADMIN }] };

/** Valid bodies to mutate, so the fuzzer reaches deep validation rules and not only the first field. */
const EXAMPLES: Record<string, unknown> = {
  "post /api/monte-carlo/simulate": { fundId: "fund-1", runs: 50 },
  "post /api/cache/invalidate": { scope: "fund", fundId: "fund-1", reason: "fuzz", mode: "soft", dryRun: true },
  "post /api/cache/warm": { fundIds: ["fund-1"], taxonomyVersion: "v1", priority: "low", configs: [{ numScenarios: 50, buckets: [] }] },
  "post /api/cache/warm/profiles": { name: "p1", fundId: "fund-1", taxonomyVersion: "v1", config: { numScenarios: 50 } },
};

const nasty = fc.constantFrom(
  "", " ", "*", "?", "[a-z]", "{tag}", "../../etc/passwd", "fund-1\r\nx: y", "\u0000", "😀", "a".repeat(300),
  "-1", "1e309", "NaN", "null", "true", "0x10", "%00", "%2F", "smc:hot:*", "' OR 1=1 --",
);
const scalar = fc.oneof(fc.string(), nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const jsonish = fc.oneof(fc.jsonValue(), fc.dictionary(fc.oneof(fc.string(), nasty), scalar));

/** Replaces, removes or retypes one path inside a valid body. */
function mutate(example: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (v: unknown, p: string[]) => {
    paths.push(p);
    if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(example, []);
  return fc.tuple(fc.constantFrom(...paths), fc.oneof(scalar, jsonish, fc.constant(undefined)), fc.boolean()).map(([path, value, drop]) => {
    if (path.length === 0) return value;
    const copy = structuredClone(example) as Record<string, unknown>;
    let node = copy as Record<string, unknown>;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
    if (drop) delete node[path[path.length - 1]];
    else node[path[path.length - 1]] = value;
    return copy;
  });
}

function bodyArb(doc: RouteDoc): fc.Arbitrary<string> {
  const example = EXAMPLES[`${doc.method} ${doc.path}`];
  return fc.oneof(
    fc.string(), // not JSON at all
    fc.constantFrom("{", "[", '{"a":', "\ufeff{}", "null", "[]", "{}"),
    jsonish.map((v) => JSON.stringify(v) ?? "null"),
    ...(example ? [mutate(example).map((v) => JSON.stringify(v) ?? "null")] : []),
  );
}

function pathArb(doc: RouteDoc): fc.Arbitrary<string> {
  const params = [...doc.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  return fc.array(fc.oneof(fc.string({ minLength: 1 }), nasty.filter((s) => s.length > 0), fc.uuid()), { minLength: params.length, maxLength: params.length })
    .map((values) => params.reduce((p, name, i) => p.replace(`:${name}`, encodeURIComponent(values[i])), doc.path));
}

const queryArb = fc.dictionary(fc.constantFrom("limit", "offset", "cursor", "fundId", "status", "from", "to", "period", "x"), fc.oneof(fc.string(), nasty, fc.integer().map(String)), { maxKeys: 4 })
  .map((q) => new URLSearchParams(q).toString());

async function fingerprint(rt: Runtime): Promise<string> {
  const counts = await rt.db.db.execute(sql`
    select (select count(*) from scenario_matrices) as matrices,
           (select count(*) from scenario_matrices where status = 'complete') as complete,
           (select count(*) from cache_audit_log) as audit,
           (select count(*) from warm_jobs) as jobs,
           (select count(*) from warm_profiles) as profiles`);
  const rows = (counts as unknown as { rows?: unknown[] }).rows ?? (counts as unknown as unknown[]);
  return JSON.stringify({ db: rows, hot: await rt.hot.storage(), durable: await rt.durable.storage() });
}

describe("fuzzing every route", () => {
  let rt: Runtime;
  let app: App;
  beforeAll(async () => {
    rt = await createRuntime({ pgliteDir: "memory://", migrate: true, log: silentLog });
    app = createLocalApp({ runtime: rt, auth } as never);
    // some state for invalidations and reads to act on
    await app.request("/api/monte-carlo/simulate", { method: "POST", body: JSON.stringify({ fundId: "fund-1", runs: 50 }), headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" } });
  });
  afterAll(async () => rt?.close());

  it("covers every documented route", () => {
    expect(allRouteDocs.length).toBeGreaterThanOrEqual(2);
  });

  for (const doc of allRouteDocs) {
    it(`${doc.method.toUpperCase()} ${doc.path}: never 5xx; a rejected request changes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(pathArb(doc), queryArb, bodyArb(doc), fc.boolean(), async (path, query, body, authed) => {
          const before = await fingerprint(rt);
          const res = await app.request(`${path}${query ? `?${query}` : ""}`, {
            method: doc.method.toUpperCase(),
            headers: { "content-type": "application/json", ...(authed || doc.role === "public" ? { authorization: `Bearer ${ADMIN}` } : {}) },
            ...(doc.method === "get" ? {} : { body }),
          });
          const text = await res.text();
          expect(res.status, `${doc.method} ${path}?${query} ${body} → ${text}`).toBeLessThan(500);
          if (res.status >= 400) {
            expect(JSON.parse(text).error.code).toEqual(expect.any(String));
            expect(await fingerprint(rt)).toBe(before);
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 60), seed: 42 },
      );
    }, 120_000);
  }
});
