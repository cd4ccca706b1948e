// Invalidation on real Redis and PostgreSQL: one fund of 10,000 entries (goal ≤ 500 ms) and `all` over
// 100,000 entries, soft and hard, through the service (durable, hot, audit insert). Run alone with
// `npx tsx bench/invalidation.ts`; prints markdown for BENCHMARKS.md.
import { createHash } from "node:crypto";
import os from "node:os";
import { pathToFileURL } from "node:url";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { createDrizzleAuditStore } from "../adapters/audit-drizzle";
import { createDb, type Database } from "../adapters/db";
import { createDrizzleDurableStore } from "../adapters/durable-drizzle";
import { createRedisHotStore } from "../adapters/hot-redis";
import type { HotStore } from "../core/cache";
import { invalidate, InvalidateRequest, type InvalidateRequestInput, type InvalidateResponse } from "../core/invalidation";
import { freshPostgresDatabase, postgresTarget, redisTarget, unlinkKeysUnder } from "../tests/helpers/services";
import { median } from "./util";

const FUND_ENTRIES = 10_000;
const FUNDS = 10; // FUNDS × FUND_ENTRIES = 100,000 entries for `all`
// Entry bodies are small and equal in both tiers: invalidation cost is per entry (keys, index, accounting,
// row versions), not per byte (UNLINK frees values in the background; a soft UPDATE keeps TOAST pointers).
const VALUE_BYTES = 512;
const RUNS = 5;

const keyOf = (fundId: string, i: number) => createHash("sha256").update(`${fundId}:${i}`).digest("hex");
const fundName = (f: number) => `bench-fund-${f}`;

/** One fund's rows in one statement: keys computed in SQL exactly as `keyOf` computes them. */
async function seedDurable(db: Database, fundId: string) {
  await db.execute(sql`delete from scenario_matrices where fund_id = ${fundId}`);
  await db.execute(sql`
    insert into scenario_matrices
      (matrix_key, fund_id, taxonomy_version, config, status, moic_matrix, num_scenarios, num_buckets, size_bytes, generation_ms, recycling_multiples)
    select encode(sha256(convert_to(${fundId} || ':' || g, 'UTF8')), 'hex'), ${fundId}, 'v1', '{}'::jsonb, 'complete',
           decode(repeat('ab', ${VALUE_BYTES}), 'hex'), 100, 5, ${VALUE_BYTES}, 1.0, '[]'::jsonb
    from generate_series(0, ${FUND_ENTRIES - 1}) g`);
}

/** One fund's hot entries through the store's own write script, many in flight (ioredis pipelines them). */
async function seedHot(hot: HotStore, fundId: string) {
  const { epoch } = await hot.read(keyOf(fundId, 0), fundId); // current token: the fund's last invalidation bumped it
  const value = new Uint8Array(VALUE_BYTES).fill(0xab);
  const BATCH = 2000;
  for (let i = 0; i < FUND_ENTRIES; i += BATCH) {
    const writes: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(i + BATCH, FUND_ENTRIES); j++) {
      writes.push(hot.write({ matrixKey: keyOf(fundId, j), fundId, value, ttlMs: 3_600_000, epoch }));
    }
    const outcomes = await Promise.all(writes);
    if (outcomes.some((o) => o !== "stored")) throw new Error("seed write refused (stale epoch)");
  }
}

