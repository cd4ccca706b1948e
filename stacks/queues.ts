// Warm-job queues: a high-priority lane (operator-requested warms) and a low-priority lane (scheduled
// re-warms), each with its own dead-letter queue so a poison job of one lane never blocks the other.
import { type StageSettings, visibilityTimeoutSeconds } from "./settings";

export interface WarmQueues {
  readonly high: sst.aws.Queue;
  readonly low: sst.aws.Queue;
  readonly highDlq: sst.aws.Queue;
  readonly lowDlq: sst.aws.Queue;
}

/** Declares both lanes; subscribers are attached in stacks/generator.ts. */
export function createQueues(settings: StageSettings): WarmQueues {
  const highDlq = deadLetterQueue("WarmHighDlq", settings);
  const lowDlq = deadLetterQueue("WarmLowDlq", settings);
  const high = new sst.aws.Queue("WarmHigh", {
    visibilityTimeout: `${visibilityTimeoutSeconds(settings, "high")} seconds`,
    dlq: { queue: highDlq.arn, retry: settings.queues.maxReceiveCount },
  });
  const low = new sst.aws.Queue("WarmLow", {
    visibilityTimeout: `${visibilityTimeoutSeconds(settings, "low")} seconds`,
    dlq: { queue: lowDlq.arn, retry: settings.queues.maxReceiveCount },
  });
  return { high, low, highDlq, lowDlq };
}

function deadLetterQueue(name: string, settings: StageSettings): sst.aws.Queue {
  return new sst.aws.Queue(name, {
    transform: { queue: { messageRetentionSeconds: settings.queues.dlqRetentionSeconds } },
  });
}
