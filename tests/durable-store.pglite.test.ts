// The DurableStore contract on embedded PGlite (the local default), migrated from the committed drizzle/.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { drizzleHarnessParts, durableStoreContract, makeEntry } from "./contracts/durable-store.contract";

const handle = createDb({ pgliteDir: "memory://" });
beforeAll(() => handle.migrate());
afterAll(() => handle.close());

durableStoreContract("PGlite (memory)", async () => ({
  store: createDrizzleDurableStore(handle.db),
  ...drizzleHarnessParts(handle.db),
}));

describe("createDb with a PGlite folder", () => {
  it("keeps migrated tables and entries across a reopen, and migrating again is a no-op", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "smc-pglite-"));
    try {
      const first = createDb({ pgliteDir: dir });
      await first.migrate();
      const store = createDrizzleDurableStore(first.db);
      const entry = makeEntry("persisted");
      await store.acquireLease({ ...entry.meta, config: {}, owner: "o", leaseMs: 60_000 });
      expect(await store.complete("o", entry)).toBe(true);
      await first.close();

      const second = createDb({ pgliteDir: dir });
      await second.migrate();
      const read = await createDrizzleDurableStore(second.db).readComplete("persisted");
      await second.close();

      expect(second.kind).toBe("pglite");
      expect(read?.meta).toEqual(entry.meta);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
