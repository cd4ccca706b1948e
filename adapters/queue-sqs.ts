// WarmQueue on SQS: one standard queue per priority. Messages go out with SendMessageBatch, 10 per call
// (the API's maximum), a bounded number of calls in flight. SendMessageBatch succeeds or fails per entry,
// so a partially failed call is retried for its failed entries only; what still fails is reported per job.
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from "@aws-sdk/client-sqs";
import { mapConcurrent } from "../core/warming/concurrency";
import { encodeWarmMessage, type WarmMessage, type WarmPriority } from "../core/warming/messages";
import type { WarmQueue } from "../core/warming/ports";
import { silentLog, type Log } from "../core/shared/log";

/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH_SIZE = 10;

/** The client, the two queue URLs and the retry policy. */
export interface SqsWarmQueueOptions {
  /** only `send` is used, so tests can pass aws-sdk-client-mock's client */
  readonly client: Pick<SQSClient, "send">;
  readonly queueUrls: Readonly<Record<WarmPriority, string>>;
  /** SendMessageBatch calls in flight at once (default 4) */
  readonly concurrency?: number;
  /** calls per entry before it is reported failed (default 3) */
  readonly attempts?: number;
  /** first retry delay; doubles per attempt (default 50 ms) */
  readonly retryBaseMs?: number;
  readonly log?: Log;
}

interface Pending {
  readonly message: WarmMessage;
  readonly entry: SendMessageBatchRequestEntry;
}

/** A WarmQueue over two SQS queues; refuses to start without both URLs. */
export function createSqsWarmQueue(opts: SqsWarmQueueOptions): WarmQueue {
  const concurrency = opts.concurrency ?? 4;
  const attempts = opts.attempts ?? 3;
  const retryBaseMs = opts.retryBaseMs ?? 50;
  const log = opts.log ?? silentLog;
  for (const p of ["high", "low"] as const) {
    if (!opts.queueUrls[p]) throw new Error(`warm queue URL for priority ${p} is not configured`);
  }

  const entry = (m: WarmMessage): SendMessageBatchRequestEntry => ({
    // batch entry ids must be unique within a call and [A-Za-z0-9_-]{1,80}: a job id (uuid) is both
    Id: m.jobId,
    MessageBody: encodeWarmMessage(m),
    // visible in the console and to filters without parsing the body
    MessageAttributes: {
      jobId: { DataType: "String", StringValue: m.jobId },
      priority: { DataType: "String", StringValue: m.priority },
    },
  });

  /** One batch of ≤ 10 entries, retried for its failed entries; returns what failed for good. */
  async function sendBatch(url: string, batch: Pending[]): Promise<{ jobId: string; error: string }[]> {
    let todo = batch;
    const final: { jobId: string; error: string }[] = [];
    for (let attempt = 1; todo.length > 0; attempt++) {
      const errors = new Map<string, { error: string; retryable: boolean }>();
      try {
        const out = await opts.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: todo.map((t) => t.entry) }));
        const ok = new Set((out.Successful ?? []).map((s) => s.Id));
        for (const f of out.Failed ?? []) {
          // SenderFault: the entry itself is wrong (too large, bad attribute); sending it again cannot help
          errors.set(f.Id ?? "", { error: `${f.Code ?? "Failed"}: ${f.Message ?? "no message"}`, retryable: !f.SenderFault });
        }
        for (const t of todo) {
          if (!ok.has(t.message.jobId) && !errors.has(t.message.jobId)) {
            errors.set(t.message.jobId, { error: "not acknowledged in the SendMessageBatch response", retryable: true });
          }
        }
      } catch (e) {
        // the call itself failed (after the SDK's own retries): every entry of it is still unsent
        const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        for (const t of todo) errors.set(t.message.jobId, { error, retryable: true });
      }
      const retry: Pending[] = [];
      for (const t of todo) {
        const err = errors.get(t.message.jobId);
        if (!err) continue;
        if (err.retryable && attempt < attempts) retry.push(t);
        else final.push({ jobId: t.message.jobId, error: err.error });
      }
      todo = retry;
      if (todo.length > 0) {
        log.warn("SendMessageBatch entries failed; retrying them", { attempt, retrying: todo.length });
        await new Promise((r) => setTimeout(r, retryBaseMs * 2 ** (attempt - 1)));
      }
    }
    return final;
  }

  return {
    async send(messages) {
      const batches: { url: string; batch: Pending[] }[] = [];
      for (const priority of ["high", "low"] as const) {
        const ofLane = messages.filter((m) => m.priority === priority).map((m) => ({ message: m, entry: entry(m) }));
        for (let i = 0; i < ofLane.length; i += SQS_BATCH_SIZE) {
          batches.push({ url: opts.queueUrls[priority], batch: ofLane.slice(i, i + SQS_BATCH_SIZE) });
        }
      }
      const results = await mapConcurrent(batches, concurrency, (b) => sendBatch(b.url, b.batch));
      const failed = results.flat();
      if (failed.length > 0) log.error("warm messages not enqueued", { failed: failed.length, of: messages.length });
      return { failed };
    },
  };
}
