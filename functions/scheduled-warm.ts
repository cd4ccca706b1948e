// Lambda: scheduled re-warming (EventBridge): profiles, then recently requested keys no longer cached,
// at low priority, up to WARM_SCHEDULE_BUDGET new jobs per run.
import { SQSClient } from "@aws-sdk/client-sqs";
import { createSqsWarmQueue } from "../adapters/queue-sqs";
import { loadWarmSettings } from "../core/warming";
import { lambdaContext } from "./shared/lambda";
import { createScheduledWarmHandler, createWarming } from "./shared/warming";

const { runtime, config, metrics } = await lambdaContext("scheduled-warm");
const settings = loadWarmSettings(process.env);
const { high, low } = config.queues;
if (!high || !low) throw new Error("WarmHigh / WarmLow queue URLs are not configured (SST links or WARM_HIGH_QUEUE_URL / WARM_LOW_QUEUE_URL)");
const queue = createSqsWarmQueue({ client: new SQSClient({}), queueUrls: { high, low }, concurrency: settings.sendConcurrency, log: runtime.log });
const { service } = createWarming({ runtime, settings, queue, metrics });

export const handler = createScheduledWarmHandler({ service, settings, log: runtime.log, metrics });
