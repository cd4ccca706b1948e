// The in-process WarmQueue of the local server: SQS semantics without SQS. Two lanes (high drained first),
// a bounded pool of workers, SQS-shaped events handed to the same generator handler the Lambda runs,
// failed records redelivered with a growing delay (the visibility timeout's role) until maxReceiveCount,
// then kept in a dead-letter list. Nothing survives the process: the local server re-enqueues live jobs
// from the database when it starts (WarmService.recover).
import { createHash, randomUUID } from "node:crypto";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { encodeWarmMessage, salvageJobId, type WarmMessage, type WarmPriority } from "../core/warming/messages";
import type { DeadLetter, DeadLetterSource, WarmQueue } from "../core/warming/ports";
import { silentLog, type Log } from "../core/shared/log";

/** The handler to drive and the SQS-like knobs (receives, delays, workers, batch size). */
export interface MemoryWarmQueueOptions {
  /** the generator handler: records listed in batchItemFailures (or all, if it throws) are redelivered */
  readonly consume: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** batches in flight at once (default 2) */
  readonly concurrency?: number;
  /** records per event (default 1) */
  readonly batchSize?: number;
  readonly maxReceiveCount?: number;
  /** delay before the n-th redelivery: retryBaseMs × 2^(n-1), capped at 10 s (default 200 ms) */
  readonly retryBaseMs?: number;
  /** dead letters kept (oldest dropped first; default 1,000) */
  readonly maxDeadLetters?: number;
  readonly log?: Log;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly priority: WarmPriority;
  readonly jobId?: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  lastError?: string;
}

/** The queue, its dead-letter list, and the controls the local server and tests need. */
export interface MemoryWarmQueue extends WarmQueue, DeadLetterSource {
  /** Resolves once nothing is queued, delayed or in flight; false if `timeoutMs` passed first. */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Stops dispatching and waits for in-flight batches; queued and delayed messages are dropped. */
  stop(): Promise<{ dropped: number }>;
  depth(): { high: number; low: number; delayed: number; inFlight: number; deadLetters: number };
  /** Enqueues a raw body (tests send poison messages with it). */
  sendRaw(body: string, priority: WarmPriority): void;
}

const REGION = "local";
const ACCOUNT = "000000000000";
const MAX_RETRY_DELAY_MS = 10_000;

/** Starts empty; dispatching begins with the first message. */
export function createMemoryWarmQueue(opts: MemoryWarmQueueOptions): MemoryWarmQueue {
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 1));
  const maxReceiveCount = opts.maxReceiveCount ?? 5;
  const retryBaseMs = opts.retryBaseMs ?? 200;
  const maxDeadLetters = opts.maxDeadLetters ?? 1000;
  const log = opts.log ?? silentLog;

  const lanes: Record<WarmPriority, Message[]> = { high: [], low: [] };
  const delayed = new Map<Message, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const deadLetters: DeadLetter[] = [];
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const isIdle = () => lanes.high.length === 0 && lanes.low.length === 0 && delayed.size === 0 && inFlight.size === 0;
  const notifyIfIdle = () => {
    if (!isIdle()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  const md5 = (s: string) => createHash("md5").update(s).digest("hex");

  function record(m: Message): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: `${m.messageId}#${m.receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: "local",
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? Date.now()),
      },
      messageAttributes: {
        priority: { dataType: "String", stringValue: m.priority, stringListValues: [], binaryListValues: [] },
      },
      md5OfBody: md5(m.body),
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:Warm${m.priority === "high" ? "High" : "Low"}`,
      awsRegion: REGION,
    };
  }

  /** High first; a batch never mixes lanes (an SQS event comes from one queue). */
  function takeBatch(): Message[] | undefined {
    const lane = lanes.high.length > 0 ? lanes.high : lanes.low.length > 0 ? lanes.low : undefined;
    return lane?.splice(0, batchSize);
  }

  function settle(m: Message, error: string): void {
    m.lastError = error;
    if (m.receiveCount >= maxReceiveCount) {
      deadLetters.push({
        messageId: m.messageId,
        jobId: m.jobId,
        priority: m.priority,
        receiveCount: m.receiveCount,
        error,
        deadLetteredAt: new Date().toISOString(),
      });
      if (deadLetters.length > maxDeadLetters) deadLetters.splice(0, deadLetters.length - maxDeadLetters);
      log.warn("warm message dead-lettered", { messageId: m.messageId, jobId: m.jobId, receiveCount: m.receiveCount, error });
      return;
    }
    const delay = Math.min(MAX_RETRY_DELAY_MS, retryBaseMs * 2 ** (m.receiveCount - 1));
    const timer = setTimeout(() => {
      delayed.delete(m);
      lanes[m.priority].push(m);
      pump();
    }, delay);
    delayed.set(m, timer);
  }

  async function run(batch: Message[]): Promise<void> {
    const now = Date.now();
    for (const m of batch) {
      m.receiveCount++;
      m.firstReceiveAt ??= now;
    }
    let failedIds: Set<string>;
    let error = "reported in batchItemFailures";
    try {
      const res = await opts.consume({ Records: batch.map(record) });
      failedIds = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (e) {
      // a thrown handler fails the whole batch, as in Lambda
      error = e instanceof Error ? e.message : String(e);
      failedIds = new Set(batch.map((m) => m.messageId));
    }
    for (const m of batch) if (failedIds.has(m.messageId)) settle(m, error);
  }

  function pump(): void {
    while (!stopped && inFlight.size < concurrency) {
      const batch = takeBatch();
      if (!batch || batch.length === 0) break;
      const p: Promise<void> = run(batch).finally(() => {
        inFlight.delete(p);
        pump();
        notifyIfIdle();
      });
      inFlight.add(p);
    }
    notifyIfIdle();
  }

  function enqueue(body: string, priority: WarmPriority, jobId?: string): void {
    lanes[priority].push({ messageId: randomUUID(), body, priority, jobId, sentAt: Date.now(), receiveCount: 0 });
  }

  return {
    kind: "in-process-queue",

    async send(messages: readonly WarmMessage[]) {
      if (stopped) return { failed: messages.map((m) => ({ jobId: m.jobId, error: "the in-process queue is stopped" })) };
      for (const m of messages) enqueue(encodeWarmMessage(m), m.priority, m.jobId);
      // dispatch on the next tick: the caller (a request) answers before generation starts hogging the CPU
      setImmediate(pump);
      return { failed: [] };
    },

    sendRaw(body, priority) {
      enqueue(body, priority, salvageJobId(body));
      setImmediate(pump);
    },

    async list(limit) {
      return deadLetters.slice(-limit).reverse();
    },

    drain(timeoutMs) {
      if (isIdle()) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        idleWaiters.push(done);
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            idleWaiters = idleWaiters.filter((f) => f !== done);
            resolve(false);
          }, timeoutMs);
        }
      });
    },

    async stop() {
      stopped = true;
      let dropped = lanes.high.length + lanes.low.length + delayed.size;
      for (const t of delayed.values()) clearTimeout(t);
      delayed.clear();
      lanes.high.length = 0;
      lanes.low.length = 0;
      await Promise.allSettled([...inFlight]);
      dropped += lanes.high.length + lanes.low.length + delayed.size; // redeliveries scheduled by the last batches
      for (const t of delayed.values()) clearTimeout(t);
      delayed.clear();
      lanes.high.length = 0;
      lanes.low.length = 0;
      notifyIfIdle();
      return { dropped };
    },

    depth() {
      return { high: lanes.high.length, low: lanes.low.length, delayed: delayed.size, inFlight: inFlight.size, deadLetters: deadLetters.length };
    },
  };
}
