// The trigger-maintained storage totals (drizzle/0002) always equal a direct aggregate over the rows,
// through every kind of write the cache makes: leases, completes, failures, soft/hard invalidations of
// every scope, eviction and cleanup — on PGlite and on the real PostgreSQL.
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matrixKey } from "../core/scenario";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";

const targets = await realTargets();

async function direct(fx: CacheFixture, fundId?: string): Promise<{ entriesCount: number; totalSizeBytes: number }> {
  const r = await fx.db.db.execute(sql`select count(*)::int as n, coalesce(sum(size_bytes), 0)::bigint as b from scenario_matrices where status = 'complete' ${fundId ? sql`and fund_id = ${fundId}` : sql``}`);
  const row = ((r as unknown as { rows?: unknown[] }).rows ?? (r as unknown as unknown[]))[0] as { n: number; b: string | number };
  return { entriesCount: Number(row.n), totalSizeBytes: Number(row.b) };
}

const op = fc.oneof(
  fc.record({ kind: fc.constant("get" as const), fund: fc.integer({ min: 0, max: 2 }), seed: fc.integer({ min: 0, max: 5 }), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("invalidate" as const), scope: fc.constantFrom("all", "fund", "matrix"), mode: fc.constantFrom("soft" as const, "hard" as const), fund: fc.integer({ min: 0, max: 2 }), seed: fc.integer({ min: 0, max: 5 }), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("evict" as const), budget: fc.integer({ min: 0, max: 4000 }) }),
  fc.record({ kind: fc.constant("cleanup" as const) }),
);

for (const backend of ["embedded", "real"] as Backend[]) {
  describe.skipIf(backend === "real" && !targets.available)(`storage totals (${backend})`, () => {
    let fx: CacheFixture;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "totals");
    });
    afterAll(async () => fx?.close());

    it("equal the direct aggregate after any sequence of cache writes", async () => {
      const cache = fx.cache();
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          for (const o of ops) {
            if (o.kind === "get") await cache.get(config({ fundId: `f${o.fund}`, seed: `s${o.seed}`, numScenarios: o.n }));
            else if (o.kind === "invalidate") {
              const key = matrixKey(config({ fundId: `f${o.fund}`, seed: `s${o.seed}`, numScenarios: o.n }));
              const scope = o.scope === "all" ? { kind: "all" as const } : o.scope === "fund" ? { kind: "fund" as const, fundId: `f${o.fund}` } : { kind: "matrix" as const, matrixKey: key };
              await fx.durable.invalidate(scope, { mode: o.mode, dryRun: false });
            } else if (o.kind === "evict") await fx.durable.evictToBudget(o.budget);
            else await fx.durable.cleanup(new Date(Date.now() + 1000));
            expect(await fx.durable.storage()).toEqual(await direct(fx));
            for (const f of ["f0", "f1", "f2"]) expect(await fx.durable.storage(f)).toEqual(await direct(fx, f));
          }
        }),
        { numRuns: 15, seed: 7 },
      );
    }, 120_000);
  });
}
