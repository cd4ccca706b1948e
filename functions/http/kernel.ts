// The HTTP kernel every route group is mounted on: request ids, structured logs, bearer auth with two
// roles, bounded JSON bodies parsed with the shared zod schemas, and the one onError.
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { z } from "zod";
import {
  AppError,
  ForbiddenError,
  MalformedJsonError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from "../../core/shared/errors";
import { ID_PATTERN } from "../../core/scenario";
import { withKeys, type Log } from "../../core/shared/log";

export type Role = "read" | "admin";
export interface ApiToken {
  readonly actor: string;
  readonly role: Role;
  readonly token: string;
}

export interface AuthSettings {
  readonly tokens: readonly ApiToken[];
  /** true in Lambda: no tokens configured means refuse to serve, never open */
  readonly deployed: boolean;
}

export interface HttpDeps {
  readonly auth: AuthSettings;
  readonly log: Log;
  /** largest accepted request body (default 256 KiB) */
  readonly maxBodyBytes?: number;
}

export type AppEnv = {
  Variables: { requestId: string; log: Log; actor: string; role: Role | "anonymous"; maxBodyBytes: number };
};
export type App = Hono<AppEnv>;

const DEFAULT_MAX_BODY = 256 * 1024;

/** The base app: request id → per-request log → routes; errors become JSON in onError only. */
export function createApp(deps: HttpDeps): App {
  const app = new Hono<AppEnv>();
  app.use(
    "*",
    requestId({
      // accept a caller's id only if it is safe to echo into logs and headers
      generator: () => crypto.randomUUID(),
      limitLength: 64,
    }),
  );
  app.use("*", async (c, next) => {
    const id = c.get("requestId");
    if (!ID_PATTERN.test(id)) c.set("requestId", crypto.randomUUID());
    c.header("X-Request-Id", c.get("requestId"));
    c.set("log", withKeys(deps.log, { requestId: c.get("requestId") }));
    c.set("actor", "anonymous");
    c.set("role", "anonymous");
    c.set("maxBodyBytes", deps.maxBodyBytes ?? DEFAULT_MAX_BODY);
    await next();
  });
  app.onError((err, c) => errorResponse(err, c));
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}`, requestId: c.get("requestId") } }, 404),
  );
  return app;
}

/** The single place errors become HTTP. Unknown errors are logged and get a stable 500 body. */
export function errorResponse(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId");
  if (err instanceof AppError) {
    if (err.status >= 500) c.get("log")?.error(err.message, { code: err.code, cause: String(err.cause ?? "") });
    return c.json({ error: { code: err.code, message: err.message, details: err.details, requestId } }, err.status as 400);
  }
  if (isDependencyDown(err)) {
    // A store that cannot be reached is a 503 the client may retry, not a bug (a 500).
    c.get("log")?.error("dependency unavailable", { error: err.message, name: err.name });
    return c.json({ error: { code: "unavailable", message: "a storage dependency is unavailable; retry later", requestId } }, 503);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return c.json({ error: { code: "http_error", message: err.message, requestId } }, err.status);
  }
  c.get("log")?.error("unhandled error", { error: err.message, name: err.name, stack: err.stack });
  return c.json({ error: { code: "internal_error", message: "internal error", requestId } }, 500);
}

// Network-level failure codes of node, postgres.js and ioredis.
const DOWN_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "57P01", "57P03",
]);

/** True when the error, or any error in its cause chain, is a store being unreachable. */
export function isDependencyDown(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && DOWN_CODES.has(code)) return true;
    if (e instanceof Error && /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(e.message)) return true;
  }
  return false;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Bearer auth: admin may do everything read may. Every configured token is compared, in constant
 * time on SHA-256 digests (equal lengths), so timing reveals neither which nor how much matched.
 */
export function requireRole(auth: AuthSettings, role: Role): MiddlewareHandler<AppEnv> {
  const hashed = auth.tokens.map((t) => ({ ...t, digest: digest(t.token) }));
  return async (c, next) => {
    if (hashed.length === 0) {
      if (auth.deployed) throw new UnavailableError("authentication is not configured: refusing to serve");
      c.set("actor", "local-anonymous");
      c.set("role", "admin");
      return next();
    }
    const header = c.req.header("authorization");
    if (!header) throw new UnauthorizedError("missing bearer token");
    const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!m) throw new UnauthorizedError("malformed authorization header: expected 'Bearer <token>'");
    const given = digest(m[1]);
    let found: (typeof hashed)[number] | undefined;
    for (const t of hashed) if (timingSafeEqual(t.digest, given) && !found) found = t;
    if (!found) throw new UnauthorizedError("invalid bearer token");
    if (role === "admin" && found.role !== "admin") throw new ForbiddenError(`this route needs the admin role; ${found.actor} has read`);
    c.set("actor", found.actor);
    c.set("role", found.role);
    return next();
  };
}

/** Reads a bounded JSON body and parses it with the route's zod schema (400 naming the field). */
export async function readJson<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const limit = c.get("maxBodyBytes");
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) throw new PayloadTooLargeError(`body of ${declared} bytes exceeds the ${limit}-byte limit`);
  const text = await c.req.text();
  if (Buffer.byteLength(text) > limit) throw new PayloadTooLargeError(`body exceeds the ${limit}-byte limit`);
  let raw: unknown;
  try {
    raw = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    throw new MalformedJsonError("body is not valid JSON", [{ path: "body", message: "invalid JSON" }]);
  }
  if (raw === undefined) throw new ValidationError("a JSON body is required", [{ path: "body", message: "required" }]);
  return parseWith("body", schema, raw);
}

export function readQuery<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  return parseWith("query", schema, c.req.query());
}

export function readParams<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  return parseWith("path", schema, c.req.param());
}

export function parseWith<S extends z.ZodType>(where: "body" | "query" | "path" | "message", schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw ValidationError.fromIssues(where, r.error.issues);
  return r.data;
}
