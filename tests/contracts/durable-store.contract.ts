// One behaviour suite every DurableStore adapter runs (PGlite, real PostgreSQL, …), after bentocache's
// driver test suite: the factory hands over a fresh store, a read-only row probe, and a cleanup.
import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../adapters/db";
import { scenarioMatrices } from "../../core/cache/matrices.sql";
import type { DurableEntry, DurableStore, InvalidationScope, MatrixStatus } from "../../core/cache/ports";

/** What the port does not expose but the contract must see; reading it never stamps or changes a row. */
export interface DurableRowProbe {
  (matrixKey: string): Promise<{
    status: MatrixStatus;
    errorMessage: string | null;
    leaseOwner: string | null;
    lastHitAt: Date | null;
    hasBytes: boolean;
  } | null>;
}

export interface DurableStoreHarness {
  readonly store: DurableStore;
  readonly probe: DurableRowProbe;
  cleanup(): Promise<void>;
}

/** Probe and cleanup for stores over the drizzle `scenario_matrices` table (either driver). */
export function drizzleHarnessParts(db: Database): Pick<DurableStoreHarness, "probe" | "cleanup"> {
  const t = scenarioMatrices;
  return {
    probe: async (matrixKey) => {
      const [row] = await db
        .select({
          status: t.status,
          errorMessage: t.errorMessage,
          leaseOwner: t.leaseOwner,
          lastHitAt: t.lastHitAt,
          bytes: t.moicMatrix,
        })
        .from(t)
        .where(eq(t.matrixKey, matrixKey));
      if (!row) return null;
      const { bytes, ...rest } = row;
      return { ...rest, hasBytes: bytes !== null };
    },
    cleanup: async () => {
      await db.delete(t);
    },
  };
}

const LONG_LEASE_MS = 60_000;

/** Deterministic, non-trivial bytes; odd lengths included on purpose (bytea must not pad or align). */
export function makeBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function makeEntry(
  matrixKey: string,
  opts: { fundId?: string; bytes?: Uint8Array; createdAt?: string } = {},
): DurableEntry & { sizeBytes: number } {
  const bytes = opts.bytes ?? makeBytes(64);
  return {
    bytes,
    sizeBytes: bytes.byteLength,
    meta: {
      matrixKey,
      fundId: opts.fundId ?? "fund-a",
      taxonomyVersion: "tax-v1",
      numScenarios: 4,
      numBuckets: 2,
      recyclingMultiples: [1.25, 0.5],
      generationMs: 12.5,
      createdAt: opts.createdAt ?? new Date().toISOString(),
    },
  };
}

