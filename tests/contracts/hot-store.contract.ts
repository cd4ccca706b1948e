// The behaviour every HotStore adapter (memory, Redis over TCP, Upstash over HTTP) must show, as one shared
// suite each adapter's test file runs (modelled on bentocache's driver test suite). Each test gets a fresh,
// empty store from `make`, so exact storage numbers can be asserted.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CounterOp, HotStore } from "../../core/cache/ports";

export interface HotStoreFixture {
  readonly store: HotStore;
  /** Present when the adapter runs on an injectable clock; otherwise the suite waits in real time. */
  readonly now?: { advance(ms: number): void };
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
// short enough to wait for on a real server, long enough that a write and a read land inside it
const SHORT_TTL = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic bytes of a given length (a cheap LCG, so large values are not all one byte). */
export function bytesOf(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const equalBytes = (a: Uint8Array | null, b: Uint8Array) =>
  a !== null && a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

export function hotStoreContract(name: string, make: () => Promise<HotStoreFixture>): void {
  describe(`HotStore contract: ${name}`, () => {
    let fx: HotStoreFixture;
    let store: HotStore;
    const extra: HotStoreFixture[] = [];

    beforeEach(async () => {
      fx = await make();
      store = fx.store;
    });
    afterEach(async () => {
      for (const x of extra.splice(0)) await x.cleanup();
      await fx.cleanup();
    });

    async function pass(ms: number): Promise<void> {
      if (fx.now) fx.now.advance(ms);
      else await sleep(ms);
    }

    /** Reads the current token and stores the value under it. */
    async function put(s: HotStore, matrixKey: string, fundId: string, value: Uint8Array, ttlMs = HOUR) {
      const { epoch } = await s.read(matrixKey, fundId);
      expect(await s.write({ matrixKey, fundId, value, ttlMs, epoch })).toBe("stored");
    }

    async function valueOf(s: HotStore, matrixKey: string, fundId = "f1"): Promise<Uint8Array | null> {
      return (await s.read(matrixKey, fundId)).value;
    }

    describe("read and write", () => {
      it("peeks at an entry with a plain read: the same bytes as read(), null when absent or expired", async () => {
        expect(await store.peek("peek-k")).toBeNull();
        await put(store, "peek-k", "f1", bytesOf(300, 7));
        const peeked = await store.peek("peek-k");
        expect(peeked && equalBytes(peeked, bytesOf(300, 7))).toBe(true);
        expect(equalBytes(peeked!, (await store.read("peek-k", "f1")).value!)).toBe(true);
        await store.remove("peek-k");
        expect(await store.peek("peek-k")).toBeNull();
      });

      it("reads a miss as null with an epoch token that stays the same until an invalidation", async () => {
        const first = await store.read("k1", "f1");
        const second = await store.read("k1", "f1");

        expect(first.value).toBeNull();
        expect(typeof first.epoch).toBe("string");
        expect(first.epoch.length).toBeGreaterThan(0);
        expect(second.epoch).toBe(first.epoch);
      });

      it("returns exactly the bytes written, every byte value 0..255 included", async () => {
        const value = Uint8Array.from({ length: 512 }, (_, i) => i % 256);

        await put(store, "k-bytes", "f1", value);

        expect(equalBytes(await valueOf(store, "k-bytes"), value)).toBe(true);
      });

      it("returns a 1 MiB value byte for byte", async () => {
        const value = bytesOf(1024 * 1024, 7);

        await put(store, "k-big", "f1", value);
        const got = await valueOf(store, "k-big");

        expect(got?.byteLength).toBe(1024 * 1024);
        expect(equalBytes(got, value)).toBe(true);
      });

      it("stores an empty value as an empty (present) entry", async () => {
        await put(store, "k-empty", "f1", new Uint8Array(0));

        const got = await valueOf(store, "k-empty");

        expect(got).not.toBeNull();
        expect(got?.byteLength).toBe(0);
      });

      it("keeps its own copy: changing the written or the returned array does not change the entry", async () => {
        const value = bytesOf(64, 3);
        const original = Uint8Array.from(value);
        await put(store, "k-copy", "f1", value);

        value.fill(0);
        const firstRead = await valueOf(store, "k-copy");
        firstRead?.fill(1);

        expect(equalBytes(await valueOf(store, "k-copy"), original)).toBe(true);
      });

      it("overwrites an entry with the new value", async () => {
        await put(store, "k-over", "f1", bytesOf(100, 1));
        await put(store, "k-over", "f1", bytesOf(40, 2));

        expect(equalBytes(await valueOf(store, "k-over"), bytesOf(40, 2))).toBe(true);
      });
    });

    describe("expiry", () => {
      it("reads an entry as absent once its TTL has passed, and drops it from storage", async () => {
        await put(store, "k-ttl", "f1", bytesOf(10), SHORT_TTL);
        await put(store, "k-long", "f1", bytesOf(20));
        expect(await valueOf(store, "k-ttl")).not.toBeNull();

        await pass(SHORT_TTL + 200);

        expect(await valueOf(store, "k-ttl")).toBeNull();
        expect(await valueOf(store, "k-long")).not.toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 20 });
        expect(await store.storage("f1")).toEqual({ entriesCount: 1, totalSizeBytes: 20 });
      });

      it("drops expired entries from storage even when nothing reads them", async () => {
        await put(store, "k-a", "f1", bytesOf(10), SHORT_TTL);
        await put(store, "k-b", "f2", bytesOf(30), SHORT_TTL);
        await put(store, "k-c", "f2", bytesOf(5));

        await pass(SHORT_TTL + 200);

        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 5 });
        expect(await store.storage("f1")).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await store.storage("f2")).toEqual({ entriesCount: 1, totalSizeBytes: 5 });
      });

      it("does not count an expired entry as removed", async () => {
        await put(store, "k-gone", "f1", bytesOf(10), SHORT_TTL);
        await put(store, "k-gone-2", "f1", bytesOf(10), SHORT_TTL);
        await put(store, "k-live", "f1", bytesOf(10));
        await pass(SHORT_TTL + 200);

        expect(await store.remove("k-gone")).toBe(0);
        expect(await store.invalidate({ kind: "matrix", matrixKey: "k-gone-2" }, { dryRun: false })).toBe(0);
        expect(await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: true })).toBe(1);
        expect(await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: false })).toBe(1);
        expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
      });

      it("accounts an entry rewritten after it expired once", async () => {
        await put(store, "k-again", "f1", bytesOf(10), SHORT_TTL);
        await pass(SHORT_TTL + 200);

        await put(store, "k-again", "f1", bytesOf(25));

        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 25 });
        expect(await store.storage("f1")).toEqual({ entriesCount: 1, totalSizeBytes: 25 });
      });
    });

    describe("epochs (no resurrection after an invalidation)", () => {
      it("rejects a write whose token was read before a global invalidation, storing nothing", async () => {
        const { epoch } = await store.read("k1", "f1");

        await store.invalidate({ kind: "all" }, { dryRun: false });
        const outcome = await store.write({ matrixKey: "k1", fundId: "f1", value: bytesOf(8), ttlMs: HOUR, epoch });

        expect(outcome).toBe("stale-epoch");
        expect(await valueOf(store, "k1")).toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
      });

      it("rejects stale writers of an invalidated fund but not writers of other funds", async () => {
        const f1 = await store.read("k1", "f1");
        const f2 = await store.read("k2", "f2");

        await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: false });
        const stale = await store.write({ matrixKey: "k1", fundId: "f1", value: bytesOf(8), ttlMs: HOUR, epoch: f1.epoch });
        const other = await store.write({ matrixKey: "k2", fundId: "f2", value: bytesOf(9), ttlMs: HOUR, epoch: f2.epoch });

        expect(stale).toBe("stale-epoch");
        expect(other).toBe("stored");
        expect(await valueOf(store, "k1")).toBeNull();
        expect(await valueOf(store, "k2", "f2")).not.toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 9 });
      });

      it("rejects stale writers of the fund of an invalidated matrix", async () => {
        await put(store, "k1", "f1", bytesOf(8));
        const { epoch } = await store.read("k1", "f1");

        expect(await store.invalidate({ kind: "matrix", matrixKey: "k1" }, { dryRun: false })).toBe(1);
        const outcome = await store.write({ matrixKey: "k1", fundId: "f1", value: bytesOf(8), ttlMs: HOUR, epoch });

        expect(outcome).toBe("stale-epoch");
        expect(await valueOf(store, "k1")).toBeNull();
      });

      it("accepts a write with a token read after the invalidation", async () => {
        await store.invalidate({ kind: "all" }, { dryRun: false });
        await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: false });

        await put(store, "k1", "f1", bytesOf(8));

        expect(equalBytes(await valueOf(store, "k1"), bytesOf(8))).toBe(true);
      });

      it("changes the token when the global or the fund scope is invalidated", async () => {
        const before = (await store.read("k1", "f1")).epoch;
        await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: false });
        const afterFund = (await store.read("k1", "f1")).epoch;
        await store.invalidate({ kind: "all" }, { dryRun: false });
        const afterAll = (await store.read("k1", "f1")).epoch;

        expect(new Set([before, afterFund, afterAll]).size).toBe(3);
      });
    });

    describe("storage", () => {
      it("is exact after writes, overwrites and removes, in total and per fund", async () => {
        await put(store, "a1", "fa", bytesOf(100));
        await put(store, "a2", "fa", bytesOf(50));
        await put(store, "b1", "fb", bytesOf(7));
        expect(await store.storage()).toEqual({ entriesCount: 3, totalSizeBytes: 157 });

        await put(store, "a1", "fa", bytesOf(30)); // overwrite: the old 100 bytes leave, once
        await put(store, "a1", "fa", bytesOf(30));
        expect(await store.storage()).toEqual({ entriesCount: 3, totalSizeBytes: 87 });
        expect(await store.storage("fa")).toEqual({ entriesCount: 2, totalSizeBytes: 80 });
        expect(await store.storage("fb")).toEqual({ entriesCount: 1, totalSizeBytes: 7 });

        await store.remove("a2");
        expect(await store.storage()).toEqual({ entriesCount: 2, totalSizeBytes: 37 });
        expect(await store.storage("fa")).toEqual({ entriesCount: 1, totalSizeBytes: 30 });
      });

      it("reports zero for an empty store and an unknown fund", async () => {
        expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await store.storage("nobody")).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
      });

      it("moves an entry between fund totals when it is rewritten under another fund", async () => {
        await put(store, "k-moved", "fa", bytesOf(10));

        await put(store, "k-moved", "fb", bytesOf(12));

        expect(await store.storage("fa")).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await store.storage("fb")).toEqual({ entriesCount: 1, totalSizeBytes: 12 });
        expect(await store.invalidate({ kind: "fund", fundId: "fa" }, { dryRun: true })).toBe(0);
        expect(await store.invalidate({ kind: "fund", fundId: "fb" }, { dryRun: true })).toBe(1);
      });
    });

    describe("remove", () => {
      it("returns 1 for a present entry, then 0, and the entry is gone", async () => {
        await put(store, "k1", "f1", bytesOf(8));

        expect(await store.remove("k1")).toBe(1);
        expect(await store.remove("k1")).toBe(0);
        expect(await store.remove("never-written")).toBe(0);
        expect(await valueOf(store, "k1")).toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
      });
    });

    describe("invalidate", () => {
      async function seed(): Promise<void> {
        await put(store, "a1", "fa", bytesOf(10));
        await put(store, "a2", "fa", bytesOf(20));
        await put(store, "b1", "fb", bytesOf(30));
        await store.apply([
          { op: "hincr", key: "stats:h", field: "hits", by: 5, ttlSec: 3600 },
          { op: "ztop", key: "stats:slow", member: "a1", score: 9, keep: 10, ttlSec: 3600 },
        ]);
      }

      async function countersAreUntouched(): Promise<void> {
        expect(await store.readHashes(["stats:h"])).toEqual([{ hits: 5 }]);
        expect(await store.readTop("stats:slow", 10)).toEqual([{ member: "a1", score: 9 }]);
      }

      it("removes a fund's entries only, returns how many, and leaves counters alone", async () => {
        await seed();

        expect(await store.invalidate({ kind: "fund", fundId: "fa" }, { dryRun: false })).toBe(2);

        expect(await valueOf(store, "a1", "fa")).toBeNull();
        expect(await valueOf(store, "a2", "fa")).toBeNull();
        expect(await valueOf(store, "b1", "fb")).not.toBeNull();
        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 30 });
        expect(await store.storage("fa")).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await store.invalidate({ kind: "fund", fundId: "fa" }, { dryRun: false })).toBe(0);
        await countersAreUntouched();
      });

      it("removes one matrix and returns 1, then 0", async () => {
        await seed();

        expect(await store.invalidate({ kind: "matrix", matrixKey: "a2" }, { dryRun: false })).toBe(1);
        expect(await store.invalidate({ kind: "matrix", matrixKey: "a2" }, { dryRun: false })).toBe(0);

        expect(await valueOf(store, "a2", "fa")).toBeNull();
        expect(await valueOf(store, "a1", "fa")).not.toBeNull();
        expect(await store.storage("fa")).toEqual({ entriesCount: 1, totalSizeBytes: 10 });
        await countersAreUntouched();
      });

      it("removes every entry for `all`, returns the count, and leaves counters alone", async () => {
        await seed();

        expect(await store.invalidate({ kind: "all" }, { dryRun: false })).toBe(3);

        expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        for (const [k, f] of [["a1", "fa"], ["a2", "fa"], ["b1", "fb"]] as const) {
          expect(await valueOf(store, k, f)).toBeNull();
        }
        expect(await store.invalidate({ kind: "all" }, { dryRun: false })).toBe(0);
        await countersAreUntouched();
      });

      it("counts live entries on a dry run and changes nothing, not even the epoch", async () => {
        await seed();
        const token = (await store.read("new", "fa")).epoch;

        expect(await store.invalidate({ kind: "all" }, { dryRun: true })).toBe(3);
        expect(await store.invalidate({ kind: "fund", fundId: "fa" }, { dryRun: true })).toBe(2);
        expect(await store.invalidate({ kind: "fund", fundId: "nobody" }, { dryRun: true })).toBe(0);
        expect(await store.invalidate({ kind: "matrix", matrixKey: "b1" }, { dryRun: true })).toBe(1);
        expect(await store.invalidate({ kind: "matrix", matrixKey: "nope" }, { dryRun: true })).toBe(0);

        expect(await store.storage()).toEqual({ entriesCount: 3, totalSizeBytes: 60 });
        expect(await valueOf(store, "a1", "fa")).not.toBeNull();
        expect(await valueOf(store, "b1", "fb")).not.toBeNull();
        expect((await store.read("new", "fa")).epoch).toBe(token);
        expect(await store.write({ matrixKey: "new", fundId: "fa", value: bytesOf(1), ttlMs: HOUR, epoch: token })).toBe(
          "stored",
        );
        await countersAreUntouched();
      });

      it("removes a fund with a few thousand entries completely", async () => {
        const n = 3000;
        const { epoch } = await store.read("x", "big");
        const value = bytesOf(16);
        for (let i = 0; i < n; i += 250) {
          await Promise.all(
            Array.from({ length: Math.min(250, n - i) }, (_, j) =>
              store.write({ matrixKey: `big-${i + j}`, fundId: "big", value, ttlMs: HOUR, epoch }),
            ),
          );
        }
        await put(store, "other", "small", bytesOf(3));
        expect(await store.storage("big")).toEqual({ entriesCount: n, totalSizeBytes: n * 16 });

        expect(await store.invalidate({ kind: "fund", fundId: "big" }, { dryRun: true })).toBe(n);
        expect(await store.invalidate({ kind: "fund", fundId: "big" }, { dryRun: false })).toBe(n);

        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 3 });
        expect(await valueOf(store, "big-0", "big")).toBeNull();
        expect(await valueOf(store, `big-${n - 1}`, "big")).toBeNull();
      });
    });

    describe("counters", () => {
      it("counts concurrent hincr callers exactly (20 callers x 50 increments)", async () => {
        const op: CounterOp = { op: "hincr", key: "c:conc", field: "n", by: 1, ttlSec: 3600 };

        await Promise.all(
          Array.from({ length: 20 }, async () => {
            for (let i = 0; i < 50; i++) await store.apply([op]);
          }),
        );

        expect(await store.readHashes(["c:conc"])).toEqual([{ n: 1000 }]);
      });

      it("applies several ops of one call together, fractional increments included", async () => {
        await store.apply([
          { op: "hincr", key: "h1", field: "a", by: 2, ttlSec: 60 },
          { op: "hincr", key: "h1", field: "a", by: 3, ttlSec: 60 },
          { op: "hincr", key: "h1", field: "ms", by: 1.5, ttlSec: 60 },
          { op: "hincr", key: "h2", field: "b", by: -4, ttlSec: 0 },
        ]);
        await store.apply([{ op: "hincr", key: "h1", field: "ms", by: 0.25, ttlSec: 60 }]);
        await store.apply([]);

        expect(await store.readHashes(["h1", "h2"])).toEqual([{ a: 5, ms: 1.75 }, { b: -4 }]);
      });

      it("keeps only the `keep` highest scores of a ztop set and reads them highest first", async () => {
        for (const [member, score] of [["m1", 5], ["m2", 50], ["m3", 1], ["m4", 20], ["m5", 35]] as const) {
          await store.apply([{ op: "ztop", key: "slow", member, score, keep: 3, ttlSec: 60 }]);
        }

        expect(await store.readTop("slow", 10)).toEqual([
          { member: "m2", score: 50 },
          { member: "m5", score: 35 },
          { member: "m4", score: 20 },
        ]);
        expect(await store.readTop("slow", 2)).toEqual([
          { member: "m2", score: 50 },
          { member: "m5", score: 35 },
        ]);
      });

      it("replaces the score of a member already in a ztop set", async () => {
        await store.apply([
          { op: "ztop", key: "slow", member: "m1", score: 5, keep: 3, ttlSec: 60 },
          { op: "ztop", key: "slow", member: "m2", score: 7.5, keep: 3, ttlSec: 60 },
          { op: "ztop", key: "slow", member: "m1", score: 9, keep: 3, ttlSec: 60 },
        ]);

        expect(await store.readTop("slow", 5)).toEqual([
          { member: "m1", score: 9 },
          { member: "m2", score: 7.5 },
        ]);
      });

      it("reads missing hashes as {} in the order asked, and a missing ztop set as []", async () => {
        await store.apply([{ op: "hincr", key: "present", field: "x", by: 1, ttlSec: 60 }]);

        expect(await store.readHashes(["missing-1", "present", "missing-2"])).toEqual([{}, { x: 1 }, {}]);
        expect(await store.readHashes([])).toEqual([]);
        expect(await store.readTop("missing", 5)).toEqual([]);
      });

      it("drops counters once their ttlSec has passed", async () => {
        await store.apply([
          { op: "hincr", key: "short-h", field: "x", by: 1, ttlSec: 1 },
          { op: "ztop", key: "short-z", member: "m", score: 1, keep: 5, ttlSec: 1 },
          { op: "hincr", key: "long-h", field: "x", by: 1, ttlSec: 3600 },
        ]);

        await pass(1300);

        expect(await store.readHashes(["short-h", "long-h"])).toEqual([{}, { x: 1 }]);
        expect(await store.readTop("short-z", 5)).toEqual([]);
      });
    });

    describe("isolation", () => {
      it("never lets two stores with different prefixes see each other's entries, epochs, sizes or counters", async () => {
        const other = await make();
        extra.push(other);
        await put(store, "shared-key", "f1", bytesOf(10, 1));
        await store.apply([{ op: "hincr", key: "stats", field: "n", by: 1, ttlSec: 60 }]);
        const otherToken = (await other.store.read("shared-key", "f1")).epoch;

        await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: false });
        await put(store, "shared-key", "f1", bytesOf(10, 1));

        expect(await valueOf(other.store, "shared-key")).toBeNull();
        expect(await other.store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
        expect(await other.store.readHashes(["stats"])).toEqual([{}]);
        expect(
          await other.store.write({ matrixKey: "shared-key", fundId: "f1", value: bytesOf(4, 2), ttlMs: HOUR, epoch: otherToken }),
        ).toBe("stored");
        expect(await other.store.invalidate({ kind: "all" }, { dryRun: false })).toBe(1);
        expect(equalBytes(await valueOf(store, "shared-key"), bytesOf(10, 1))).toBe(true);
        expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 10 });
      });
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
