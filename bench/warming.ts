// Warming on real Redis and PostgreSQL: the enqueue rate of one POST /api/cache/warm of 1,000 configs and
// the drain rate of 1,000 small jobs through the in-process queue. Run alone with `npx tsx bench/warming.ts`;
// prints markdown for BENCHMARKS.md. Benchmarks are not tests: nothing here asserts a time.
//
// Enqueue is measured on the real code path (Hono route → validation → 1,000 cached-checks → job INSERTs
// → queue → estimate → audit INSERT), once with the in-process queue and once with the SQS adapter on a
// mocked SQSClient (aws-sdk-client-mock: the real SendMessageBatchCommand, no network), with 0 ms and with
// a simulated 20 ms per SendMessageBatch call (a typical in-region round trip).
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { createDrizzleWarmStore } from "../adapters/jobs-drizzle";
import { createMemoryWarmQueue } from "../adapters/queue-memory";
import { createSqsWarmQueue } from "../adapters/queue-sqs";
import { silentLog } from "../core/shared/log";
import { loadWarmSettings, type WarmQueue, type WarmResponse } from "../core/warming";
import { warmJobs } from "../core/warming/warming.sql";
import { createApp } from "../functions/http/kernel";
import { warmRoutes } from "../functions/http/routes/warm";
import { createRuntime, type Runtime } from "../functions/shared/runtime";
import { createGeneratorConsumer, createGeneratorHandler, createWarming } from "../functions/shared/warming";
import { freshPostgresDatabase, postgresTarget, redisTarget, uniquePrefix, unlinkKeysUnder } from "../tests/helpers/services";

const JOBS = 1000;
const NUM_SCENARIOS = 1000; // × 3 default buckets = 3,000 cells per job: "small" configs
const CELLS = NUM_SCENARIOS * 3;
const SQS_LATENCY_MS = 20;
/** more than the estimate's sample window (200 recent jobs) */
const PRIME_JOBS = 250;

const fmt = (n: number, d = 0) => n.toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d });

/** POST /api/cache/warm with 1,000 configs through the real route over `queue`; returns ms and the body. */
async function postWarm(runtime: Runtime, queue: WarmQueue, tag: string, parallelism: number, jobs = JOBS): Promise<{ ms: number; body: WarmResponse }> {
  const settings = loadWarmSettings({});
  const { service } = createWarming({ runtime, settings, queue, parallelism: { high: parallelism, low: parallelism }, sharedConsumers: true });
  const auth = { tokens: [], deployed: false };
  const app = warmRoutes(createApp({ auth, log: silentLog }), { auth, warm: service, deadLetters: { kind: "failed-jobs", list: async () => [] } });
  // minimal configs (default buckets) keep 1,000 of them well inside the 256 KiB body limit
  const body = JSON.stringify({
    fundIds: ["bench-fund"],
    taxonomyVersion: "v1",
    priority: "high",
    configs: Array.from({ length: jobs }, (_, i) => ({ numScenarios: NUM_SCENARIOS, seed: `${tag}-${i}` })),
  });
  const t = performance.now();
  const res = await app.request("/api/cache/warm", { method: "POST", headers: { "content-type": "application/json" }, body });
  const ms = performance.now() - t;
  if (res.status !== 202) throw new Error(`warm request failed: ${res.status} ${await res.text()}`);
  return { ms, body: (await res.json()) as WarmResponse };
}

/** Enqueue through the in-process queue (consumers held back), then release them and time the drain. */
async function inProcess(runtime: Runtime, tag: string, concurrency: number, jobs = JOBS) {
  const store = createDrizzleWarmStore(runtime.db.db);
  const handler = createGeneratorHandler({ consumer: createGeneratorConsumer({ runtime, store, maxReceiveCount: 5 }), log: silentLog });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const queue = createMemoryWarmQueue({ consume: async (e: SQSEvent) => (await gate, handler(e)), concurrency, maxReceiveCount: 5 });

  const enqueue = await postWarm(runtime, queue, tag, concurrency, jobs);
  const t = performance.now();
  release();
  await queue.drain();
  const drainMs = performance.now() - t;
  await queue.stop();

  const [row] = await runtime.db.db
    .select({ complete: sql<number>`count(*) filter (where ${warmJobs.status} = 'complete')`.mapWith(Number), total: sql<number>`count(*)`.mapWith(Number) })
    .from(warmJobs)
    .where(sql`${warmJobs.config}->>'seed' like ${`${tag}-%`}`);
  if (row.complete !== jobs) throw new Error(`expected ${jobs} complete jobs, found ${row.complete} of ${row.total}`);
  return { enqueue, drainMs, dead: queue.depth().deadLetters };
}

