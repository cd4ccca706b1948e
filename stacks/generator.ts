// The generator: SQS consumers of the two warm lanes. SST allows one subscriber per queue, and a lane's
// priority is its concurrency, so each lane gets its own function built from the same handler file:
// - `maximumConcurrency` on the event source mapping caps how many batches the SQS poller runs at once
//   without throttling (throttled invocations would burn receive counts and push jobs to the DLQ);
// - reserved concurrency (where the stage sets it) guarantees the lane that share of the account pool, so
//   a burst of API traffic cannot starve high-priority warming, and separate functions give per-lane errors.
import { type FunctionContext, HANDLERS, functionArgs, linksFor } from "./functions";

export interface Generators {
  readonly high: sst.aws.Function;
  readonly low: sst.aws.Function;
}

/** Declares both lane functions and subscribes each to its queue with partial batch responses. */
export function createGenerators(ctx: FunctionContext): Generators {
  const high = lane(ctx, "high");
  const low = lane(ctx, "low");
  return { high, low };
}

function lane(ctx: FunctionContext, which: "high" | "low"): sst.aws.Function {
  const { settings, queues } = ctx;
  const lane = settings.generator[which];
  const queue = which === "high" ? queues.high : queues.low;
  const name = which === "high" ? "GeneratorHigh" : "GeneratorLow";

  const fn = new sst.aws.Function(
    name,
    functionArgs(ctx, {
      handler: HANDLERS.generator,
      description: `Generates matrices from the ${which}-priority warm queue`,
      link: linksFor(ctx).storage,
      timeoutSeconds: settings.generator.timeoutSeconds,
      memoryMb: settings.generator.memoryMb,
      reservedConcurrency: lane.reservedConcurrency,
      // Subscribing by ARN (below) adds no IAM, so the consumer permissions are granted here, for this queue only.
      permissions: [
        {
          actions: [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
          ],
          resources: [queue.arn],
        },
      ],
    }),
  );

  queue.subscribe(fn.arn, {
    batch: {
      size: lane.batchSize,
      window: `${lane.batchWindowSeconds} seconds`,
      // The handler returns `batchItemFailures`: one bad record is retried alone, never its whole batch.
      partialResponses: true,
    },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: lane.maximumConcurrency } },
    },
  });
  return fn;
}
