// The SQS WarmQueue against aws-sdk-client-mock: the real SQSClient and SendMessageBatchCommand, with the
// service's responses (Successful / Failed entries) and faults played back.
import { randomUUID } from "node:crypto";
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { createSqsWarmQueue } from "../adapters/queue-sqs";
import { decodeWarmMessage, type WarmMessage, type WarmPriority } from "../core/warming";
import { config } from "./helpers/factories";
import { warmMessage } from "./helpers/warm";

const URLS = {
  high: "https://sqs.eu-west-1.amazonaws.com/123456789012/scenario-matrix-cache-ci-WarmHigh",
  low: "https://sqs.eu-west-1.amazonaws.com/123456789012/scenario-matrix-cache-ci-WarmLow",
};

const client = new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
const sqs = mockClient(client);
afterEach(() => sqs.reset());

const messages = (n: number, priority: WarmPriority = "high"): WarmMessage[] =>
  Array.from({ length: n }, (_, i) => warmMessage(randomUUID(), config({ seed: `sqs-${priority}-${i}` }), priority));

/** A SendMessageBatch response acknowledging every entry except `failed`. */
function reply(input: SendMessageBatchCommandInput, failed: Record<string, { code: string; senderFault: boolean }> = {}): SendMessageBatchCommandOutput {
  const entries = input.Entries ?? [];
  return {
    $metadata: { httpStatusCode: 200 },
    Successful: entries.filter((e) => !failed[e.Id!]).map((e) => ({ Id: e.Id!, MessageId: randomUUID(), MD5OfMessageBody: "x" })),
    Failed: entries.filter((e) => failed[e.Id!]).map((e) => ({ Id: e.Id!, Code: failed[e.Id!].code, Message: `${failed[e.Id!].code} for ${e.Id}`, SenderFault: failed[e.Id!].senderFault })),
  };
}

const queue = (o: { concurrency?: number } = {}) => createSqsWarmQueue({ client, queueUrls: URLS, retryBaseMs: 1, ...o });
const calls = () => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);

describe("SQS warm queue", () => {
  it("enqueues 1,000 messages in 100 SendMessageBatch calls of 10, with bodies the consumer's schema parses", async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input) => reply(input));
    const sent = messages(1000);

    const { failed } = await queue().send(sent);

    const made = calls();
    expect(failed).toEqual([]);
    expect(made).toHaveLength(100);
    expect(made.every((c) => c.QueueUrl === URLS.high && c.Entries!.length === 10)).toBe(true);
    const entries = made.flatMap((c) => c.Entries!);
    expect(entries.map((e) => e.Id).sort()).toEqual(sent.map((m) => m.jobId).sort());
    const first = entries.find((e) => e.Id === sent[0].jobId)!;
    expect(decodeWarmMessage(first.MessageBody!)).toEqual(sent[0]);
    expect(first.MessageAttributes).toEqual({
      jobId: { DataType: "String", StringValue: sent[0].jobId },
      priority: { DataType: "String", StringValue: "high" },
    });
  });

  it("sends each priority to its own queue and never mixes lanes in one call", async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input) => reply(input));

    await queue().send([...messages(15, "high"), ...messages(7, "low")]);

    const made = calls();
    expect(made.map((c) => [c.QueueUrl, c.Entries!.length])).toEqual(
      expect.arrayContaining([[URLS.high, 10], [URLS.high, 5], [URLS.low, 7]]),
    );
    expect(made).toHaveLength(3);
    for (const c of made) {
      const lanes = new Set(c.Entries!.map((e) => decodeWarmMessage(e.MessageBody!).priority));
      expect([...lanes]).toEqual([c.QueueUrl === URLS.high ? "high" : "low"]);
    }
  });

  it("keeps at most `concurrency` calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    sqs.on(SendMessageBatchCommand).callsFake(async (input) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return reply(input);
    });

    await queue({ concurrency: 4 }).send(messages(200));

    expect(calls()).toHaveLength(20);
    expect(peak).toBe(4);
  });

  it("retries only the failed entries of a partially failed batch", async () => {
    const sent = messages(10);
    const flaky = new Set(sent.slice(0, 3).map((m) => m.jobId));
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input) => reply(input, Object.fromEntries([...flaky].map((id) => [id, { code: "InternalError", senderFault: false }]))))
      .callsFake((input) => reply(input));

    const { failed } = await queue().send(sent);

    const made = calls();
    expect(failed).toEqual([]);
    expect(made).toHaveLength(2);
    expect(new Set(made[1].Entries!.map((e) => e.Id))).toEqual(flaky);
  });

  it("reports an entry that keeps failing per job after three attempts, and a sender fault at once", async () => {
    const sent = messages(10);
    const [stuck, malformed] = [sent[4].jobId, sent[7].jobId];
    sqs.on(SendMessageBatchCommand).callsFake((input) =>
      reply(input, { [stuck]: { code: "ServiceUnavailable", senderFault: false }, [malformed]: { code: "InvalidParameterValue", senderFault: true } }),
    );

    const { failed } = await queue().send(sent);

    expect(failed).toHaveLength(2);
    expect(failed).toEqual(
      expect.arrayContaining([
        { jobId: stuck, error: `ServiceUnavailable: ServiceUnavailable for ${stuck}` },
        { jobId: malformed, error: `InvalidParameterValue: InvalidParameterValue for ${malformed}` },
      ]),
    );
    const made = calls();
    expect(made).toHaveLength(3); // first call, then two retries carrying only the stuck entry
    expect(made.slice(1).map((c) => c.Entries!.map((e) => e.Id))).toEqual([[stuck], [stuck]]);
  });

  it("retries a call that failed outright, and reports every entry of one that keeps failing", async () => {
    const fault = Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
    sqs.on(SendMessageBatchCommand).rejectsOnce(fault).callsFake((input) => reply(input));
    const recovered = await queue().send(messages(10));

    sqs.reset();
    sqs.on(SendMessageBatchCommand).rejects(fault);
    const sent = messages(10);
    const down = await queue().send(sent);

    expect(recovered.failed).toEqual([]);
    expect(down.failed.map((f) => f.jobId).sort()).toEqual(sent.map((m) => m.jobId).sort());
    expect(down.failed[0].error).toBe("TimeoutError: socket hang up");
    expect(calls()).toHaveLength(3);
  });

  it("retries an entry the response neither acknowledged nor reported", async () => {
    const sent = messages(3);
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input) => ({ ...reply(input), Successful: reply(input).Successful!.slice(1) }))
      .callsFake((input) => reply(input));

    const { failed } = await queue().send(sent);

    expect(failed).toEqual([]);
    expect(calls()[1].Entries!.map((e) => e.Id)).toEqual([sent[0].jobId]);
  });

  it("refuses to start without both queue URLs", () => {
    expect(() => createSqsWarmQueue({ client, queueUrls: { high: URLS.high, low: "" } })).toThrow(/priority low/);
  });
});
