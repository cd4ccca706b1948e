// HotStore over Upstash Redis by HTTP (@upstash/redis), the AWS deployment's hot tier. Same scripts and
// key layout as the TCP adapter; only the transport and the value encoding differ.
//
// Values are stored as base64 text, not raw bytes: the REST API carries command arguments inside a JSON
// body (a Uint8Array would be JSON-serialised as an object), and the client decodes every reply string
// with TextDecoder (UTF-8), which corrupts bytes that are not valid UTF-8. Base64 survives both ways; it
// costs a third more Redis memory, while the accounting still reports the raw byte size.
import { Redis } from "@upstash/redis";
import type { HotStore } from "../core/cache/ports";
import { createScriptedHotStore, DEFAULT_HOT_PREFIX, replyText, type ScriptHost } from "./redis-scripts";

interface UpstashCommon {
  readonly prefix?: string;
  /** Clock for expiry deadlines; scripts stay deterministic (Upstash's advice), so time comes from here. */
  readonly now?: () => number;
}

/** REST URL and token (the store makes its own client), or a shared client. */
export type UpstashHotStoreOptions =
  | (UpstashCommon & {
      readonly url: string;
      readonly token: string;
      /** Whole-request timeout (including the client's retries). Default 1000 ms. */
      readonly commandTimeoutMs?: number;
      /** Retries after a network failure (not after a Redis error). Default 1. */
      readonly retries?: number;
    })
  | (UpstashCommon & {
      /** A client to share; it must be created with `automaticDeserialization: false`. */
      readonly client: Redis;
    });

/** Binds the scripted store to an @upstash/redis client (all keys are passed in ARGV, so KEYS is empty). */
export function upstashScriptHost(client: Redis): ScriptHost {
  return {
    evalsha: (sha, args) => client.evalsha(sha, [], args.map(asString)),
    get: (key) => client.get(key),
    eval: (source, args) => client.eval(source, [], args.map(asString)),
    async sscan(key, cursor, count) {
      const [next, members] = await client.sscan(key, cursor, { count });
      return { cursor: replyText(next), members: members.map(replyText) };
    },
    async ping() {
      await client.ping();
    },
    // HTTP: nothing to close
    close: async () => {},
  };
}

function asString(a: string | Buffer): string {
  return typeof a === "string" ? a : a.toString("base64");
}

function assertRawReplies(client: Redis): void {
  const opts = (client as unknown as { opts?: { automaticDeserialization?: boolean } }).opts;
  if (opts?.automaticDeserialization !== false) {
    // with JSON deserialisation on, a value whose base64 text happens to read as JSON ("null", "1234")
    // comes back as something else
    throw new TypeError("createUpstashHotStore: the client must be created with automaticDeserialization: false");
  }
}

/** Creates the Upstash-backed hot store. */
export function createUpstashHotStore(opts: UpstashHotStoreOptions): HotStore {
  let client: Redis;
  if ("client" in opts) {
    client = opts.client;
    assertRawReplies(client);
  } else {
    const timeoutMs = opts.commandTimeoutMs ?? 1000;
    client = new Redis({
      url: opts.url,
      token: opts.token,
      automaticDeserialization: false,
      retry: { retries: opts.retries ?? 1, backoff: () => 50 },
      // a fresh signal per request: an unreachable or stalled endpoint rejects instead of hanging
      signal: () => AbortSignal.timeout(timeoutMs),
    });
  }
  return createScriptedHotStore("upstash", upstashScriptHost(client), {
    prefix: opts.prefix ?? DEFAULT_HOT_PREFIX,
    now: opts.now ?? Date.now,
    codec: {
      encode: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
      decode: (raw) => new Uint8Array(Buffer.from(replyText(raw), "base64")),
    },
  });
}
