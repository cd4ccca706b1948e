// The audit trail: the drizzle AuditStore on PGlite and on PostgreSQL (append, newest-first keyset and
// offset pages, filters), the cursor, and GET /api/cache/audit (auth and query validation).
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createDb, type DbHandle } from "../adapters/db";
import { decodeAuditCursor, encodeAuditCursor, type AuditEntry, type AuditRecord, type AuditStore } from "../core/audit";
import { cacheAuditLog } from "../core/audit/audit.sql";
import { silentLog } from "../core/shared/log";
import { createApp, type ApiToken } from "../functions/http/kernel";
import { auditRoutes } from "../functions/http/routes/audit";
import { freshPostgresDatabase, postgresTarget } from "./helpers/services";

// Response bodies are checked field by field below; `any` keeps those checks readable.
const json = async (res: Response): Promise<any> => res.json();

function record(o: Partial<AuditRecord> = {}): AuditRecord {
  return {
    actor: "alice",
    action: "invalidate",
    scope: "fund",
    fundId: "fund-a",
    matrixKey: null,
    mode: "soft",
    reason: null,
    dryRun: false,
    counts: { redis: 1, postgres: 1 },
    durationMs: 1.5,
    errors: [],
    ...o,
  };
}

describe("audit cursor", () => {
  const p = { at: "2030-01-02T03:04:05.123456Z", id: "0b7c6f0e-8a4b-4c1e-9a57-3f1f0d2f9a10" };

  it("round-trips a position and refuses anything this listing did not hand out", () => {
    expect(decodeAuditCursor(encodeAuditCursor(p))).toEqual(p);
    for (const bad of [
      "",
      "not base64 at all!",
      Buffer.from("{}").toString("base64url"),
      encodeAuditCursor({ ...p, id: "1; drop table x" }),
      encodeAuditCursor({ ...p, at: "2030-01-02T03:04:05.123Z" }), // millisecond precision: not ours
      encodeAuditCursor({ ...p, at: "2030-02-30T03:04:05.123456Z" }), // well-formed, impossible date
    ]) {
      expect(decodeAuditCursor(bad)).toBeNull();
    }
  });
});

const pg = await postgresTarget();
const drivers: { driver: "pglite" | "postgres"; skip: boolean }[] = [
  { driver: "pglite", skip: false },
  { driver: "postgres", skip: !pg.available },
];

