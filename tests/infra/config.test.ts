import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// SST's Resource reads SST_RESOURCE_* once, on first access, for the whole process. The in-process tests
// below must see no links at all, whatever shell they were started from (e.g. under `sst dev`).
for (const key of Object.keys(process.env)) {
  if (key.startsWith("SST_RESOURCE") || key === "SST_KEY" || key === "SST_KEY_FILE") delete process.env[key];
}
const { ConfigError, DEFAULT_METRICS_NAMESPACE, loadConfig, parseApiTokens } = await import("../../functions/shared/config");

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const PRINT_CONFIG = join(ROOT, "tests/infra/helpers/print-config.ts");

const alice = { actor: "alice", role: "admin", token: "alice-token-0123456789" };
const bob = { actor: "bob", role: "read", token: "bob-token-0123456789" };

describe("loadConfig from environment variables (no SST links)", () => {
  it("reads every setting from its variable", () => {
    const env = {
      DATABASE_URL: "postgres://app:pw@db.internal:5432/cache",
      UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "upstash-token",
      REDIS_URL: "redis://127.0.0.1:6379",
      API_TOKENS: JSON.stringify([alice, bob]),
      WARM_HIGH_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/high",
      WARM_LOW_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/low",
      METRICS_NAMESPACE: "CustomNamespace",
      AWS_LAMBDA_FUNCTION_NAME: "app-prod-Stats",
    };

    const config = loadConfig(env);

    expect(config).toEqual({
      databaseUrl: env.DATABASE_URL,
      upstash: { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN },
      redisUrl: env.REDIS_URL,
      apiTokens: [alice, bob],
      queues: { high: env.WARM_HIGH_QUEUE_URL, low: env.WARM_LOW_QUEUE_URL },
      metricsNamespace: "CustomNamespace",
      deployed: true,
    });
  });

  it("falls back to the embedded defaults when nothing is set", () => {
    const config = loadConfig({});

    expect(config).toEqual({
      databaseUrl: undefined,
      upstash: undefined,
      redisUrl: undefined,
      apiTokens: [],
      queues: { high: undefined, low: undefined },
      metricsNamespace: DEFAULT_METRICS_NAMESPACE,
      deployed: false,
    });
  });

  it("treats empty and blank variables as unset", () => {
    const config = loadConfig({ DATABASE_URL: "", API_TOKENS: "  ", AWS_LAMBDA_FUNCTION_NAME: "" });

    expect(config.databaseUrl).toBeUndefined();
    expect(config.apiTokens).toEqual([]);
    expect(config.deployed).toBe(false);
  });

  it("refuses an Upstash URL without its token, and a token without its URL", () => {
    expect(() => loadConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" })).toThrow(
      /UPSTASH_REDIS_REST_TOKEN: must be set with UPSTASH_REDIS_REST_URL/,
    );
    expect(() => loadConfig({ UPSTASH_REDIS_REST_TOKEN: "t" })).toThrow(/UPSTASH_REDIS_REST_URL: must be set/);
  });

  it("rejects URLs of the wrong kind without echoing them", () => {
    const secretish = "mysql://root:hunter2@db/x";

    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: secretish });
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^DATABASE_URL: has protocol mysql:; expected postgres: or postgresql:/);
    expect((error as Error).message).not.toContain("hunter2");
    expect(() => loadConfig({ REDIS_URL: "not a url" })).toThrow(/REDIS_URL: is not a URL/);
  });
});

