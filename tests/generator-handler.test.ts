// The generator Lambda's handler with real SQS event shapes, over the embedded stores and the real servers:
// partial batch failures, poison messages, retries to the last receive, idempotent redelivery, and one
// generation for duplicates and concurrent consumers.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDrizzleWarmStore, type DrizzleWarmStore } from "../adapters/jobs-drizzle";
import { scenarioMatrices } from "../core/cache/matrices.sql";
import type { MatrixCache } from "../core/cache";
import { generateScenarioMatrix, matrixKey, type ScenarioConfigWithMeta } from "../core/scenario";
import { silentLog } from "../core/shared/log";
import { createWarmConsumer, type WarmJobEvent } from "../core/warming";
import { warmJobs } from "../core/warming/warming.sql";
import { createGeneratorConsumer, createGeneratorHandler, type WarmMetrics } from "../functions/shared/warming";
import { cacheFixture, realTargets, type Backend, type CacheFixture } from "./helpers/cache-fixture";
import { config } from "./helpers/factories";
import { messageRecord, newJob, sqsEvent, sqsRecord, warmMessage } from "./helpers/warm";

const MAX_RECEIVES = 3;

function countingGenerator(opts: { fail?: boolean; delayMs?: number } = {}) {
  const calls: string[] = [];
  return {
    calls,
    generate: async (c: ScenarioConfigWithMeta) => {
      calls.push(matrixKey(c));
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
      if (opts.fail) throw new Error("generator exploded");
      return generateScenarioMatrix(c);
    },
  };
}

function recordingMetrics(): WarmMetrics & { jobs: { kind: string; count: number; props?: Record<string, unknown> }[]; flushes: number } {
  const jobs: { kind: string; count: number; props?: Record<string, unknown> }[] = [];
  const m = { jobs, flushes: 0, warmJobs: (kind: string, count: number, props?: Record<string, unknown>) => void jobs.push({ kind, count, props }), flush: () => void m.flushes++ };
  return m;
}

const targets = await realTargets();
const backends: { backend: Backend; skip: boolean }[] = [
  { backend: "embedded", skip: false },
  { backend: "real", skip: !targets.available },
];

