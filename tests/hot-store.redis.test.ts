// The ioredis hot store against the real Redis: the shared contract, the key layout it promises, the
// EVALSHA→EVAL fallback, and fail-fast behaviour when Redis is down or stalled.
import net from "node:net";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisHotStore, ioredisScriptHost } from "../adapters/hot-redis";
import { defineScript, hotKeys, runScript, type ScriptHost } from "../adapters/redis-scripts";
import { bytesOf, hotStoreContract } from "./contracts/hot-store.contract";
import { redisTarget, uniquePrefix, unlinkKeysUnder } from "./helpers/services";

const target = await redisTarget();
const base = uniquePrefix("hot-redis");

/** Records which script calls reach the server. */
function recording(host: ScriptHost) {
  const calls: string[] = [];
  const wrapped: ScriptHost = {
    ...host,
    evalsha: (sha, args) => (calls.push("evalsha"), host.evalsha(sha, args)),
    eval: (source, args) => (calls.push("eval"), host.eval(source, args)),
  };
  return { host: wrapped, calls };
}

describe.skipIf(!target.available)("Redis hot store (ioredis, real server)", () => {
  let admin: Redis;
  let n = 0;
  const nextPrefix = () => `${base}${n++}:`;

  beforeAll(() => {
    admin = new Redis(target.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await unlinkKeysUnder(admin, base);
    await admin.quit();
  });

  hotStoreContract("redis", async () => {
    const prefix = nextPrefix();
    const store = createRedisHotStore({ url: target.url, prefix });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await unlinkKeysUnder(admin, prefix);
      },
    };
  });

  describe("key layout", () => {
    it("stores the raw value under P m:<key> with a TTL, and indexes it under its fund", async () => {
      const prefix = nextPrefix();
      const keys = hotKeys(prefix);
      const store = createRedisHotStore({ url: target.url, prefix });
      const value = Uint8Array.from({ length: 256 }, (_, i) => i);
      const { epoch } = await store.read("k1", "f1");

      await store.write({ matrixKey: "k1", fundId: "f1", value, ttlMs: 60_000, epoch });

      const raw = await admin.getBuffer(keys.matrix("k1"));
      expect(raw && Buffer.compare(raw, Buffer.from(value))).toBe(0);
      const pttl = await admin.pttl(keys.matrix("k1"));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(await admin.smembers(keys.fundIndex("f1"))).toEqual(["k1"]);
      expect(await admin.smembers(keys.funds)).toEqual(["f1"]);
      expect(await admin.hget(keys.sizes, "k1")).toBe("256");
      expect(await admin.hget(keys.fundOf, "k1")).toBe("f1");
      await store.close();
    });

    it("leaves no entry, index or per-fund totals behind after a fund invalidation", async () => {
      const prefix = nextPrefix();
      const keys = hotKeys(prefix);
      const store = createRedisHotStore({ url: target.url, prefix });
      const { epoch } = await store.read("x", "f1");
      for (const k of ["k1", "k2", "k3"]) {
        await store.write({ matrixKey: k, fundId: "f1", value: bytesOf(5), ttlMs: 60_000, epoch });
      }

      await store.invalidate({ kind: "fund", fundId: "f1" }, { dryRun: false });

      expect(await admin.exists(keys.matrix("k1"), keys.matrix("k2"), keys.matrix("k3"))).toBe(0);
      expect(await admin.exists(keys.fundIndex("f1"), keys.fundTotals("f1"))).toBe(0);
      expect(await admin.sismember(keys.funds, "f1")).toBe(0);
      expect(await admin.get(keys.fundEpoch("f1"))).toBe("1");
      await store.close();
    });

    it("leaves a shared client open on close", async () => {
      const client = new Redis(target.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      const store = createRedisHotStore({ client, prefix: nextPrefix() });
      await store.ping();

      await store.close();

      expect(await client.ping()).toBe("PONG");
      await client.quit();
    });
  });

  describe("scripts", () => {
    it("sends a script unknown to the server with EVAL after NOSCRIPT, then runs it by EVALSHA", async () => {
      const client = new Redis(target.url, { maxRetriesPerRequest: 1 });
      const { host, calls } = recording(ioredisScriptHost(client, true));
      // a fresh nonce in the source: a SHA the server has never seen
      const probe = defineScript("probe", `return ARGV[1] .. ':${randomBytes(8).toString("hex")}'`);

      const first = await runScript(host, probe, ["a"]);
      const second = await runScript(host, probe, ["b"]);

      expect(String(first)).toMatch(/^a:/);
      expect(String(second)).toMatch(/^b:/);
      expect(calls).toEqual(["evalsha", "eval", "evalsha"]);
      await host.close();
    });
  });

  describe("faults", () => {
    it("rejects promptly when nothing listens on the port, instead of hanging", { timeout: 3000 }, async () => {
      const store = createRedisHotStore({ url: "redis://127.0.0.1:1", prefix: nextPrefix(), commandTimeoutMs: 300 });

      await expect(store.read("k1", "f1")).rejects.toThrow();
      await expect(store.storage()).rejects.toThrow();
      await expect(store.apply([{ op: "hincr", key: "h", field: "n", by: 1, ttlSec: 60 }])).rejects.toThrow();
      await store.close();
    });

    it("rejects within the command timeout when the server accepts but never answers", { timeout: 3000 }, async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((s) => void sockets.add(s));
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
      const { port } = silent.address() as net.AddressInfo;
      const store = createRedisHotStore({ url: `redis://127.0.0.1:${port}`, prefix: nextPrefix(), commandTimeoutMs: 300 });

      await expect(store.read("k1", "f1")).rejects.toThrow(/timed out/i);

      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    });
  });
});
