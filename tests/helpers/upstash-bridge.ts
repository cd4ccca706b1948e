// An Upstash-REST-compatible HTTP server in front of a real Redis, so the real @upstash/redis client can be
// exercised over real HTTP in tests. It answers what that client sends: `POST /` (one command), `POST
// /pipeline`, `POST /multi-exec`, bearer auth, and the `Upstash-Encoding: base64` response encoding.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";

export interface UpstashBridge {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

type Arg = string | number | boolean;
type Reply = { result: unknown } | { error: string };

class BadRequest extends Error {
  override readonly name = "BadRequest";
}

function parseCommand(x: unknown): [string, ...Arg[]] {
  if (!Array.isArray(x) || x.length === 0 || typeof x[0] !== "string") {
    throw new BadRequest("ERR a command is a non-empty JSON array starting with its name");
  }
  for (const a of x) {
    if (typeof a !== "string" && typeof a !== "number" && typeof a !== "boolean") {
      throw new BadRequest(`ERR command arguments must be strings or numbers, got ${typeof a}`);
    }
  }
  return x as [string, ...Arg[]];
}

/**
 * Upstash's encoding: with base64 on, every bulk string (also inside arrays) is base64, except a
 * top-level "OK" status, which the client passes through undecoded. Integers and nulls stay as they are.
 */
function encodeReply(value: unknown, base64: boolean, topLevel = true): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map((v) => encodeReply(v, base64, false));
  if (value instanceof Error) return value.message;
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(String(value), "utf8");
  if (!base64) return buf.toString("utf8");
  if (topLevel && buf.length === 2 && buf.toString("latin1") === "OK") return "OK";
  return buf.toString("base64");
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Starts the bridge on 127.0.0.1 (random port) in front of `redisUrl`; `close()` stops both. */
export async function startUpstashBridge(opts: { redisUrl: string; token: string }): Promise<UpstashBridge> {
  // RESP2 and Buffer replies: what Upstash's own REST layer sees, byte for byte
  const redis = new Redis(opts.redisUrl, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  await redis.connect();

  async function many(commands: [string, ...Arg[]][], atomic: boolean, base64: boolean): Promise<Reply[]> {
    const batch = atomic ? redis.multi() : redis.pipeline();
    for (const [name, ...args] of commands) batch.callBuffer(name, ...args.map((a) => (typeof a === "boolean" ? String(a) : a)));
    const results = (await batch.exec()) ?? [];
    return results.map(([err, r]) => (err ? { error: err.message } : { result: encodeReply(r, base64) }));
  }

  const server = http.createServer(async (req, res) => {
    try {
      if (req.headers.authorization !== `Bearer ${opts.token}`) {
        req.resume();
        return send(res, 401, { error: "Unauthorized" });
      }
      if (req.method !== "POST") {
        req.resume();
        return send(res, 405, { error: "only POST is bridged" });
      }
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const path = (req.url ?? "/").split("?")[0];
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return send(res, 400, { error: "ERR request body is not JSON" });
      }

      if (path === "/" || path === "") {
        const [name, ...args] = parseCommand(body);
        try {
          const r = await redis.callBuffer(name, ...args.map((a) => (typeof a === "boolean" ? String(a) : a)));
          return send(res, 200, { result: encodeReply(r, base64) });
        } catch (e) {
          return send(res, 400, { error: errorMessage(e) });
        }
      }
      if (path === "/pipeline" || path === "/multi-exec") {
        if (!Array.isArray(body) || body.length === 0) throw new BadRequest("ERR expected a JSON array of commands");
        const commands = body.map(parseCommand);
        try {
          return send(res, 200, await many(commands, path === "/multi-exec", base64));
        } catch (e) {
          // EXECABORT and friends: the transaction as a whole failed
          return send(res, 400, { error: errorMessage(e) });
        }
      }
      return send(res, 404, { error: `no such endpoint ${path}` });
    } catch (e) {
      if (!res.headersSent) send(res, e instanceof BadRequest ? 400 : 500, { error: errorMessage(e) });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: opts.token,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
