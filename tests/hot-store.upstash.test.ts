// The Upstash hot store: the real @upstash/redis client over real HTTP, through an Upstash-REST-compatible
// bridge, against the real Redis. Also checks that the bridge answers the way Upstash does.
import { randomBytes } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { Redis as UpstashRedis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstashHotStore, upstashScriptHost } from "../adapters/hot-upstash";
import { defineScript, hotKeys, runScript, type ScriptHost } from "../adapters/redis-scripts";
import { bytesOf, hotStoreContract } from "./contracts/hot-store.contract";
import { redisTarget, uniquePrefix, unlinkKeysUnder } from "./helpers/services";
import { startUpstashBridge, type UpstashBridge } from "./helpers/upstash-bridge";

const target = await redisTarget();
const base = uniquePrefix("hot-upstash");
const TOKEN = `test-${randomBytes(8).toString("hex")}`;

describe.skipIf(!target.available)("Upstash hot store (@upstash/redis over HTTP, real Redis)", () => {
  let bridge: UpstashBridge;
  let admin: IORedis;
  let n = 0;
  const nextPrefix = () => `${base}${n++}:`;

  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: target.url, token: TOKEN });
    admin = new IORedis(target.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await bridge?.close();
    if (admin) {
      await unlinkKeysUnder(admin, base);
      await admin.quit();
    }
  });

  hotStoreContract("upstash", async () => {
    const prefix = nextPrefix();
    const store = createUpstashHotStore({ url: bridge.url, token: bridge.token, prefix, commandTimeoutMs: 5000 });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await unlinkKeysUnder(admin, prefix);
      },
    };
  });

  describe("adapter", () => {
    it("stores values as base64 text and accounts their raw size", async () => {
      const prefix = nextPrefix();
      const keys = hotKeys(prefix);
      const store = createUpstashHotStore({ url: bridge.url, token: bridge.token, prefix });
      const value = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
      const { epoch } = await store.read("k1", "f1");

      await store.write({ matrixKey: "k1", fundId: "f1", value, ttlMs: 60_000, epoch });

      expect(await admin.get(keys.matrix("k1"))).toBe(Buffer.from(value).toString("base64"));
      expect(await admin.hget(keys.sizes, "k1")).toBe("256");
      expect(await store.storage()).toEqual({ entriesCount: 1, totalSizeBytes: 256 });
    });

    it("accepts a shared client created with automaticDeserialization: false", async () => {
      const prefix = nextPrefix();
      const client = new UpstashRedis({ url: bridge.url, token: bridge.token, automaticDeserialization: false });
      const store = createUpstashHotStore({ client, prefix });
      const { epoch } = await store.read("k1", "f1");

      // "null" is the base64 of these bytes: with JSON deserialisation it would read back as null
      const value = new Uint8Array(Buffer.from("null", "base64"));
      await store.write({ matrixKey: "k1", fundId: "f1", value, ttlMs: 60_000, epoch });

      const got = (await store.read("k1", "f1")).value;
      expect(got && Buffer.from(got).equals(Buffer.from(value))).toBe(true);
    });

    it("refuses a shared client that deserialises replies as JSON", () => {
      const client = new UpstashRedis({ url: bridge.url, token: bridge.token });

      expect(() => createUpstashHotStore({ client, prefix: nextPrefix() })).toThrow(/automaticDeserialization/);
    });

    it("sends a script unknown to the server with EVAL after NOSCRIPT, then runs it by EVALSHA", async () => {
      const client = new UpstashRedis({ url: bridge.url, token: bridge.token, automaticDeserialization: false });
      const inner = upstashScriptHost(client);
      const calls: string[] = [];
      const host: ScriptHost = {
        ...inner,
        evalsha: (sha, args) => (calls.push("evalsha"), inner.evalsha(sha, args)),
        eval: (source, args) => (calls.push("eval"), inner.eval(source, args)),
      };
      const probe = defineScript("probe", `return ARGV[1] .. ':${randomBytes(8).toString("hex")}'`);

      const first = await runScript(host, probe, ["a"]);
      const second = await runScript(host, probe, ["b"]);

      expect(String(first)).toMatch(/^a:/);
      expect(String(second)).toMatch(/^b:/);
      expect(calls).toEqual(["evalsha", "eval", "evalsha"]);
    });

    it("rejects promptly when the endpoint is unreachable, instead of hanging", { timeout: 5000 }, async () => {
      const store = createUpstashHotStore({ url: "http://127.0.0.1:1", token: "t", prefix: nextPrefix(), commandTimeoutMs: 500, retries: 0 });

      await expect(store.read("k1", "f1")).rejects.toThrow();
    });

    it("rejects a wrong token instead of reading as a miss", async () => {
      const store = createUpstashHotStore({ url: bridge.url, token: "wrong", prefix: nextPrefix() });

      await expect(store.read("k1", "f1")).rejects.toThrow(/Unauthorized/);
    });

    it("works with auto-pipelining off as well", async () => {
      const client = new UpstashRedis({
        url: bridge.url,
        token: bridge.token,
        automaticDeserialization: false,
        enableAutoPipelining: false,
      });
      const store = createUpstashHotStore({ client, prefix: nextPrefix() });
      const { epoch } = await store.read("k1", "f1");

      expect(await store.write({ matrixKey: "k1", fundId: "f1", value: bytesOf(1000), ttlMs: 60_000, epoch })).toBe("stored");
      expect(await store.storage("f1")).toEqual({ entriesCount: 1, totalSizeBytes: 1000 });
    });
  });

  describe("bridge", () => {
    async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${bridge.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    }
    const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

    it("answers 401 without the bearer token", async () => {
      const res = await fetch(bridge.url, { method: "POST", body: JSON.stringify(["PING"]) });

      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: expect.any(String) });
    });

    it("runs one command and base64-encodes string results only when asked to", async () => {
      const key = `${nextPrefix()}s`;

      const set = await post("/", ["SET", key, "héllo"]);
      const plain = await post("/", ["GET", key]);
      const encoded = await post("/", ["GET", key], { "Upstash-Encoding": "base64" });
      const okEncoded = await post("/", ["SET", key, "x"], { "Upstash-Encoding": "base64" });

      expect(set).toEqual({ status: 200, body: { result: "OK" } });
      expect(plain.body).toEqual({ result: "héllo" });
      expect(encoded.body).toEqual({ result: b64("héllo") });
      expect(okEncoded.body).toEqual({ result: "OK" });
    });

    it("encodes nested arrays recursively and leaves integers and nulls alone", async () => {
      const res = await post("/", ["EVAL", "return {1, 'a', false, {2, 'OK'}}", "0"], { "Upstash-Encoding": "base64" });

      expect(res.body).toEqual({ result: [1, b64("a"), null, [2, b64("OK")]] });
    });

    it("answers a command error with HTTP 400 and { error }", async () => {
      const res = await post("/", ["NOSUCHCOMMAND", "x"]);

      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: expect.stringMatching(/unknown command/i) });
    });

    it("runs a pipeline, one result or error per command", async () => {
      const key = `${nextPrefix()}p`;

      const res = await post("/pipeline", [["INCR", key], ["HGET", key, "f"], ["INCRBY", key, 5]]);

      expect(res.status).toBe(200);
      expect(res.body).toEqual([{ result: 1 }, { error: expect.stringMatching(/WRONGTYPE/) }, { result: 6 }]);
    });

    it("runs /multi-exec inside MULTI/EXEC", async () => {
      const key = `${nextPrefix()}m`;

      const res = await post("/multi-exec", [["SET", key, "v"], ["GET", key], ["DEL", key]], { "Upstash-Encoding": "base64" });

      expect(res.body).toEqual([{ result: "OK" }, { result: b64("v") }, { result: 1 }]);
    });

    it("serves the real client's multi() and pipeline() calls", async () => {
      const client = new UpstashRedis({ url: bridge.url, token: bridge.token, automaticDeserialization: false });
      const key = `${nextPrefix()}c`;

      const tx = await client.multi().incr(key).incr(key).get(key).exec();
      const pipe = await client.pipeline().incrby(key, 10).del(key).exec();

      expect(tx).toEqual([1, 2, "2"]);
      expect(pipe).toEqual([12, 1]);
    });
  });
});
