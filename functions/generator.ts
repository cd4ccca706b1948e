// Lambda: the generator, SQS consumer of the WarmHigh and WarmLow queues (partial batch responses).
import { createDrizzleWarmStore } from "../adapters/jobs-drizzle";
import { loadWarmSettings } from "../core/warming";
import { lambdaContext } from "./shared/lambda";
import { createGeneratorConsumer, createGeneratorHandler } from "./shared/warming";

// A record waiting on another consumer's lease gives up (and is retried by SQS) well inside the 120 s
// function timeout: a timed-out invocation would return its whole batch, not just that record.
const { runtime, metrics } = await lambdaContext("generator", { cacheOptions: { waitTimeoutMs: 60_000 } });
const settings = loadWarmSettings(process.env);
// WarmJobsCompleted / WarmJobsFailed; the cache's own WarmLookups, GenerationDuration … go through the same sink
const consumer = createGeneratorConsumer({ runtime, store: createDrizzleWarmStore(runtime.db.db), maxReceiveCount: settings.maxReceiveCount, metrics });

export const handler = createGeneratorHandler({ consumer, log: runtime.log, metrics });
