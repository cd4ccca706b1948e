// The DurableStore contract on the real PostgreSQL, in a database of its own that is dropped afterwards.
// Skipped when the server is unreachable (global-setup says so; under CI that is a failure instead).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { drizzleHarnessParts, durableStoreContract, makeBytes, makeEntry } from "./contracts/durable-store.contract";
import { freshPostgresDatabase, postgresTarget } from "./helpers/services";

const target = await postgresTarget();

describe.skipIf(!target.available)("DurableStore on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let handle: DbHandle;

  beforeAll(async () => {
    database = await freshPostgresDatabase(target.url);
    handle = createDb({ url: database.url });
    await handle.migrate();
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  durableStoreContract("PostgreSQL (postgres.js)", async () => ({
    store: createDrizzleDurableStore(handle.db),
    ...drizzleHarnessParts(handle.db),
  }));

  it("works without prepared statements (pooler mode): migrate is a no-op and entries round-trip", async () => {
    const pooled = createDb({ url: database.url, prepare: false, max: 2 });
    try {
      await pooled.migrate();
      const store = createDrizzleDurableStore(pooled.db);
      const entry = makeEntry("pooled", { bytes: makeBytes(4099, 9) });

      expect(await store.acquireLease({ ...entry.meta, config: { a: 1 }, owner: "o", leaseMs: 60_000 })).toEqual({
        acquired: true,
      });
      expect(await store.complete("o", entry)).toBe(true);
      const read = await store.readComplete("pooled");
      expect(await store.storage(entry.meta.fundId)).toEqual({ entriesCount: 1, totalSizeBytes: 4099 });

      expect(pooled.kind).toBe("postgres");
      expect(Buffer.from(read!.bytes).equals(Buffer.from(entry.bytes))).toBe(true);
      expect(read!.meta).toEqual(entry.meta);
    } finally {
      await drizzleHarnessParts(pooled.db).cleanup();
      await pooled.close();
    }
  });
});