describe("API token list", () => {
  it("parses a valid list", () => {
    expect(parseApiTokens(JSON.stringify([alice, bob]))).toEqual([alice, bob]);
  });

  it("names the variable and never the tokens when the JSON is malformed", () => {
    const malformed = `[{"actor":"alice","role":"admin","token":"s3cr3t-value"`;

    let error: unknown;
    try {
      loadConfig({ API_TOKENS: malformed });
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^API_TOKENS: is not valid JSON; expected \[\{"actor"/);
    expect((error as Error).message).not.toContain("s3cr3t-value");
    expect((error as Error).cause).toBeUndefined();
  });

  it.each([
    ["an object instead of a list", { ...alice }, /\(root\): Invalid input/],
    ["an unknown role", [{ ...alice, role: "owner" }], /\[0\]\.role/],
    ["a missing token", [{ actor: "alice", role: "read" }], /\[0\]\.token/],
    ["an empty actor", [{ ...alice, actor: " " }], /\[0\]\.actor/],
    ["one token given twice", [alice, { ...bob, token: alice.token }], /\[1\]\.token: duplicate token/],
  ])("rejects %s, naming the entry", (_label, value, where) => {
    expect(() => loadConfig({ API_TOKENS: JSON.stringify(value) })).toThrow(where);
    expect(() => loadConfig({ API_TOKENS: JSON.stringify(value) })).toThrow(/^API_TOKENS: is not a valid token list/);
  });
});

describe("loadConfig with SST links (SST_RESOURCE_<Name>, fresh process)", () => {
  const run = promisify(execFile);
  const linked = (value: unknown) => JSON.stringify(value);
  /** Runs tests/infra/helpers/print-config.ts with exactly `env` (plus PATH). */
  async function configIn(env: Record<string, string>) {
    const { stdout } = await run(process.execPath, ["--import", "tsx", PRINT_CONFIG], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    return JSON.parse(stdout) as { ok: true; config: Record<string, unknown> } | { ok: false; name: string; message: string };
  }
  const app = { SST_RESOURCE_App: linked({ name: "scenario-matrix-cache", stage: "test" }) };

  it("prefers linked values over environment variables", async () => {
    const result = await configIn({
      ...app,
      SST_RESOURCE_DatabaseUrl: linked({ type: "sst.sst.Secret", value: "postgres://linked@db/x" }),
      SST_RESOURCE_UpstashRedisRestUrl: linked({ type: "sst.sst.Secret", value: "https://linked.upstash.io" }),
      SST_RESOURCE_UpstashRedisRestToken: linked({ type: "sst.sst.Secret", value: "linked-token" }),
      SST_RESOURCE_ApiTokens: linked({ type: "sst.sst.Secret", value: JSON.stringify([alice]) }),
      SST_RESOURCE_WarmHigh: linked({ type: "sst.aws.Queue", url: "https://sqs.test/high" }),
      SST_RESOURCE_WarmLow: linked({ type: "sst.aws.Queue", url: "https://sqs.test/low" }),
      DATABASE_URL: "postgres://env@db/x",
      UPSTASH_REDIS_REST_URL: "https://env.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "env-token",
      API_TOKENS: JSON.stringify([bob]),
      WARM_HIGH_QUEUE_URL: "https://sqs.env/high",
      AWS_LAMBDA_FUNCTION_NAME: "app-test-Stats",
    });

    expect(result).toEqual({
      ok: true,
      config: {
        databaseUrl: "postgres://linked@db/x",
        upstash: { url: "https://linked.upstash.io", token: "linked-token" },
        apiTokens: [alice],
        queues: { high: "https://sqs.test/high", low: "https://sqs.test/low" },
        metricsNamespace: DEFAULT_METRICS_NAMESPACE,
        deployed: true,
      },
    });
  });

  it("falls back to the environment for what is not linked, without throwing", async () => {
    const result = await configIn({
      ...app,
      SST_RESOURCE_DatabaseUrl: linked({ type: "sst.sst.Secret", value: "postgres://linked@db/x" }),
      REDIS_URL: "redis://127.0.0.1:6379",
      WARM_LOW_QUEUE_URL: "https://sqs.env/low",
    });

    expect(result).toMatchObject({
      ok: true,
      config: { databaseUrl: "postgres://linked@db/x", redisUrl: "redis://127.0.0.1:6379", queues: { low: "https://sqs.env/low" } },
    });
  });

  it("reads only the environment when links are not active at all", async () => {
    const result = await configIn({ DATABASE_URL: "postgres://env@db/x" });

    expect(result).toMatchObject({ ok: true, config: { databaseUrl: "postgres://env@db/x", apiTokens: [] } });
  });

  it("names the linked secret when its token list is malformed", async () => {
    const result = await configIn({
      ...app,
      SST_RESOURCE_ApiTokens: linked({ type: "sst.sst.Secret", value: `[{"actor":"a","role":"root","token":"t0ken-abc"}]` }),
    });

    expect(result).toMatchObject({ ok: false, name: "ConfigError" });
    expect(result.ok === false && result.message).toMatch(/^ApiTokens \(SST link\): is not a valid token list \(\[0\]\.role/);
    expect(result.ok === false && result.message).not.toContain("t0ken-abc");
  });

  it("reports malformed SST resource data without quoting it", async () => {
    const result = await configIn({ ...app, SST_RESOURCE_DatabaseUrl: `{"value":"postgres://u:hunter2@db` });

    expect(result).toMatchObject({ ok: false, name: "ConfigError" });
    expect(result.ok === false && result.message).toMatch(/SST resource data is malformed/);
    expect(result.ok === false && result.message).not.toContain("hunter2");
  });
});
