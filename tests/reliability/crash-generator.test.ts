// A generator process killed (SIGKILL) mid-generation: its lease expires and another process generates
// the key; nothing is left stuck in `processing` and the served bytes are the right ones.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateScenarioMatrix, matrixKey } from "../../core/scenario";
import { cacheFixture, realTargets, type CacheFixture } from "../helpers/cache-fixture";
import { config, configInput } from "../helpers/factories";

const targets = await realTargets();

describe.skipIf(!targets.available)("generator killed mid-generation (real PostgreSQL + Redis)", () => {
  let fx: CacheFixture;
  beforeAll(async () => {
    fx = await cacheFixture("real", "crash");
  });
  afterAll(async () => fx?.close());

  it("frees the key once the dead generator's lease expires; the next caller generates it", async () => {
    const input = configInput({ fundId: "f-crash-proc", seed: "crash-proc", numScenarios: 3000 });
    const child = spawn(process.execPath, ["--import", "tsx", "tests/helpers/crash-child.ts"], {
      env: { ...process.env, DATABASE_URL: fx.databaseUrl, REDIS_URL: fx.redisUrl, HOT_PREFIX: fx.hotPrefix, CONFIG: JSON.stringify(input), LEASE_MS: "1500" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => String(d).includes("generating") && resolve());
      child.once("exit", (code) => reject(new Error(`child exited early: ${code}`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));

    const cfg = config(input);
    expect((await fx.durable.status(matrixKey(cfg)))?.status).toBe("processing"); // the dead process's lease
    const r = await fx.cache({ options: { pollIntervalMs: 50 } }).get(cfg);
    expect(r.tier).toBe("generated");
    expect(r.stored).toBe(true);
    const sha = (d: Float32Array) => createHash("sha256").update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest("hex");
    expect(sha(r.matrix.data)).toBe(sha(generateScenarioMatrix(cfg).cells));
    expect((await fx.durable.status(matrixKey(cfg)))?.status).toBe("complete");
  }, 60_000);
});
