// Observability: an SNS topic for alarms, the alarms themselves and one CloudWatch dashboard.
// Metric names and dimensions come from stacks/metrics.ts; thresholds from stacks/settings.ts.
import type { HttpApi } from "./api";
import { dashboardBody } from "./dashboard";
import type { Generators } from "./generator";
import { HIT_TIERS, TIERS, type MathQuery, appMetric, hitRateQueries } from "./metrics";
import type { WarmQueues } from "./queues";
import type { Schedules } from "./schedule";
import type { StageSettings } from "./settings";

export interface MonitoringInput {
  readonly settings: StageSettings;
  readonly queues: WarmQueues;
  readonly api: HttpApi;
  readonly generators: Generators;
  readonly schedules: Schedules;
}

export interface Monitoring {
  readonly topic: sst.aws.SnsTopic;
  /** Alarms by logical name (also the suffix of each alarm's CloudWatch name). */
  readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;
  readonly dashboard: aws.cloudwatch.Dashboard;
}

/** Names of every alarm this stack declares; tests and docs/DEPLOY.md list the same. */
export const ALARM_NAMES = [
  "HitRateLow",
  ...TIERS.map((t) => `LatencyP99High${capitalize(t)}`),
  "WarmHighDlqNotEmpty",
  "WarmLowDlqNotEmpty",
  "GeneratorHighErrors",
  "GeneratorLowErrors",
  "WarmJobsFailed",
  "WarmHighOldestMessageTooOld",
  "WarmLowOldestMessageTooOld",
] as const;

