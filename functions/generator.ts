// Lambda: the generator, SQS consumer of the WarmHigh and WarmLow queues (partial batch responses).
import { createDrizzleWarmStore } from "../adapters/jobs-drizzle";
import { loadWarmSettings } from "../core/warming";
import { lambdaContext } from "./shared/lambda";
import { createGeneratorConsumer, createGeneratorHandler } from "./shared/warming";

const { runtime } = await lambdaContext("generator");
const settings = loadWarmSettings(process.env);
// METRICS HOOK: pass `metrics` (WarmJobsCompleted / WarmJobsFailed) once functions/shared/metrics.ts provides a sink.
const consumer = createGeneratorConsumer({ runtime, store: createDrizzleWarmStore(runtime.db.db), maxReceiveCount: settings.maxReceiveCount });

export const handler = createGeneratorHandler({ consumer, log: runtime.log });
