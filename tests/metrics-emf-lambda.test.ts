// A Lambda as deployed (AWS_LAMBDA_FUNCTION_NAME set) emits EMF for every lookup through the shared
// wiring (functions/shared/lambda.ts), and records the same lookups in the hot-store statistics.
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpEvent, lambdaContext } from "./helpers/apigw";
import { captureStdout, emfDocuments, emfViolations } from "./helpers/emf";
import { freshPostgresDatabase, postgresTarget } from "./helpers/services";

const pg = await postgresTarget();

describe.skipIf(!pg.available)("EMF from a deployed Lambda (functions/simulate.ts on real PostgreSQL)", () => {
  let drop: (() => Promise<void>) | undefined;
  let handler: (e: unknown, c: unknown) => Promise<unknown>;
  beforeAll(async () => {
    const fresh = await freshPostgresDatabase(pg.url);
    drop = fresh.drop;
    Object.assign(process.env, {
      AWS_LAMBDA_FUNCTION_NAME: "smc-simulate",
      DATABASE_URL: fresh.url,
      MIGRATE_ON_START: "true",
      METRICS_NAMESPACE: "ScenarioMatrixCacheTest",
      POWERTOOLS_SERVICE_NAME: "scenario-matrix-cache",
      API_TOKENS: JSON.stringify([{ actor: "reader", role: "read", token: "tok-read" }]),
    });
    delete process.env.REDIS_URL;
    handler = (await import("../functions/simulate")).handler as unknown as typeof handler;
  }, 60_000);
  afterAll(async () => drop?.());

  it("writes valid EMF for a miss then a hit, by the tier that answered, with the ids as properties", async () => {
    const simulate = () =>
      handler(
        httpEvent({ method: "POST", path: "/api/monte-carlo/simulate", body: { fundId: "fund-emf", runs: 150 }, headers: { authorization: "Bearer tok-read" } }),
        lambdaContext("smc-simulate"),
      ) as Promise<APIGatewayProxyStructuredResultV2>;

    const { result, lines } = await captureStdout(async () => [await simulate(), await simulate()]);

    expect(result.map((r) => r.statusCode)).toEqual([200, 200]);
    const docs = emfDocuments(lines);
    for (const d of docs) expect(emfViolations(d)).toEqual([]);
    const requests = docs.filter((d) => "Requests" in d);
    expect(requests.map((d) => d.Tier)).toEqual(["generated", "redis"]);
    expect(requests.every((d) => d._aws.CloudWatchMetrics[0].Namespace === "ScenarioMatrixCacheTest" && d.Service === "scenario-matrix-cache")).toBe(true);
    expect(requests[1]).toMatchObject({ CacheHit: 1, fundId: "fund-emf", matrixKey: JSON.parse(result[1].body!).cache.matrixKey });
    expect(docs.filter((d) => "CacheMiss" in d)).toHaveLength(1);
    expect(docs.find((d) => "GenerationDuration" in d)?.GenerationDuration).toBeGreaterThan(0);
  });
});
