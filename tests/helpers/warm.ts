// Builders for the warming suites: jobs, warm messages, real-shaped SQS and EventBridge events, and a
// recording queue.
import { createHash, randomUUID } from "node:crypto";
import type { ScheduledEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { matrixKey, type ScenarioConfigWithMeta, type ScenarioConfigWithMetaInput } from "../../core/scenario";
import { encodeWarmMessage, type NewWarmJob, type WarmMessage, type WarmPriority, type WarmQueue } from "../../core/warming";
import { config } from "./factories";

export function newJob(overrides: Partial<ScenarioConfigWithMetaInput> = {}, priority: WarmPriority = "high", requestedBy = "tester"): NewWarmJob {
  const c = config(overrides);
  return { matrixKey: matrixKey(c), fundId: c.fundId, taxonomyVersion: c.taxonomyVersion, priority, config: c, requestedBy };
}

export function warmMessage(jobId: string, c: ScenarioConfigWithMeta, priority: WarmPriority = "high"): WarmMessage {
  return { v: 1, jobId, matrixKey: matrixKey(c), priority, config: c, requestedBy: "tester", enqueuedAt: new Date().toISOString() };
}

/** An SQS record exactly as Lambda's event source mapping delivers it. */
export function sqsRecord(body: string, opts: { receiveCount?: number; priority?: WarmPriority; messageId?: string } = {}): SQSRecord {
  const now = Date.now();
  const queue = opts.priority === "low" ? "WarmLow" : "WarmHigh";
  return {
    messageId: opts.messageId ?? randomUUID(),
    receiptHandle: `AQEB${createHash("sha256").update(body + now).digest("base64")}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: String(now - 1000),
      SenderId: "AROAEXAMPLE:warm",
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {
      priority: { stringValue: opts.priority ?? "high", stringListValues: [], binaryListValues: [], dataType: "String" },
    },
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:scenario-matrix-cache-ci-${queue}`,
    awsRegion: "eu-west-1",
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export const messageRecord = (m: WarmMessage, opts: { receiveCount?: number; messageId?: string } = {}) =>
  sqsRecord(encodeWarmMessage(m), { ...opts, priority: m.priority });

/** An EventBridge scheduled event as a rule delivers it. */
export function scheduledEvent(detail: Record<string, unknown> = {}): ScheduledEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "eu-west-1",
    resources: ["arn:aws:events:eu-west-1:123456789012:rule/scenario-matrix-cache-ci-ScheduledWarm"],
    detail,
  };
}

/** A queue that records what it was given and can refuse chosen jobs. */
export function recordingQueue(refuse: (m: WarmMessage) => string | undefined = () => undefined): WarmQueue & { sent: WarmMessage[] } {
  const sent: WarmMessage[] = [];
  return {
    sent,
    async send(messages) {
      const failed: { jobId: string; error: string }[] = [];
      for (const m of messages) {
        const error = refuse(m);
        if (error) failed.push({ jobId: m.jobId, error });
        else sent.push(m);
      }
      return { failed };
    },
  };
}

/** Polls `f` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function waitFor<T>(f: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
