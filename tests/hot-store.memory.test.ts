// The in-memory hot store: the shared contract on an injectable clock, plus its own byte-budget LRU.
import { describe, expect, it } from "vitest";
import { createMemoryHotStore } from "../adapters/hot-memory";
import type { HotStore } from "../core/cache/ports";
import { bytesOf, hotStoreContract } from "./contracts/hot-store.contract";

function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

hotStoreContract("memory", async () => {
  const clock = fakeClock();
  const store = createMemoryHotStore({ now: clock.now });
  return { store, now: clock, cleanup: () => store.close() };
});

describe("memory hot store byte budget", () => {
  const HOUR = 3_600_000;

  function budgeted(maxBytes: number) {
    const clock = fakeClock();
    const evicted: [string, number][] = [];
    const store = createMemoryHotStore({ maxBytes, now: clock.now, onEvict: (k, b) => evicted.push([k, b]) });
    return { store, clock, evicted };
  }

  async function put(store: HotStore, matrixKey: string, size: number, fundId = "f1", ttlMs = HOUR) {
    const { epoch } = await store.read(matrixKey, fundId);
    expect(await store.write({ matrixKey, fundId, value: bytesOf(size), ttlMs, epoch })).toBe("stored");
  }

  it("evicts the least recently used entries once the budget is exceeded and reports each one", async () => {
    const { store, evicted } = budgeted(1000);
    await put(store, "a", 300);
    await put(store, "b", 300);
    await put(store, "c", 300);

    await put(store, "d", 300);

    expect(evicted).toEqual([["a", 300]]);
    expect((await store.read("a", "f1")).value).toBeNull();
    expect((await store.read("d", "f1")).value).not.toBeNull();
    expect(await store.storage()).toEqual({ entriesCount: 3, totalSizeBytes: 900 });
    expect(await store.storage("f1")).toEqual({ entriesCount: 3, totalSizeBytes: 900 });
  });

  it("treats a read as a use, so the entry read last survives eviction", async () => {
    const { store, evicted } = budgeted(1000);
    await put(store, "a", 300);
    await put(store, "b", 300);
    await put(store, "c", 300);

    await store.read("a", "f1");
    await put(store, "d", 300);

    expect(evicted).toEqual([["b", 300]]);
    expect((await store.read("a", "f1")).value).not.toBeNull();
    expect((await store.read("b", "f1")).value).toBeNull();
  });

  it("evicts as many entries as a large write needs, keeping per-fund accounting exact", async () => {
    const { store, evicted } = budgeted(1000);
    await put(store, "a", 200, "fa");
    await put(store, "b", 200, "fb");
    await put(store, "c", 200, "fa");

    await put(store, "big", 700, "fb");

    expect(evicted).toEqual([
      ["a", 200],
      ["b", 200],
    ]);
    expect(await store.storage()).toEqual({ entriesCount: 2, totalSizeBytes: 900 });
    expect(await store.storage("fa")).toEqual({ entriesCount: 1, totalSizeBytes: 200 });
    expect(await store.storage("fb")).toEqual({ entriesCount: 1, totalSizeBytes: 700 });
    expect(await store.invalidate({ kind: "fund", fundId: "fa" }, { dryRun: false })).toBe(1);
  });

  it("counts an overwrite once against the budget", async () => {
    const { store, evicted } = budgeted(1000);
    await put(store, "a", 400);
    await put(store, "b", 400);

    await put(store, "a", 500);

    expect(evicted).toEqual([]);
    expect(await store.storage()).toEqual({ entriesCount: 2, totalSizeBytes: 900 });
  });

  it("does not keep an entry larger than the whole budget", async () => {
    const { store, evicted } = budgeted(1000);
    await put(store, "a", 100);

    await put(store, "huge", 1500);

    expect(evicted).toEqual([
      ["a", 100],
      ["huge", 1500],
    ]);
    expect((await store.read("huge", "f1")).value).toBeNull();
    expect(await store.storage()).toEqual({ entriesCount: 0, totalSizeBytes: 0 });
  });

  it("frees expired entries' bytes without reporting them as evictions", async () => {
    const { store, clock, evicted } = budgeted(1000);
    await put(store, "old", 600, "f1", 1000);
    clock.advance(2000);

    await put(store, "new", 600);

    expect(evicted).toEqual([]);
    expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 600 });
  });
});