for (const { driver, skip } of drivers) {
  describe.skipIf(skip)(`drizzle AuditStore (${driver})`, () => {
    let db: DbHandle;
    let drop: (() => Promise<void>) | undefined;
    let store: AuditStore;
    beforeAll(async () => {
      if (driver === "postgres") {
        const fresh = await freshPostgresDatabase(pg.url);
        drop = fresh.drop;
        db = createDb({ url: fresh.url });
      } else {
        db = createDb({ pgliteDir: "memory://" });
      }
      await db.migrate();
      store = createDrizzleAuditStore(db.db);
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
    });
    beforeEach(async () => {
      await db.db.delete(cacheAuditLog);
    });

    /** Every page by cursor, as the listing hands them out. */
    async function allPagesByCursor(limit: number, filter: { fundId?: string; action?: string } = {}) {
      const ids: string[] = [];
      let after: { at: string; id: string } | undefined;
      for (let i = 0; i < 100; i++) {
        const page = await store.list({ limit, after, ...filter });
        ids.push(...page.entries.map((e) => e.id));
        if (!page.next) return ids;
        after = page.next;
      }
      throw new Error("pagination did not end");
    }

    it("appends a record and returns it as stored, nulls and failures included", async () => {
      const r = record({
        scope: "matrix",
        fundId: null,
        matrixKey: "f".repeat(64),
        mode: "hard",
        reason: "corrupt",
        dryRun: true,
        counts: { redis: null, postgres: 0 },
        errors: [{ tier: "redis", message: "ECONNREFUSED" }],
      });
      const stored = await store.append(r);

      expect(stored).toMatchObject(r);
      expect(stored.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(Math.abs(Date.parse(stored.timestamp) - Date.now())).toBeLessThan(60_000);
      expect((await store.list({ limit: 10 })).entries).toEqual([stored]);
    });

    it("lists newest first, with filters by fund and by action", async () => {
      const a1 = await store.append(record({ fundId: "fund-a" }));
      const b1 = await store.append(record({ fundId: "fund-b" }));
      const w = await store.append(record({ fundId: "fund-a", action: "warm", scope: "fund" }));
      const all = await store.append(record({ scope: "all", fundId: null }));

      const ids = (entries: AuditEntry[]) => entries.map((e) => e.id);
      expect(ids((await store.list({ limit: 10 })).entries)).toEqual([all.id, w.id, b1.id, a1.id]);
      expect(ids((await store.list({ limit: 10, fundId: "fund-a" })).entries)).toEqual([w.id, a1.id]);
      expect(ids((await store.list({ limit: 10, action: "invalidate" })).entries)).toEqual([all.id, b1.id, a1.id]);
      expect(ids((await store.list({ limit: 10, fundId: "fund-a", action: "warm" })).entries)).toEqual([w.id]);
    });

    it("pages by cursor through rows that share a timestamp or differ by a microsecond, each row exactly once, in order", async () => {
      const rows = [];
      for (let i = 0; i < 9; i++) rows.push(await store.append(record()));
      // three rows on one instant, three a microsecond apart inside one millisecond, three on other instants
      const instants = [
        "2030-01-01T00:00:00.123456Z",
        "2030-01-01T00:00:00.123456Z",
        "2030-01-01T00:00:00.123456Z",
        "2030-01-01T00:00:00.123457Z",
        "2030-01-01T00:00:00.123458Z",
        "2030-01-01T00:00:00.123999Z",
        "2029-12-31T23:59:59.999999Z",
        "2030-01-01T00:00:00.124000Z",
        "2031-06-01T12:00:00.000001Z",
      ];
      // set in SQL: a JS Date cannot carry microseconds
      for (const [i, r] of rows.entries()) {
        await db.db.update(cacheAuditLog).set({ createdAt: sql`${instants[i]}::timestamptz` }).where(eq(cacheAuditLog.id, r.id));
      }
      const full = (await store.list({ limit: 100 })).entries.map((e) => e.id);
      expect(full).toHaveLength(9);

      for (const limit of [1, 2, 4, 9]) expect(await allPagesByCursor(limit)).toEqual(full);
    });

    it("pages by offset, and says there is no next page when the last one is exactly full", async () => {
      for (let i = 0; i < 5; i++) await store.append(record({ reason: `r${i}` }));
      const full = (await store.list({ limit: 100 })).entries.map((e) => e.id);

      expect((await store.list({ limit: 2, offset: 2 })).entries.map((e) => e.id)).toEqual(full.slice(2, 4));
      expect((await store.list({ limit: 2, offset: 4 })).next).toBeNull();
      expect((await store.list({ limit: 5 })).next).toBeNull();
      expect((await store.list({ limit: 4 })).next).not.toBeNull();
      expect(await allPagesByCursor(2, { fundId: "fund-a" })).toEqual(full);
    });

    describe("GET /api/cache/audit", () => {
      const TOKENS: ApiToken[] = [
        { actor: "alice", role: "admin", token: "tok-admin" },
        { actor: "rita", role: "read", token: "tok-read" },
      ];
      const app = () => auditRoutes(createApp({ auth: { tokens: TOKENS, deployed: false }, log: silentLog }), { auth: { tokens: TOKENS, deployed: false }, audit: store });
      const get = (query: string, token?: string) =>
        app().request(`/api/cache/audit${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

      it("pages newest first by nextCursor for a read token (and an admin token)", async () => {
        // back to back: PGlite's clock has millisecond resolution, yet each append lands after the previous
        for (let i = 0; i < 5; i++) await store.append(record({ reason: `r${i}` }));
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const res = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`, "tok-read");
          expect(res.status).toBe(200);
          const page = await json(res);
          expect(page.limit).toBe(2);
          seen.push(...page.entries.map((e: AuditEntry) => e.reason));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual(["r4", "r3", "r2", "r1", "r0"]);
        expect((await get("?offset=3&limit=1", "tok-admin")).status).toBe(200);
        expect((await json(await get("?offset=3&limit=1", "tok-admin"))).entries[0].reason).toBe("r1");
      });

      it("needs a token", async () => {
        expect((await get("")).status).toBe(401);
        expect((await get("", "tok-wrong")).status).toBe(401);
      });

      const bad: [string, string][] = [
        ["?limit=0", "limit"],
        ["?limit=201", "limit"],
        ["?limit=ten", "limit"],
        ["?offset=-1", "offset"],
        ["?cursor=bm9wZQ", "cursor"],
        [`?cursor=${encodeAuditCursor({ at: "2030-01-02T03:04:05.123456Z", id: "0b7c6f0e-8a4b-4c1e-9a57-3f1f0d2f9a10" })}&offset=1`, "offset"],
        ["?fundId=a%20b", "fundId"],
        ["?action=DROP", "action"],
        ["?fund=fund-a", "query"],
      ];
      for (const [query, field] of bad) {
        it(`400 naming ${field} for ${query.slice(0, 40)}`, async () => {
          const res = await get(query, "tok-read");
          expect(res.status).toBe(400);
          expect((await json(res)).error.details[0].path).toBe(field);
        });
      }
    });
  });
}
