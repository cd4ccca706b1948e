// The in-process queue's SQS semantics, with a scripted consumer: lanes, concurrency, event shape,
// redelivery with backoff, dead letters, drain and stop.
import { createHash, randomUUID } from "node:crypto";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createMemoryWarmQueue } from "../adapters/queue-memory";
import { decodeWarmMessage, type WarmMessage, type WarmPriority } from "../core/warming";
import { config } from "./helpers/factories";
import { warmMessage } from "./helpers/warm";

const msg = (seed: string, priority: WarmPriority = "high"): WarmMessage => warmMessage(randomUUID(), config({ seed }), priority);

/** A consumer that records every record it is handed and fails the ones `fails` picks. */
function scripted(opts: { delayMs?: number; fails?: (r: SQSRecord) => boolean; throws?: boolean } = {}) {
  const seen: SQSRecord[] = [];
  const events: SQSEvent[] = [];
  let inFlight = 0;
  let peak = 0;
  const consume = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    events.push(event);
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
    inFlight--;
    seen.push(...event.Records);
    if (opts.throws) throw new Error("handler crashed");
    return { batchItemFailures: event.Records.filter((r) => opts.fails?.(r)).map((r) => ({ itemIdentifier: r.messageId })) };
  };
  return { consume, seen, events, peak: () => peak };
}

describe("in-process warm queue", () => {
  it("drains the high lane before the low lane", async () => {
    const c = scripted();
    const q = createMemoryWarmQueue({ consume: c.consume, concurrency: 1 });

    await q.send([msg("l1", "low"), msg("l2", "low")]);
    await q.send([msg("h1", "high"), msg("h2", "high")]);
    await q.drain();

    expect(c.seen.map((r) => decodeWarmMessage(r.body).priority)).toEqual(["high", "high", "low", "low"]);
  });

  it("keeps at most `concurrency` batches in flight and never mixes lanes in a batch", async () => {
    const c = scripted({ delayMs: 5 });
    const q = createMemoryWarmQueue({ consume: c.consume, concurrency: 3, batchSize: 4 });

    await q.send([...Array.from({ length: 20 }, (_, i) => msg(`h${i}`, "high")), ...Array.from({ length: 10 }, (_, i) => msg(`l${i}`, "low"))]);
    await q.drain();

    expect(c.seen).toHaveLength(30);
    expect(c.peak()).toBe(3);
    expect(Math.max(...c.events.map((e) => e.Records.length))).toBe(4);
    for (const e of c.events) expect(new Set(e.Records.map((r) => r.eventSourceARN)).size).toBe(1);
  });

  it("hands the handler SQS-shaped records", async () => {
    const c = scripted();
    const q = createMemoryWarmQueue({ consume: c.consume });
    const m = msg("shape", "low");

    await q.send([m]);
    await q.drain();

    const [r] = c.seen;
    expect(r).toMatchObject({
      eventSource: "aws:sqs",
      eventSourceARN: expect.stringMatching(/^arn:aws:sqs:[^:]+:\d{12}:WarmLow$/),
      md5OfBody: createHash("md5").update(r.body).digest("hex"),
      attributes: { ApproximateReceiveCount: "1", SentTimestamp: expect.stringMatching(/^\d+$/), ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/) },
      messageAttributes: { priority: { dataType: "String", stringValue: "low" } },
    });
    expect(decodeWarmMessage(r.body)).toEqual(m);
  });

  it("redelivers only the failed records, with growing receive counts and delays, then dead-letters them", async () => {
    const bad = msg("bad");
    const c = scripted({ fails: (r) => decodeWarmMessage(r.body).jobId === bad.jobId });
    const q = createMemoryWarmQueue({ consume: c.consume, batchSize: 2, maxReceiveCount: 3, retryBaseMs: 20 });

    const started = Date.now();
    await q.send([bad, msg("good")]);
    await q.drain();
    const elapsed = Date.now() - started;

    const deliveries = c.seen.filter((r) => decodeWarmMessage(r.body).jobId === bad.jobId);
    expect(deliveries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(["1", "2", "3"]);
    expect(new Set(deliveries.map((r) => r.messageId)).size).toBe(1);
    expect(c.seen).toHaveLength(4); // the good record was delivered once
    expect(elapsed).toBeGreaterThanOrEqual(20 + 40); // two redelivery delays: 20 ms, then 40 ms
    const letters = await q.list(10);
    expect(letters).toEqual([
      expect.objectContaining({ jobId: bad.jobId, priority: "high", receiveCount: 3, messageId: deliveries[0].messageId }),
    ]);
    expect(q.depth()).toMatchObject({ high: 0, low: 0, delayed: 0, inFlight: 0, deadLetters: 1 });
  });

  it("redelivers every record of a batch whose handler threw, as Lambda does", async () => {
    const c = scripted({ throws: true });
    const q = createMemoryWarmQueue({ consume: c.consume, batchSize: 2, maxReceiveCount: 2, retryBaseMs: 1 });

    await q.send([msg("t1"), msg("t2")]);
    await q.drain();

    expect(c.seen).toHaveLength(4);
    expect((await q.list(10)).map((d) => d.error)).toEqual(["handler crashed", "handler crashed"]);
  });

  it("dead-letters a raw poison body too, naming its job when the body still carries one", async () => {
    const c = scripted({ fails: () => true });
    const q = createMemoryWarmQueue({ consume: c.consume, maxReceiveCount: 1 });
    const jobId = randomUUID();

    q.sendRaw(JSON.stringify({ jobId, v: 42 }), "low");
    await q.drain();

    expect(await q.list(10)).toEqual([expect.objectContaining({ jobId, priority: "low", receiveCount: 1 })]);
  });

  it("says when a drain timed out, and stop drops what was left and refuses new messages", async () => {
    const c = scripted({ delayMs: 30 });
    const q = createMemoryWarmQueue({ consume: c.consume, concurrency: 1 });

    await q.send([msg("s1"), msg("s2"), msg("s3")]);
    const drained = await q.drain(10);
    const { dropped } = await q.stop();
    const after = await q.send([msg("s4")]);

    expect(drained).toBe(false);
    expect(dropped).toBe(2); // the first was in flight and finished; the other two never ran
    expect(c.seen).toHaveLength(1);
    expect(after.failed).toHaveLength(1);
    expect(await q.drain(10)).toBe(true);
  });
});