export function durableStoreContract(name: string, make: () => Promise<DurableStoreHarness>): void {
  describe(`DurableStore contract: ${name}`, () => {
    let store: DurableStore;
    let probe: DurableRowProbe;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, probe, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    const lease = (matrixKey: string, owner: string, opts: { fundId?: string; leaseMs?: number } = {}) =>
      store.acquireLease({
        matrixKey,
        fundId: opts.fundId ?? "fund-a",
        taxonomyVersion: "tax-v1",
        config: { seed: 7, buckets: ["seed", "series-a"] },
        numScenarios: 4,
        numBuckets: 2,
        owner,
        leaseMs: opts.leaseMs ?? LONG_LEASE_MS,
      });

    /** Leases and completes a key; returns the stored entry. */
    const put = async (matrixKey: string, opts: { fundId?: string; bytes?: Uint8Array; createdAt?: string } = {}) => {
      const entry = makeEntry(matrixKey, opts);
      expect(await lease(matrixKey, `writer-${matrixKey}`, opts)).toEqual({ acquired: true });
      expect(await store.complete(`writer-${matrixKey}`, entry)).toBe(true);
      return entry;
    };

    const failed = async (matrixKey: string, fundId = "fund-a") => {
      expect(await lease(matrixKey, "doomed", { fundId })).toEqual({ acquired: true });
      await store.fail(matrixKey, "doomed", "boom");
    };

    describe("leases", () => {
      it("grants the lease once for a new key and refuses a second owner with status processing", async () => {
        const first = await lease("k1", "owner-1");
        const second = await lease("k1", "owner-2");

        expect(first).toEqual({ acquired: true });
        expect(second).toMatchObject({ acquired: false, status: "processing" });
        const expiry = second.acquired ? null : second.leaseExpiresAt;
        expect(expiry).toBeInstanceOf(Date);
        expect(expiry!.getTime()).toBeGreaterThan(Date.now() + LONG_LEASE_MS / 2);
        expect((await probe("k1"))?.leaseOwner).toBe("owner-1");
      });

      it("grants the lease to exactly one of many concurrent callers", async () => {
        const results = await Promise.all(Array.from({ length: 6 }, (_, i) => lease("k-race", `owner-${i}`)));

        expect(results.filter((r) => r.acquired)).toHaveLength(1);
        expect(results.filter((r) => !r.acquired && r.status === "processing")).toHaveLength(5);
      });

      it("lets another owner take over an expired lease, and the first owner can then no longer complete", async () => {
        await lease("k1", "owner-1", { leaseMs: 40 });
        await sleep(150);

        const takeover = await lease("k1", "owner-2");

        expect(takeover).toEqual({ acquired: true });
        expect(await store.complete("owner-1", makeEntry("k1"))).toBe(false);
        expect(await store.complete("owner-2", makeEntry("k1"))).toBe(true);
      });

      it("never leases a complete row; it reports complete with no expiry", async () => {
        await put("k1");

        const result = await lease("k1", "owner-2");

        expect(result).toEqual({ acquired: false, status: "complete", leaseExpiresAt: null });
        expect(await store.readComplete("k1")).not.toBeNull();
      });

      it("reports status and lease expiry for waiters, and null for an unknown key", async () => {
        await lease("k1", "owner-1");

        const status = await store.status("k1");

        expect(status?.status).toBe("processing");
        expect(status?.leaseExpiresAt).toBeInstanceOf(Date);
        expect(await store.status("nope")).toBeNull();
      });
    });

    describe("complete and read", () => {
      it("returns identical bytes and meta after the owner completes, and stamps last_hit_at", async () => {
        const entry = makeEntry("k1", { bytes: makeBytes(200_003, 42), createdAt: "2024-05-06T07:08:09.123Z" });
        await lease("k1", "owner-1");
        expect(await store.complete("owner-1", entry)).toBe(true);
        const stampedByComplete = (await probe("k1"))!.lastHitAt!;
        await sleep(20);

        const read = await store.readComplete("k1");

        expect(read).not.toBeNull();
        expect(read!.bytes).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(read!.bytes).equals(Buffer.from(entry.bytes))).toBe(true);
        expect(read!.meta).toEqual(entry.meta);
        const after = await probe("k1");
        expect(after?.lastHitAt!.getTime()).toBeGreaterThan(stampedByComplete.getTime());
        expect(after).toMatchObject({ status: "complete", leaseOwner: null });
      });

      it("returns null for an unknown key and for a key still being generated", async () => {
        await lease("k-processing", "owner-1");

        expect(await store.readComplete("nope")).toBeNull();
        expect(await store.readComplete("k-processing")).toBeNull();
      });

      it("refuses complete from a non-owner and keeps the owner's lease", async () => {
        await lease("k1", "owner-1");

        const done = await store.complete("intruder", makeEntry("k1"));

        expect(done).toBe(false);
        expect(await store.readComplete("k1")).toBeNull();
        expect(await probe("k1")).toMatchObject({ status: "processing", leaseOwner: "owner-1" });
      });

      it("marks the owner's row failed with its message, and the next acquire retries", async () => {
        await lease("k1", "owner-1");

        await store.fail("k1", "intruder", "not mine"); // ignored: not the owner
        expect(await probe("k1")).toMatchObject({ status: "processing", errorMessage: null });
        await store.fail("k1", "owner-1", "generator exploded");

        expect(await probe("k1")).toMatchObject({ status: "failed", errorMessage: "generator exploded", leaseOwner: null });
        expect(await lease("k1", "owner-2")).toEqual({ acquired: true });
        expect(await probe("k1")).toMatchObject({ status: "processing", errorMessage: null, leaseOwner: "owner-2" });
        expect(await store.complete("owner-2", makeEntry("k1"))).toBe(true);
      });

      it("re-leases and completes an invalidated row, replacing the old entry (no silent drop)", async () => {
        await put("k1", { bytes: makeBytes(100, 1) });
        expect(await store.invalidate({ kind: "matrix", matrixKey: "k1" }, { mode: "soft", dryRun: false })).toBe(1);
        expect(await store.readComplete("k1")).toBeNull();

        expect(await lease("k1", "owner-2")).toEqual({ acquired: true });
        const fresh = makeEntry("k1", { bytes: makeBytes(77, 2) });
        expect(await store.complete("owner-2", fresh)).toBe(true);

        const read = await store.readComplete("k1");
        expect(Buffer.from(read!.bytes).equals(Buffer.from(fresh.bytes))).toBe(true);
        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 77 });
      });

      it("makes the owner's complete return false when its processing row is invalidated mid-generation", async () => {
        await lease("k-soft", "owner-1");
        await lease("k-hard", "owner-1");

        expect(await store.invalidate({ kind: "matrix", matrixKey: "k-soft" }, { mode: "soft", dryRun: false })).toBe(1);
        expect(await store.invalidate({ kind: "matrix", matrixKey: "k-hard" }, { mode: "hard", dryRun: false })).toBe(1);

        expect(await store.complete("owner-1", makeEntry("k-soft"))).toBe(false);
        expect(await store.complete("owner-1", makeEntry("k-hard"))).toBe(false);
        expect(await probe("k-soft")).toMatchObject({ status: "invalidated", leaseOwner: null });
        expect(await probe("k-hard")).toBeNull();
      });
    });

    describe("invalidate", () => {
      // fund-a: a1, a2 complete; a3 processing; a4 failed.  fund-b: b1 complete; b2 failed.
      const seed = async () => {
        await put("a1", { fundId: "fund-a" });
        await put("a2", { fundId: "fund-a" });
        await lease("a3", "gen", { fundId: "fund-a" });
        await failed("a4", "fund-a");
        await put("b1", { fundId: "fund-b" });
        await failed("b2", "fund-b");
      };
      const ALL = ["a1", "a2", "a3", "a4", "b1", "b2"];

      const cases: { title: string; scope: InvalidationScope; mode: "soft" | "hard"; reached: string[] }[] = [
        { title: "soft, one fund", scope: { kind: "fund", fundId: "fund-a" }, mode: "soft", reached: ["a1", "a2", "a3"] },
        { title: "hard, one fund", scope: { kind: "fund", fundId: "fund-a" }, mode: "hard", reached: ["a1", "a2", "a3", "a4"] },
        { title: "soft, one matrix", scope: { kind: "matrix", matrixKey: "b1" }, mode: "soft", reached: ["b1"] },
        { title: "soft, one failed matrix", scope: { kind: "matrix", matrixKey: "b2" }, mode: "soft", reached: [] },
        { title: "hard, one failed matrix", scope: { kind: "matrix", matrixKey: "b2" }, mode: "hard", reached: ["b2"] },
        { title: "soft, unknown matrix", scope: { kind: "matrix", matrixKey: "zz" }, mode: "soft", reached: [] },
        { title: "soft, everything", scope: { kind: "all" }, mode: "soft", reached: ["a1", "a2", "a3", "b1"] },
        { title: "hard, everything", scope: { kind: "all" }, mode: "hard", reached: ALL },
      ];

      const snapshot = async () => Promise.all(ALL.map(async (k) => [k, (await probe(k))?.status ?? null] as const));

      it.each(cases)("$title: dry run counts exactly and changes nothing", async ({ scope, mode, reached }) => {
        await seed();
        const before = await snapshot();

        const count = await store.invalidate(scope, { mode, dryRun: true });

        expect(count).toBe(reached.length);
        expect(await snapshot()).toEqual(before);
      });

      it.each(cases)("$title: reaches exactly its rows and reports their count", async ({ scope, mode, reached }) => {
        await seed();
        const before = new Map(await snapshot());

        const count = await store.invalidate(scope, { mode, dryRun: false });

        expect(count).toBe(reached.length);
        const expected = ALL.map((k) => [k, reached.includes(k) ? (mode === "soft" ? "invalidated" : null) : before.get(k)]);
        expect(await snapshot()).toEqual(expected);
        for (const k of reached) {
          if (mode === "soft") expect(await probe(k)).toMatchObject({ leaseOwner: null });
        }
      });

      it("counts nothing the second time a soft invalidation runs over the same scope", async () => {
        await seed();
        await store.invalidate({ kind: "fund", fundId: "fund-a" }, { mode: "soft", dryRun: false });

        expect(await store.invalidate({ kind: "fund", fundId: "fund-a" }, { mode: "soft", dryRun: false })).toBe(0);
      });

      it("keeps the bytes of a soft-invalidated row for audit while no longer serving them", async () => {
        await put("a1");

        await store.invalidate({ kind: "matrix", matrixKey: "a1" }, { mode: "soft", dryRun: false });

        expect(await probe("a1")).toMatchObject({ status: "invalidated", hasBytes: true });
        expect(await store.readComplete("a1")).toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
      });
    });

    describe("storage, eviction, cleanup", () => {
      it("reports exact complete entries and bytes, overall and per fund", async () => {
        await put("a1", { fundId: "fund-a", bytes: makeBytes(100) });
        await put("a2", { fundId: "fund-a", bytes: makeBytes(250) });
        await put("b1", { fundId: "fund-b", bytes: makeBytes(1000) });
        await lease("a3", "gen", { fundId: "fund-a" });
        await failed("a4", "fund-a");

        expect(await store.storage()).toEqual({ entriesCount: 3, totalSizeBytes: 1350 });
        expect(await store.storage("fund-a")).toEqual({ entriesCount: 2, totalSizeBytes: 350 });
        expect(await store.storage("fund-b")).toEqual({ entriesCount: 1, totalSizeBytes: 1000 });
        expect(await store.storage("fund-none")).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
      });

      it("evicts least-recently-hit complete rows first until the rest fits, reporting rows and bytes", async () => {
        // completion order k1, k2, k3; then k1 is read, so recency (oldest first) is k2, k3, k1
        await put("k1", { bytes: makeBytes(100) });
        await sleep(5);
        await put("k2", { bytes: makeBytes(200) });
        await sleep(5);
        await put("k3", { bytes: makeBytes(300) });
        await sleep(5);
        await store.readComplete("k1");
        await lease("k-processing", "gen");
        await failed("k-failed");

        expect(await store.evictToBudget(10_000)).toEqual({ rows: 0, bytes: 0 });
        expect(await store.evictToBudget(450)).toEqual({ rows: 1, bytes: 200 });
        expect(await probe("k2")).toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 2, totalSizeBytes: 400 });

        expect(await store.evictToBudget(100)).toEqual({ rows: 1, bytes: 300 });
        expect(await probe("k3")).toBeNull();
        expect(await probe("k1")).toMatchObject({ status: "complete" });

        expect(await store.evictToBudget(0)).toEqual({ rows: 1, bytes: 100 });
        expect(await probe("k-processing")).toMatchObject({ status: "processing" });
        expect(await probe("k-failed")).toMatchObject({ status: "failed" });
      });

      it("removes only invalidated and failed rows last updated before the cutoff", async () => {
        await put("old-invalidated", { bytes: makeBytes(123) });
        await store.invalidate({ kind: "matrix", matrixKey: "old-invalidated" }, { mode: "soft", dryRun: false });
        await failed("old-failed");
        await put("old-complete");
        await lease("old-processing", "gen");
        await sleep(60);
        const cutoff = new Date();
        await sleep(60);
        await put("new-invalidated");
        await store.invalidate({ kind: "matrix", matrixKey: "new-invalidated" }, { mode: "soft", dryRun: false });
        await failed("new-failed");

        const removed = await store.cleanup(cutoff);

        expect(removed).toEqual({ rows: 2, bytes: 123 });
        expect(await probe("old-invalidated")).toBeNull();
        expect(await probe("old-failed")).toBeNull();
        for (const k of ["old-complete", "old-processing", "new-invalidated", "new-failed"]) {
          expect(await probe(k)).not.toBeNull();
        }
      });
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