/** Seeds a fresh database and a private key prefix, measures, cleans up; returns markdown lines. */
export async function benchInvalidation(): Promise<string[]> {
  const [pg, redis] = await Promise.all([postgresTarget(), redisTarget()]);
  if (!pg.available || !redis.available) return ["(skipped: PostgreSQL or Redis unreachable)"];
  const fresh = await freshPostgresDatabase(pg.url);
  const handle = createDb({ url: fresh.url });
  await handle.migrate();
  const db = handle.db;
  const prefix = `bench:inv:${Date.now()}:`;
  // measured with the production client settings; seeded through a patient one (thousands of writes in flight)
  const hot = createRedisHotStore({ url: redis.url, prefix });
  const seeder = createRedisHotStore({ url: redis.url, prefix, commandTimeoutMs: 30_000 });
  const raw = new Redis(redis.url);
  const deps = { hot, durable: createDrizzleDurableStore(db), audit: createDrizzleAuditStore(db), stepTimeoutMs: 60_000 };

  const seedFund = async (fundId: string) => {
    await seedDurable(db, fundId);
    await seedHot(seeder, fundId);
  };
  const timed = async (input: InvalidateRequestInput) => {
    const t = performance.now();
    const r: InvalidateResponse = await invalidate(deps, InvalidateRequest.parse(input), "bench");
    const total = performance.now() - t;
    if (r.errors.length > 0) throw new Error(`invalidation failed: ${JSON.stringify(r.errors)}`);
    return { ...r, total };
  };

  const lines: string[] = [];
  try {
    const seedStart = performance.now();
    for (let f = 0; f < FUNDS; f++) await seedFund(fundName(f));
    const seedMs = performance.now() - seedStart;
    const [{ version }] = (await db.execute(sql`select current_setting('server_version') as version`)) as unknown as { version: string }[];
    const redisVersion = /redis_version:(\S+)/.exec(await raw.info("server"))?.[1] ?? "?";

    const rows: string[] = [];
    const row = (op: string, rs: Awaited<ReturnType<typeof timed>>[]) => {
      const first = rs[0];
      const m = (f: (r: (typeof rs)[number]) => number) => median(rs.map(f)).toFixed(1);
      rows.push(
        `| ${op} | ${first.invalidated.redis!.toLocaleString("en")} / ${first.invalidated.postgres!.toLocaleString("en")} | ${rs.length} | **${m((r) => r.duration)}** | ${m((r) => r.timings.postgresMs)} | ${m((r) => r.timings.redisMs)} | ${m((r) => r.total)} |`,
      );
    };

    const target = fundName(0);
    // fund of 10,000 among 100,000: dry run, then soft and hard, each from a freshly seeded fund
    const dry: Awaited<ReturnType<typeof timed>>[] = [];
    for (let i = 0; i < RUNS; i++) dry.push(await timed({ scope: "fund", fundId: target, dryRun: true }));
    row("fund, dry run", dry);
    for (const mode of ["soft", "hard"] as const) {
      const rs: Awaited<ReturnType<typeof timed>>[] = [];
      for (let i = 0; i < RUNS; i++) {
        await seedFund(target);
        rs.push(await timed({ scope: "fund", fundId: target, mode }));
      }
      row(`fund, ${mode}`, rs);
    }
    await seedFund(target);
    row("all, dry run", [await timed({ scope: "all", dryRun: true })]);
    row("all, soft", [await timed({ scope: "all", mode: "soft" })]);
    for (let f = 0; f < FUNDS; f++) await seedFund(fundName(f));
    row("all, hard", [await timed({ scope: "all", mode: "hard" })]);

    lines.push(
      `Invalidation on real servers (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, Node ${process.version}, PostgreSQL ${version}, Redis ${redisVersion}, both on localhost). ` +
        `${(FUNDS * FUND_ENTRIES).toLocaleString("en")} entries in ${FUNDS} funds, ${VALUE_BYTES}-byte bodies, seeded in ${(seedMs / 1000).toFixed(1)} s ` +
        `(one INSERT … SELECT generate_series per fund; hot.write pipelined). Through the service: durable, then hot, then the audit INSERT. ` +
        `Goal: one fund of ${FUND_ENTRIES.toLocaleString("en")} ≤ 500 ms.`,
      "",
      "| operation | entries (redis / postgres) | runs | tiers ms (median) | postgres ms | redis ms | with audit write ms |",
      "|---|---|---|---|---|---|---|",
      ...rows,
    );
  } finally {
    await hot.invalidate({ kind: "all" }, { dryRun: false }).catch(() => {});
    // epochs and accounting keys stay behind an invalidation by design; remove this run's prefix entirely
    await unlinkKeysUnder(raw, prefix);
    raw.disconnect();
    await hot.close();
    await seeder.close();
    await handle.close();
    await fresh.drop();
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await benchInvalidation()).join("\n"));
}
