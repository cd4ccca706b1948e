// The warm and generator Lambda files themselves (module-scope wiring, exported handlers) on the real
// PostgreSQL and Redis: an API Gateway v2 request to the warm Lambda, the SendMessageBatch calls it makes
// (aws-sdk-client-mock), those exact message bodies delivered to the generator Lambda as an SQS event,
// the job polled to complete, and the EMF warm-job metrics both functions print.
import { randomUUID } from "node:crypto";
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { httpEvent, lambdaContext } from "./helpers/apigw";
import { realTargets } from "./helpers/cache-fixture";
import { freshPostgresDatabase, uniqueSuffix } from "./helpers/services";
import { captureStdout, emfDocuments } from "./helpers/emf";
import { sqsEvent, sqsRecord } from "./helpers/warm";

type HttpHandler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
type SqsHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

const TOKENS = [
  { actor: "alice", role: "admin", token: "tok-admin-alice" },
  { actor: "rita", role: "read", token: "tok-read-rita" },
];
const QUEUES = {
  WARM_HIGH_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/scenario-matrix-cache-ci-WarmHigh",
  WARM_LOW_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/scenario-matrix-cache-ci-WarmLow",
};
const ENV_KEYS = ["PGLITE_DIR", "MIGRATE_ON_START", "API_TOKENS", "DATABASE_URL", "REDIS_URL", "METRICS_EMF", "LOG_LEVEL", "WARM_HIGH_QUEUE_URL", "WARM_LOW_QUEUE_URL", "AWS_REGION"] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

/** EMF documents written to stdout while `f` runs (tests/helpers/emf.ts). */
async function emfDuring<T>(f: () => Promise<T>): Promise<{ result: T; docs: Record<string, unknown>[] }> {
  const { result, lines } = await captureStdout(f);
  return { result, docs: emfDocuments(lines) as unknown as Record<string, unknown>[] };
}

const targets = await realTargets();

describe.skipIf(!targets.available)("functions/warm.ts → SQS → functions/generator.ts (real PostgreSQL and Redis)", () => {
  const sqs = mockClient(SQSClient);
  let drop: () => Promise<void>;
  let warm: HttpHandler;
  let generator: SqsHandler;
  // the Lambdas use the default hot prefix: a fund id of this run keeps its keys apart
  const fundId = `warm-lambda-${uniqueSuffix()}`;

  beforeAll(async () => {
    const fresh = await freshPostgresDatabase(targets.pg.url);
    drop = fresh.drop;
    for (const k of ENV_KEYS) delete process.env[k];
    Object.assign(process.env, {
      DATABASE_URL: fresh.url,
      REDIS_URL: targets.redis.url,
      MIGRATE_ON_START: "true",
      API_TOKENS: JSON.stringify(TOKENS),
      METRICS_EMF: "stdout",
      LOG_LEVEL: "SILENT",
      AWS_REGION: "eu-west-1",
      ...QUEUES,
    });
    vi.resetModules();
    // two cold starts, as two functions: each builds its own runtime over the same PostgreSQL and Redis
    warm = (await import("../functions/warm")).handler as unknown as HttpHandler;
    generator = (await import("../functions/generator")).handler as unknown as SqsHandler;
  });
  afterAll(async () => {
    sqs.restore();
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await drop?.();
  });

  const http = async (method: string, path: string, body?: unknown, token = "tok-admin-alice") => {
    const res = (await warm(httpEvent({ method, path, body, headers: { authorization: `Bearer ${token}` } }), lambdaContext("warm"))) as APIGatewayProxyStructuredResultV2;
    return { status: res.statusCode, body: JSON.parse(res.body ?? "null") };
  };

  it("enqueues with SendMessageBatch, generates from the delivered bodies, and reports the jobs complete", async () => {
    const batches: SendMessageBatchCommandInput[] = [];
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      batches.push(input);
      return { Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: randomUUID(), MD5OfMessageBody: "x" })), Failed: [] };
    });
    const configs = Array.from({ length: 12 }, (_, i) => ({ numScenarios: 100, seed: `lambda-${i}` }));

    const { result: accepted, docs: warmDocs } = await emfDuring(() => http("POST", "/api/cache/warm", { fundIds: [fundId], priority: "low", configs }));

    expect(accepted.status).toBe(202);
    expect(accepted.body.scheduled).toBe(12);
    expect(batches.map((b) => [b.QueueUrl, b.Entries!.length])).toEqual([[QUEUES.WARM_LOW_QUEUE_URL, 10], [QUEUES.WARM_LOW_QUEUE_URL, 2]]);
    expect(warmDocs).toEqual(expect.arrayContaining([expect.objectContaining({ WarmJobsEnqueued: 12, priority: "low" })]));

    // SQS delivers the bodies as sent; a poison record rides along in the same batch
    const records = batches.flatMap((b) => b.Entries!).map((e) => sqsRecord(e.MessageBody!, { priority: "low" }));
    const poison = sqsRecord('{"v":1,"jobId":"nope"}', { priority: "low" });
    const { result: res, docs: genDocs } = await emfDuring(() => generator(sqsEvent(...records.slice(0, 5), poison, ...records.slice(5)), lambdaContext("generator-low")));

    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
    const completed = genDocs.filter((d) => "WarmJobsCompleted" in d);
    expect(completed).toHaveLength(12);
    expect(completed[0]).toMatchObject({ WarmJobsCompleted: 1, fundId, tier: "generated" });
    for (const j of accepted.body.jobs) {
      const job = await http("GET", `/api/cache/warm/jobs/${j.jobId}`, undefined, "tok-read-rita");
      expect(job.body).toMatchObject({ status: "complete", attempts: 1, requestedBy: "alice", configHash: j.configHash });
    }
    const again = await http("POST", "/api/cache/warm", { fundIds: [fundId], priority: "low", configs });
    expect(again.body).toMatchObject({ scheduled: 0, summary: { alreadyCached: 12 } });
  });

  it("marks a job failed and answers with it when SQS keeps refusing its message", async () => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [],
      Failed: input.Entries!.map((e) => ({ Id: e.Id!, Code: "KMS.ThrottlingException", Message: "Rate exceeded", SenderFault: false })),
    }));

    const r = await http("POST", "/api/cache/warm", { fundIds: [fundId], configs: [{ numScenarios: 100, seed: "refused" }] });

    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ scheduled: 0, summary: { enqueueFailed: 1 } });
    expect(r.body.jobs[0]).toMatchObject({ status: "failed", error: "enqueue failed: KMS.ThrottlingException: Rate exceeded" });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
    const dead = await http("GET", "/api/cache/warm/dead-letters", undefined, "tok-read-rita");
    expect(dead.body.source).toBe("failed-jobs");
    expect(dead.body.deadLetters.map((d: { jobId: string }) => d.jobId)).not.toContain(r.body.jobs[0].jobId); // never reached a consumer
  });
});
