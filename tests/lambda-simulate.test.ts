// The simulate Lambda file itself (module-scope wiring + exported handler) with API Gateway v2 events.
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { httpEvent, lambdaContext } from "./helpers/apigw";

describe("functions/simulate.ts handler", () => {
  it("serves a miss then a hit, and refuses bad input with a 400", async () => {
    // the handler's wiring is under test, not storage: embedded stores, never the shared servers CI names
    for (const k of ["DATABASE_URL", "REDIS_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"]) delete process.env[k];
    process.env.PGLITE_DIR = "memory://";
    process.env.MIGRATE_ON_START = "true";
    process.env.API_TOKENS = JSON.stringify([{ actor: "reader", role: "read", token: "tok-read" }]);
    const { handler } = await import("../functions/simulate");
    const call = async (body: unknown, token = "tok-read") =>
      (await handler(
        httpEvent({ method: "POST", path: "/api/monte-carlo/simulate", body, headers: { authorization: `Bearer ${token}` } }),
        lambdaContext("simulate"),
      )) as APIGatewayProxyStructuredResultV2;
    const first = await call({ fundId: "fund-1", runs: 300 });
    const second = await call({ fundId: "fund-1", runs: 300 });
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body!).cache.tier).toBe("generated");
    expect(JSON.parse(second.body!).cache.tier).toBe("redis"); // the memory hot tier survives warm invocations
    const bad = await call({ fundId: "fund-1", runs: -1 });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body!).error.details[0].path).toBe("runs");
    expect((await call({ fundId: "fund-1" }, "wrong")).statusCode).toBe(401);
  });
});
