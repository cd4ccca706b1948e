// The invalidate Lambda file itself (module-scope wiring, exported handler) driven by API Gateway HTTP API
// v2 events: embedded (PGlite + memory, migrated on start) and on the real PostgreSQL and Redis, where
// entries seeded beforehand are really removed and the InvalidatedEntries EMF is checked.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createDb, type DbHandle } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { createRedisHotStore } from "../adapters/hot-redis";
import { DEFAULT_HOT_PREFIX } from "../adapters/redis-scripts";
import { createMatrixCache, type HotStore } from "../core/cache";
import { matrixKey } from "../core/scenario";
import { httpEvent, lambdaContext } from "./helpers/apigw";
import { config } from "./helpers/factories";
import { realTargets } from "./helpers/cache-fixture";
import { captureStdout, emfDocuments } from "./helpers/emf";
import { freshPostgresDatabase, uniqueSuffix } from "./helpers/services";

type Handler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const TOKENS = [
  { actor: "alice", role: "admin", token: "tok-admin-alice" },
  { actor: "rita", role: "read", token: "tok-read-rita" },
];
const ENV_KEYS = ["PGLITE_DIR", "MIGRATE_ON_START", "API_TOKENS", "DATABASE_URL", "REDIS_URL", "METRICS_EMF", "LOG_LEVEL"] as const;

/** Loads functions/invalidate.ts afresh under `env`, as a new Lambda container would. */
async function coldStart(env: Partial<Record<(typeof ENV_KEYS)[number], string>>): Promise<Handler> {
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, { LOG_LEVEL: "SILENT", ...env });
  vi.resetModules();
  const mod = await import("../functions/invalidate");
  return mod.handler as unknown as Handler;
}

async function invoke(handler: Handler, body: unknown, token?: string) {
  const event = httpEvent({
    method: "POST",
    path: "/api/cache/invalidate",
    body,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const res = (await handler(event, lambdaContext("invalidate"))) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: JSON.parse(res.body ?? "null") };
}

/** EMF documents written to stdout while `f` runs (tests/helpers/emf.ts). */
async function emfDuring<T>(f: () => Promise<T>): Promise<{ result: T; docs: Record<string, unknown>[] }> {
  const { result, lines } = await captureStdout(f);
  return { result, docs: emfDocuments(lines) as unknown as Record<string, unknown>[] };
}

const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterAll(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("functions/invalidate.ts handler (embedded)", () => {
  it("answers API Gateway v2 events: 401 without a token, 403 for read, 400 naming the field, 200 audited for admin", async () => {
    const handler = await coldStart({ PGLITE_DIR: "memory://", MIGRATE_ON_START: "true", API_TOKENS: JSON.stringify(TOKENS) });

    expect((await invoke(handler, { scope: "all" })).status).toBe(401);
    const forbidden = await invoke(handler, { scope: "all" }, "tok-read-rita");
    expect(forbidden.status).toBe(403);
    const bad = await invoke(handler, { scope: "fund" }, "tok-admin-alice");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("fundId");

    const ok = await invoke(handler, { scope: "all", dryRun: true, reason: "check" }, "tok-admin-alice");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      scope: "all",
      dryRun: true,
      mode: "soft",
      invalidated: { redis: 0, postgres: 0 },
      errors: [],
      auditLog: { user: "alice", reason: "check" },
    });
  });
});

const targets = await realTargets();

describe.skipIf(!targets.available)("functions/invalidate.ts handler (real PostgreSQL and Redis)", () => {
  let db: DbHandle;
  let drop: () => Promise<void>;
  let url: string;
  let hot: HotStore;
  // the Lambda uses the default hot prefix, so the fund id alone keeps this file's entries apart
  const fundId = `lambda-${uniqueSuffix()}`;
  const cfgs = [1, 2].map((i) => config({ fundId, numScenarios: 50, seed: `l${i}` }));

  beforeAll(async () => {
    const fresh = await freshPostgresDatabase(targets.pg.url);
    url = fresh.url;
    drop = fresh.drop;
    db = createDb({ url });
    await db.migrate();
    hot = createRedisHotStore({ url: targets.redis.url, prefix: DEFAULT_HOT_PREFIX });
  });
  afterEach(async () => {
    await hot.invalidate({ kind: "fund", fundId }, { dryRun: false });
  });
  afterAll(async () => {
    await hot?.close();
    await db?.close();
    await drop?.();
  });

  it("removes the fund's seeded entries from both tiers, audits it, and emits InvalidatedEntries per tier", async () => {
    const cache = createMatrixCache({ hot, durable: createDrizzleDurableStore(db.db), options: { hotTimeoutMs: 5_000 } });
    for (const c of cfgs) expect((await cache.get(c)).tier).toBe("generated");
    const handler = await coldStart({
      DATABASE_URL: url,
      REDIS_URL: targets.redis.url,
      API_TOKENS: JSON.stringify(TOKENS),
      METRICS_EMF: "stdout",
    });

    const { result: res, docs } = await emfDuring(() => invoke(handler, { scope: "fund", fundId, mode: "hard", reason: "lambda" }, "tok-admin-alice"));

    expect(res.status).toBe(200);
    expect(res.body.invalidated).toEqual({ redis: 2, postgres: 2 });
    for (const c of cfgs) {
      expect((await hot.read(matrixKey(c), fundId)).value).toBeNull();
      expect(await createDrizzleDurableStore(db.db).status(matrixKey(c))).toBeNull();
    }
    const [entry] = (await createDrizzleAuditStore(db.db).list({ limit: 1, fundId })).entries;
    expect(entry).toMatchObject({ id: res.body.auditLog.id, actor: "alice", mode: "hard", reason: "lambda", counts: { redis: 2, postgres: 2 } });

    const invalidated = docs.filter((d) => "InvalidatedEntries" in d);
    expect(invalidated.map((d) => [d.Tier, d.InvalidatedEntries]).sort()).toEqual([["postgres", 2], ["redis", 2]]);
    for (const d of invalidated) {
      const directive = (d._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0];
      expect(directive.Dimensions).toEqual([["Service", "Tier"]]);
      expect(directive.Metrics).toEqual([{ Name: "InvalidatedEntries", Unit: "Count" }]);
      expect(d.fundId).toBe(fundId); // an id is a property, never a dimension
    }
  });
});