/** Declares the alarm topic (with an optional e-mail subscription), every alarm and the dashboard. */
export function createMonitoring(input: MonitoringInput): Monitoring {
  const { settings, queues, generators } = input;
  const a = settings.alarms;
  const topic = new sst.aws.SnsTopic("Alarms");
  if (a.email) {
    new aws.sns.TopicSubscription("AlarmsEmail", { topic: topic.arn, protocol: "email", endpoint: a.email });
  }

  const alarm = (name: (typeof ALARM_NAMES)[number], args: Omit<aws.cloudwatch.MetricAlarmArgs, "name">) =>
    new aws.cloudwatch.MetricAlarm(`${name}Alarm`, {
      name: `${$app.name}-${$app.stage}-${name}`,
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      // No data means no traffic or no failures here, never an incident.
      treatMissingData: "notBreaching",
      ...args,
    });
  const queueName = (q: sst.aws.Queue) => q.nodes.queue.name;

  const alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};

  alarms.HitRateLow = alarm("HitRateLow", {
    alarmDescription: `Cache hit rate (CacheHit ${HIT_TIERS.join("+")} / Requests) below ${a.hitRateMinPercent}%`,
    comparisonOperator: "LessThanThreshold",
    threshold: a.hitRateMinPercent,
    evaluationPeriods: a.evaluationPeriods,
    metricQueries: hitRateQueries(a.hitRateMinRequests).map((q) => alarmQuery(q, a.periodSeconds)),
  });

  for (const tier of TIERS) {
    const m = appMetric("Latency", tier);
    const name = `LatencyP99High${capitalize(tier)}` as const;
    alarms[name] = alarm(name, {
      alarmDescription: `p99 latency of requests served by ${tier} above ${a.p99LatencyMaxMs[tier]} ms`,
      namespace: m.namespace,
      metricName: m.name,
      dimensions: m.dimensions,
      extendedStatistic: "p99",
      // A p99 of a handful of samples is noise.
      evaluateLowSampleCountPercentiles: "ignore",
      period: a.periodSeconds,
      evaluationPeriods: a.evaluationPeriods,
      comparisonOperator: "GreaterThanThreshold",
      threshold: a.p99LatencyMaxMs[tier],
    });
  }

  const dlqs = [
    ["WarmHighDlqNotEmpty", queues.highDlq],
    ["WarmLowDlqNotEmpty", queues.lowDlq],
  ] as const;
  for (const [name, dlq] of dlqs) {
    alarms[name] = alarm(name, {
      alarmDescription: "A warm job exhausted its retries; inspect GET /api/cache/warm/dead-letters",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queueName(dlq) },
      statistic: "Maximum",
      period: 60,
      // One message is already an incident: fire on the first period.
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
  }

  const generatorFns = [
    ["GeneratorHighErrors", generators.high],
    ["GeneratorLowErrors", generators.low],
  ] as const;
  for (const [name, fn] of generatorFns) {
    alarms[name] = alarm(name, {
      alarmDescription: "Generator invocations failed (timeouts, crashes); record failures count in WarmJobsFailed",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fn.name },
      statistic: "Sum",
      period: a.periodSeconds,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: a.generatorErrorsMax,
    });
  }

  const failed = appMetric("WarmJobsFailed");
  alarms.WarmJobsFailed = alarm("WarmJobsFailed", {
    alarmDescription: "Warm jobs failed (each failure is retried until the DLQ)",
    namespace: failed.namespace,
    metricName: failed.name,
    dimensions: failed.dimensions,
    statistic: "Sum",
    period: a.periodSeconds,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    threshold: a.warmJobsFailedMax,
  });

  const lanes = [
    ["WarmHighOldestMessageTooOld", queues.high, settings.generator.high.oldestMessageAlarmSeconds],
    ["WarmLowOldestMessageTooOld", queues.low, settings.generator.low.oldestMessageAlarmSeconds],
  ] as const;
  for (const [name, queue, maxAge] of lanes) {
    alarms[name] = alarm(name, {
      alarmDescription: `Oldest warm job waited more than ${maxAge} s: the lane is stuck or under-provisioned`,
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queueName(queue) },
      statistic: "Maximum",
      period: a.periodSeconds,
      evaluationPeriods: a.evaluationPeriods,
      comparisonOperator: "GreaterThanThreshold",
      threshold: maxAge,
    });
  }

  const functionNames: Record<string, $util.Input<string>> = {
    ...Object.fromEntries(Object.entries(input.api.functions).map(([group, fn]) => [group, fn.name])),
    generatorHigh: generators.high.name,
    generatorLow: generators.low.name,
    scheduledWarm: input.schedules.scheduledWarm.nodes.function.apply((fn) => fn.name),
    maintenance: input.schedules.maintenance.nodes.function.apply((fn) => fn.name),
  };

  const dashboard = new aws.cloudwatch.Dashboard("Dashboard", {
    dashboardName: `${$app.name}-${$app.stage}`,
    dashboardBody: $resolve({
      region: aws.getRegionOutput().region,
      queues: $resolve({ WarmHigh: queueName(queues.high), WarmLow: queueName(queues.low) }),
      deadLetterQueues: $resolve({ WarmHighDlq: queueName(queues.highDlq), WarmLowDlq: queueName(queues.lowDlq) }),
      functions: $resolve(functionNames),
      alarmArns: $resolve(Object.values(alarms).map((x) => x.arn)),
    }).apply((names) =>
      JSON.stringify(dashboardBody({ ...names, periodSeconds: a.periodSeconds })),
    ),
  });

  return { topic, alarms, dashboard };
}

/** A metric-math query in the alarm's shape. */
function alarmQuery(q: MathQuery, period: number): aws.types.input.cloudwatch.MetricAlarmMetricQuery {
  if ("expression" in q) return { id: q.id, expression: q.expression, label: q.label, returnData: q.returnData };
  return {
    id: q.id,
    returnData: q.returnData,
    metric: {
      namespace: q.metric.namespace,
      metricName: q.metric.name,
      dimensions: { ...q.metric.dimensions },
      stat: q.stat,
      period,
    },
  };
}

function capitalize<S extends string>(s: S): Capitalize<S> {
  return (s.charAt(0).toUpperCase() + s.slice(1)) as Capitalize<S>;
}
