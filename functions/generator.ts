// Lambda: the generator, SQS consumer of the WarmHigh and WarmLow queues (partial batch responses).
import { createDrizzleWarmStore } from "../adapters/jobs-drizzle";
import { loadWarmSettings } from "../core/warming";
import { lambdaContext } from "./shared/lambda";
import { createGeneratorConsumer, createGeneratorHandler } from "./shared/warming";

const { runtime, metrics } = await lambdaContext("generator");
const settings = loadWarmSettings(process.env);
// WarmJobsCompleted / WarmJobsFailed; the cache's own WarmLookups, GenerationDuration … go through the same sink
const consumer = createGeneratorConsumer({ runtime, store: createDrizzleWarmStore(runtime.db.db), maxReceiveCount: settings.maxReceiveCount, metrics });

export const handler = createGeneratorHandler({ consumer, log: runtime.log, metrics });
