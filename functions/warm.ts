// Lambda: the warm API (POST /api/cache/warm, jobs, dead letters, profiles), enqueuing to SQS.
import { SQSClient } from "@aws-sdk/client-sqs";
import { handle } from "hono/aws-lambda";
import { createFailedJobsDeadLetters } from "../adapters/jobs-drizzle";
import { createSqsWarmQueue } from "../adapters/queue-sqs";
import { loadWarmSettings } from "../core/warming";
import { createApp } from "./http/kernel";
import { warmRoutes } from "./http/routes/warm";
import { lambdaContext } from "./shared/lambda";
import { withMetricsFlush } from "./shared/metrics";
import { createWarming } from "./shared/warming";

const { runtime, auth, config, metrics } = await lambdaContext("warm");
const settings = loadWarmSettings(process.env);
const { high, low } = config.queues;
if (!high || !low) throw new Error("WarmHigh / WarmLow queue URLs are not configured (SST links or WARM_HIGH_QUEUE_URL / WARM_LOW_QUEUE_URL)");
const queue = createSqsWarmQueue({ client: new SQSClient({}), queueUrls: { high, low }, concurrency: settings.sendConcurrency, log: runtime.log });
// WarmJobsEnqueued, and WarmJobsFailed for messages SQS refused
const { service } = createWarming({ runtime, settings, queue, metrics });

export const app = warmRoutes(createApp({ auth, log: runtime.log }), { auth, warm: service, deadLetters: createFailedJobsDeadLetters(runtime.db.db) });
export const handler = withMetricsFlush(metrics, handle(app));