for (const { backend, skip } of backends) {
  describe.skipIf(skip)(`generator handler (${backend})`, () => {
    let fx: CacheFixture;
    let store: DrizzleWarmStore;
    beforeAll(async () => {
      fx = await cacheFixture(backend, "generator");
      store = createDrizzleWarmStore(fx.db.db);
    });
    afterAll(async () => fx?.close());
    beforeEach(async () => {
      await fx.db.db.delete(warmJobs);
      await fx.db.db.delete(scenarioMatrices);
      await fx.hot.invalidate({ kind: "all" }, { dryRun: false });
    });

    const handlerOver = (cache: MatrixCache, metrics?: WarmMetrics) =>
      createGeneratorHandler({
        consumer: createGeneratorConsumer({ runtime: { cache, log: silentLog }, store, maxReceiveCount: MAX_RECEIVES, metrics }),
        log: silentLog,
        metrics,
      });

    /** A pending job and its message, as the warm API leaves them. */
    async function enqueued(seed: string, priority: "high" | "low" = "high") {
      const job = newJob({ seed }, priority);
      const [{ job: row }] = await store.createLive([job]);
      return { job: row, config: job.config, message: warmMessage(row.id, job.config, priority) };
    }

    it("warms a job into both tiers and marks it complete", async () => {
      const { job, config: c, message } = await enqueued("warm-1");
      const metrics = recordingMetrics();

      const res = await handlerOver(fx.cache(), metrics)(sqsEvent(messageRecord(message)));

      expect(res).toEqual({ batchItemFailures: [] });
      expect(await store.get(job.id)).toMatchObject({ status: "complete", attempts: 1, error: null });
      expect(await fx.durable.status(matrixKey(c))).toMatchObject({ status: "complete" });
      expect((await fx.hot.read(matrixKey(c), c.fundId)).value).not.toBeNull();
      expect(metrics.jobs).toEqual([{ kind: "completed", count: 1, props: expect.objectContaining({ jobId: job.id, tier: "generated", priority: "high" }) }]);
      expect(metrics.flushes).toBe(1);
    });

    it("fails poison records alone: the valid record of the batch still completes", async () => {
      const { job, message } = await enqueued("warm-2", "low");
      const notJson = sqsRecord("{not json", { priority: "low" });
      const wrongShape = sqsRecord(JSON.stringify({ ...message, config: { fundId: "f", buckets: "nope" } }), { priority: "low" });
      const good = messageRecord(message);

      const res = await handlerOver(fx.cache())(sqsEvent(notJson, good, wrongShape));

      expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([notJson.messageId, wrongShape.messageId].sort());
      expect(await store.get(job.id)).toMatchObject({ status: "complete" });
    });

    it("marks the job of a poison message failed on its last receive, so its key is not blocked forever", async () => {
      const { job, message } = await enqueued("warm-3");
      const body = JSON.stringify({ ...message, v: 99 });

      const early = await handlerOver(fx.cache())(sqsEvent(sqsRecord(body, { receiveCount: 1 })));
      const stillLive = await store.get(job.id);
      const last = await handlerOver(fx.cache())(sqsEvent(sqsRecord(body, { receiveCount: MAX_RECEIVES })));

      expect(early.batchItemFailures).toHaveLength(1);
      expect(stillLive).toMatchObject({ status: "pending" });
      expect(last.batchItemFailures).toHaveLength(1);
      expect(await store.get(job.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^invalid message: /) });
    });

    it("returns a failed generation to the queue with its job still live, and fails the job on the last receive", async () => {
      const { job, message } = await enqueued("warm-4");
      const gen = countingGenerator({ fail: true });
      const metrics = recordingMetrics();
      const handler = handlerOver(fx.cache({ generate: gen.generate }), metrics);
      const record = (n: number) => messageRecord(message, { receiveCount: n, messageId: "m-4" });

      const first = await handler(sqsEvent(record(1)));
      const afterFirst = await store.get(job.id);
      await handler(sqsEvent(record(2)));
      const last = await handler(sqsEvent(record(MAX_RECEIVES)));

      expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: "m-4" }] });
      expect(afterFirst).toMatchObject({ status: "pending", attempts: 1, error: expect.stringContaining("generation failed") });
      expect(last).toEqual({ batchItemFailures: [{ itemIdentifier: "m-4" }] });
      expect(await store.get(job.id)).toMatchObject({ status: "failed", attempts: 3, error: expect.stringContaining(`receive ${MAX_RECEIVES} of ${MAX_RECEIVES}`) });
      expect(gen.calls).toHaveLength(3);
      // only the final failure counts in WarmJobsFailed
      expect(metrics.jobs.map((j) => j.kind)).toEqual(["failed"]);
    });

    it("reports a whole failed batch in batchItemFailures instead of throwing (no Lambda error)", async () => {
      const a = await enqueued("warm-5a");
      const b = await enqueued("warm-5b");
      const handler = handlerOver(fx.cache({ generate: countingGenerator({ fail: true }).generate }));
      const records = [messageRecord(a.message), messageRecord(b.message)];

      const res = await handler(sqsEvent(...records));

      expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
    });

    it("generates once for duplicate deliveries in a batch and for two consumers working the same key", async () => {
      const { job, config: c, message } = await enqueued("warm-6");
      const gen = countingGenerator({ delayMs: 50 });
      // two processes: separate caches (separate in-flight maps) over the same tiers
      const consumerA = handlerOver(fx.cache({ generate: gen.generate }));
      const consumerB = handlerOver(fx.cache({ generate: gen.generate }));
      // a second job for the same key, as if it had been enqueued before the first was recorded
      const otherJob = (await store.recordComplete([newJob({ seed: "warm-6" })]))[0];

      const [ra, rb] = await Promise.all([
        consumerA(sqsEvent(messageRecord(message), messageRecord(message))),
        consumerB(sqsEvent(messageRecord(warmMessage(otherJob.id, c)))),
      ]);

      expect(ra.batchItemFailures).toEqual([]);
      expect(rb.batchItemFailures).toEqual([]);
      expect(gen.calls).toEqual([matrixKey(c)]);
      expect(await store.get(job.id)).toMatchObject({ status: "complete" });
    });

    it("acknowledges a redelivery of a completed job without generating again", async () => {
      const { job, message } = await enqueued("warm-7");
      const gen = countingGenerator();
      const handler = handlerOver(fx.cache({ generate: gen.generate }));
      await handler(sqsEvent(messageRecord(message)));
      await fx.db.db.delete(scenarioMatrices); // even if the matrix has gone since, the job is done

      const again = await handler(sqsEvent(messageRecord(message, { receiveCount: 2 })));

      expect(again).toEqual({ batchItemFailures: [] });
      expect(gen.calls).toHaveLength(1);
      expect(await store.get(job.id)).toMatchObject({ status: "complete", attempts: 1 });
    });

    it("still warms a message whose job row is gone", async () => {
      const c = config({ seed: "warm-8" });

      const res = await handlerOver(fx.cache())(sqsEvent(messageRecord(warmMessage(randomUUID(), c))));

      expect(res).toEqual({ batchItemFailures: [] });
      expect(await fx.durable.status(matrixKey(c))).toMatchObject({ status: "complete" });
    });
  });
}

describe("warm consumer (unit)", () => {
  const jobs = () => {
    const calls: string[] = [];
    return {
      calls,
      start: async (id: string) => (calls.push(`start ${id}`), { kind: "started" as const, job: {} as never }),
      complete: async (id: string) => void calls.push(`complete ${id}`),
      retry: async (id: string, e: string) => void calls.push(`retry ${id} ${e}`),
      fail: async (ids: readonly string[], e: string) => void calls.push(`fail ${ids.join()} ${e}`),
    };
  };

  it("retries a generation the durable tier did not store (the warm achieved nothing lasting)", async () => {
    const c = config({ seed: "unstored" });
    const j = jobs();
    const events: WarmJobEvent[] = [];
    const cache = { get: async () => ({ stored: false }) as never };
    const consume = createWarmConsumer({ cache, jobs: j, maxReceiveCount: 5, onJob: (e) => void events.push(e) });
    const id = randomUUID();

    await expect(consume({ messageId: "m", body: JSON.stringify(warmMessage(id, c)), receiveCount: 1 })).rejects.toThrow(/served but not stored/);

    expect(j.calls).toEqual([`start ${id}`, `retry ${id} matrix ${matrixKey(c)} was served but not stored`]);
    expect(events.map((e) => e.outcome)).toEqual(["retrying"]);
  });
});