/** Enqueue through the SQS adapter on a mocked client; counts the SendMessageBatch calls. */
async function viaSqs(runtime: Runtime, tag: string, latencyMs: number) {
  const client = new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench" } });
  const mock = mockClient(client);
  let calls = 0;
  mock.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
    calls++;
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    return { Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: randomUUID(), MD5OfMessageBody: "" })), Failed: [] };
  });
  const queue = createSqsWarmQueue({
    client,
    queueUrls: { high: "https://sqs.eu-west-1.amazonaws.com/123456789012/WarmHigh", low: "https://sqs.eu-west-1.amazonaws.com/123456789012/WarmLow" },
    concurrency: 4,
  });
  const r = await postWarm(runtime, queue, tag, 5);
  mock.restore();
  return { ...r, calls };
}

export async function benchWarming(): Promise<string[]> {
  const [pg, redis] = await Promise.all([postgresTarget(), redisTarget()]);
  if (!pg.available || !redis.available) return ["(skipped: PostgreSQL or Redis unreachable)"];
  const fresh = await freshPostgresDatabase(pg.url);
  const prefix = uniquePrefix("bench-warm");
  const runtime = await createRuntime({ databaseUrl: fresh.url, redisUrl: redis.url, hotPrefix: prefix, migrate: true, log: silentLog });
  const lines: string[] = [];
  try {
    // JIT and connection warm-up: a small run whose figures are thrown away
    await inProcess(runtime, "warmup", 2, PRIME_JOBS);

    const enqueueRows: string[] = [];
    const drainRows: string[] = [];
    for (const concurrency of [1, 2, 4]) {
      // The estimate divides measured per-job wall time by the consumer count; wall time measured at another
      // concurrency would not match this one, so a priming run fills the sample window at this concurrency.
      await inProcess(runtime, `prime-c${concurrency}`, concurrency, PRIME_JOBS);
      const r = await inProcess(runtime, `mem-c${concurrency}`, concurrency);
      const e = r.enqueue.body.estimated;
      if (concurrency === 2) {
        enqueueRows.push(`| in-process queue | ${JOBS} | ${r.enqueue.body.scheduled} | — | ${fmt(r.enqueue.ms)} | ${fmt((JOBS / r.enqueue.ms) * 1000)} |`);
      }
      drainRows.push(
        `| ${concurrency} | ${JOBS} × ${fmt(CELLS)} cells | ${fmt(r.drainMs)} | ${fmt((JOBS / r.drainMs) * 1000)} | ${fmt((JOBS * CELLS) / r.drainMs / 1000, 2)} M | ` +
          `${fmt(e.totalDurationMs)} (${e.basis}: ${fmt(e.cellsPerSecond / 1e6, 1)} M cells/s, ${fmt(e.perJobOverheadMs, 1)} ms/job) | ${r.dead} |`,
      );
    }
    for (const latency of [0, SQS_LATENCY_MS]) {
      const r = await viaSqs(runtime, `sqs-l${latency}`, latency);
      enqueueRows.push(`| SQS adapter, mocked client, ${latency} ms per call, 4 calls in flight | ${JOBS} | ${r.body.scheduled} | ${r.calls} | ${fmt(r.ms)} | ${fmt((JOBS / r.ms) * 1000)} |`);
    }

    lines.push(
      `One \`POST /api/cache/warm\` of ${fmt(JOBS)} configs (1 fund × ${fmt(JOBS)} configs, none cached) through the real route: validation, ${fmt(JOBS)} cached-checks (8 in flight), ` +
        `job INSERT … ON CONFLICT DO NOTHING, the queue, the estimate's two SQL aggregates and the audit INSERT, on PostgreSQL (a fresh database) and Redis. One run each after a warm-up.`,
      "",
      "| enqueue via | configs | scheduled | SendMessageBatch calls | request ms | jobs/s |",
      "|---|---|---|---|---|---|",
      ...enqueueRows,
      "",
      `Drain of ${fmt(JOBS)} small jobs (${fmt(NUM_SCENARIOS)} scenarios × 3 buckets) through the in-process queue: SQS-shaped events into the generator handler ` +
        "(Powertools BatchProcessor, job start, get-or-generate with its lease, durable and hot writes, stats recording, job complete), batch size 1, " +
        "timed from releasing the consumers to `drain()`. The estimate is what the request answered before the drain, measured on a priming run of 250 jobs at the same concurrency just before.",
      "",
      "| consumers | jobs | drain ms | jobs/s | cells/s | estimated ms (basis) | dead letters |",
      "|---|---|---|---|---|---|---|",
      ...drainRows,
    );
  } finally {
    await runtime.close();
    const raw = new Redis(redis.url);
    await unlinkKeysUnder(raw, prefix);
    raw.disconnect();
    await fresh.drop();
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await benchWarming()).join("\n"));
  process.exit(0);
}
