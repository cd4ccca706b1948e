// The HTTP kernel and the simulate route through app.request(), and the simulate Lambda handler
// with an API Gateway HTTP API v2 event.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { handle } from "hono/aws-lambda";
import { createApp, requireRole, type App, type AuthSettings } from "../functions/http/kernel";
import { simulateRoutes } from "../functions/http/routes/simulate";
import { silentLog } from "../core/shared/log";
import { cacheFixture, type CacheFixture } from "./helpers/cache-fixture";
import { httpEvent, lambdaContext } from "./helpers/apigw";

const tokens: AuthSettings = {
  deployed: false,
  tokens: [
    { actor: "reader", role: "read", token: "r-token" },
    { actor: "ops", role: "admin", token: "a-token" },
  ],
};

function appWith(auth: AuthSettings, fx: CacheFixture): App {
  const app = simulateRoutes(createApp({ auth, log: silentLog, maxBodyBytes: 4096 }), { auth, cache: fx.cache() });
  app.post("/admin-only", requireRole(auth, "admin"), (c) => c.json({ actor: c.get("actor") }));
  app.get("/boom", () => {
    throw new Error("secret internals");
  });
  app.get("/db-down", () => {
    throw new Error("Failed query: select 1", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }) });
  });
  return app;
}

const post = (app: App, path: string, body: string, headers: Record<string, string> = {}) =>
  app.request(path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

describe("HTTP kernel", () => {
  let fx: CacheFixture;
  let app: App;
  beforeAll(async () => {
    fx = await cacheFixture("embedded", "kernel");
    app = appWith(tokens, fx);
  });
  afterAll(async () => fx?.close());

  it("401 without a credential, 401 for a malformed or unknown token, 403 for the wrong role", async () => {
    expect((await post(app, "/admin-only", "{}")).status).toBe(401);
    expect((await post(app, "/admin-only", "{}", { authorization: "Basic abc" })).status).toBe(401);
    expect((await post(app, "/admin-only", "{}", { authorization: "Bearer wrong" })).status).toBe(401);
    const forbidden = await post(app, "/admin-only", "{}", { authorization: "Bearer r-token" });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as any).error.code).toBe("forbidden");
  });

  it("names the actor from the credential; admin may use read routes", async () => {
    const r = await post(app, "/admin-only", "{}", { authorization: "Bearer a-token" });
    expect(await r.json()).toEqual({ actor: "ops" });
    expect((await post(app, "/api/monte-carlo/simulate", JSON.stringify({ fundId: "f", runs: 10 }), { authorization: "Bearer a-token" })).status).toBe(200);
  });

  it("refuses to serve when deployed with no tokens configured", async () => {
    const open: AuthSettings = { tokens: [], deployed: true };
    const r = await post(appWith(open, fx), "/api/monte-carlo/simulate", JSON.stringify({ fundId: "f", runs: 10 }));
    expect(r.status).toBe(503);
  });

  it("serves without tokens locally (auth off) as an anonymous local actor", async () => {
    const r = await post(appWith({ tokens: [], deployed: false }, fx), "/admin-only", "{}");
    expect(await r.json()).toEqual({ actor: "local-anonymous" });
  });

  it.each([
    ["invalid JSON", "{not json", "malformed_json", "body"],
    ["an empty body", "", "validation_error", "body"],
    ["a wrong type", JSON.stringify({ fundId: 5 }), "validation_error", "fundId"],
    ["a missing field", JSON.stringify({ runs: 5 }), "validation_error", "fundId"],
    ["an id with glob characters", JSON.stringify({ fundId: "fund-*" }), "validation_error", "fundId"],
    ["a nested config error", JSON.stringify({ fundId: "f", config: { buckets: [{ name: "a", capitalAllocation: 100, moicCalibration: { median: 2, p90: 1 } }] } }), "validation_error", "config.buckets.0.moicCalibration.p90"],
    ["an unknown enum value", JSON.stringify({ fundId: "f", config: { recycling: { enabled: "maybe" } } }), "validation_error", "config.recycling.enabled"],
    ["disagreeing runs", JSON.stringify({ fundId: "f", runs: 10, config: { numScenarios: 20 } }), "validation_error", "runs"],
  ])("answers %s with a 400 naming the field", async (_, body, code, path) => {
    const r = await post(app, "/api/monte-carlo/simulate", body, { authorization: "Bearer r-token" });
    expect(r.status).toBe(400);
    const err = ((await r.json()) as any).error;
    expect(err.code).toBe(code);
    expect(err.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(r.headers.get("x-request-id")).toBe(err.requestId);
  });

  it("answers an oversized body with 413", async () => {
    const r = await post(app, "/api/monte-carlo/simulate", JSON.stringify({ fundId: "f", pad: "x".repeat(5000) }), { authorization: "Bearer r-token" });
    expect(r.status).toBe(413);
    expect(((await r.json()) as any).error.code).toBe("payload_too_large");
  });

  it("turns an unknown error into a logged 500 with a stable body that leaks nothing", async () => {
    const r = await app.request("/boom");
    expect(r.status).toBe(500);
    const body = (await r.json()) as any;
    expect(body.error).toMatchObject({ code: "internal_error", message: "internal error" });
    expect(JSON.stringify(body)).not.toContain("secret");
  });

  it("answers a store that cannot be reached with a retryable 503, not a 500", async () => {
    const r = await app.request("/db-down");
    expect(r.status).toBe(503);
    expect(((await r.json()) as any).error.code).toBe("unavailable");
  });

  it("answers unknown routes with a JSON 404", async () => {
    const r = await app.request("/nope");
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).error.code).toBe("not_found");
  });

  it("keeps a caller's safe request id and replaces an unsafe one", async () => {
    expect((await app.request("/nope", { headers: { "x-request-id": "abc-123" } })).headers.get("x-request-id")).toBe("abc-123");
    expect((await app.request("/nope", { headers: { "x-request-id": "a b*c" } })).headers.get("x-request-id")).not.toBe("a b*c");
  });

  it("serves simulate through the Lambda adapter with an API Gateway v2 event", async () => {
    const handler = handle(app);
    const res = (await handler(
      httpEvent({ method: "POST", path: "/api/monte-carlo/simulate", body: { fundId: "fund-1", runs: 500 }, headers: { authorization: "Bearer r-token" } }),
      lambdaContext("simulate"),
    )) as APIGatewayProxyResultV2 as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body!);
    expect(body.cache).toMatchObject({ hit: false, tier: "generated" });
    expect(body.runs).toBe(500);
    expect(res.headers?.["x-request-id"]).toBeTruthy();
  });
});
