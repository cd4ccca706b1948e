// HotStore over Redis by TCP with ioredis (self-hosted Redis, ElastiCache, Valkey). Values travel as raw
// Buffers. The client is tuned to fail fast: a Redis that is down must surface as a rejected promise within
// the command timeout (the core counts it and falls back to the durable tier), never as a queued hang.
import { Redis } from "ioredis";
import type { HotStore } from "../core/cache/ports";
import { createScriptedHotStore, DEFAULT_HOT_PREFIX, replyText, type ScriptHost } from "./redis-scripts";

export { DEFAULT_HOT_PREFIX } from "./redis-scripts";

/** Where the Redis is (or a client to share), the key prefix, the clock and the fail-fast budget. */
export interface RedisHotStoreOptions {
  /** redis:// or rediss:// URL; ignored when `client` is given. Default redis://127.0.0.1:6379. */
  readonly url?: string;
  /** A client to share; the store then leaves closing it to the caller. It must not set `keyPrefix`. */
  readonly client?: Redis;
  readonly prefix?: string;
  /** Clock for expiry deadlines (sets absolute Redis expiries, so it must track real time). */
  readonly now?: () => number;
  /** Per-command timeout of a client the store creates. Default 500 ms. */
  readonly commandTimeoutMs?: number;
}

/** Binds the scripted store to an ioredis client, asking for Buffer replies so values stay binary. */
export function ioredisScriptHost(client: Redis, ownsClient: boolean): ScriptHost {
  return {
    evalsha: (sha, args) => client.callBuffer("evalsha", sha, 0, ...args),
    eval: (source, args) => client.callBuffer("eval", source, 0, ...args),
    get: (key) => client.getBuffer(key),
    async readPipelined(valueKey, [globalEpoch, fundEpoch]) {
      const res = await client.pipeline().getBuffer(valueKey).mget(globalEpoch, fundEpoch).exec();
      if (!res) throw new Error("pipeline returned nothing");
      for (const [err] of res) if (err) throw err;
      const [g, f] = res[1][1] as (string | null)[];
      return [res[0][1], g, f];
    },
    async sscan(key, cursor, count) {
      const [next, members] = await client.sscan(key, cursor, "COUNT", count);
      return { cursor: String(next), members };
    },
    async ping() {
      await client.ping();
    },
    async close() {
      if (!ownsClient) return;
      // QUIT only on a live connection: on a lazy or failing one it would connect or wait just to say goodbye
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/** Creates the Redis-backed hot store; the connection opens on the first command. */
export function createRedisHotStore(opts: RedisHotStoreOptions = {}): HotStore {
  let client = opts.client;
  const owns = client === undefined;
  if (client === undefined) {
    client = new Redis(opts.url ?? "redis://127.0.0.1:6379", {
      lazyConnect: true,
      // one retry, then reject: with the default (20) a down Redis keeps requests queued for seconds
      maxRetriesPerRequest: 1,
      // the offline queue stays on so the first commands can wait for the lazy connect, but every command,
      // queued or sent, is bounded by commandTimeout
      commandTimeout: opts.commandTimeoutMs ?? 500,
      connectTimeout: Math.max(1000, (opts.commandTimeoutMs ?? 500) * 2),
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    // without a listener ioredis prints every reconnect failure; the failed commands already reject
    client.on("error", () => {});
  } else if (client.options.keyPrefix) {
    throw new TypeError("createRedisHotStore: pass `prefix` instead of a client with keyPrefix (script keys bypass it)");
  }
  return createScriptedHotStore("redis", ioredisScriptHost(client, owns), {
    prefix: opts.prefix ?? DEFAULT_HOT_PREFIX,
    now: opts.now ?? Date.now,
    codec: {
      encode: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      // copy: the caller owns the result, independent of the driver's reply buffers
      decode: (raw) => {
        if (raw instanceof Uint8Array) return new Uint8Array(raw);
        return new Uint8Array(Buffer.from(replyText(raw), "utf8"));
      },
    },
  });
}
