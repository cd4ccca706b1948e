// The CloudWatch dashboard body, built from plain names so it can be unit-tested without a deploy.
// Pure: stacks/monitoring.ts resolves the deploy-time names and passes them in.
import { type AppMetric, type MathQuery, type MetricName, TIERS, appMetric, hitRateQueries } from "./metrics";

/** Deploy-time names the dashboard points at. */
export interface DashboardInput {
  readonly region: string;
  readonly periodSeconds: number;
  /** Queue names by label, e.g. { "WarmHigh": "app-stage-WarmHighQueue-abc" }. */
  readonly queues: Readonly<Record<string, string>>;
  readonly deadLetterQueues: Readonly<Record<string, string>>;
  /** Lambda function names by label. */
  readonly functions: Readonly<Record<string, string>>;
  /** Alarms shown in the status widget. */
  readonly alarmArns: readonly string[];
}

type MetricRow = (string | Record<string, unknown>)[];
interface Widget {
  type: "metric" | "alarm" | "text";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

/** The dashboard body (an object; `JSON.stringify` it for `dashboardBody`). */
export function dashboardBody(input: DashboardInput): { widgets: Widget[] } {
  const { region, periodSeconds: period } = input;
  const graph = (title: string, metrics: MetricRow[], extra: Record<string, unknown> = {}) => ({
    title,
    region,
    period,
    view: "timeSeries",
    stacked: false,
    metrics,
    ...extra,
  });

  const percentiles = (name: MetricName, tier?: (typeof TIERS)[number]) =>
    ["p50", "p95", "p99"].map((stat) => appRow(appMetric(name, tier), { stat, label: `${tier ?? name} ${stat}` }));

  const panels: { width: number; properties: Record<string, unknown>; type?: Widget["type"] }[] = [
    {
      width: 12,
      properties: graph("Hit rate (%)", mathRows(hitRateQueries()), { yAxis: { left: { min: 0, max: 100 } } }),
    },
    {
      width: 12,
      properties: graph(
        "Requests by tier",
        TIERS.map((t) => appRow(appMetric("Requests", t), { stat: "Sum", label: t })),
        { stacked: true },
      ),
    },
    ...TIERS.map((t) => ({ width: 8, properties: graph(`Latency ${t} (ms)`, percentiles("Latency", t)) })),
    { width: 8, properties: graph("Generation duration (ms)", percentiles("GenerationDuration")) },
    {
      width: 8,
      properties: graph(
        "Warm jobs",
        (["WarmJobsEnqueued", "WarmJobsCompleted", "WarmJobsFailed"] as const).map((m) =>
          appRow(appMetric(m), { stat: "Sum", label: m }),
        ),
      ),
    },
    {
      width: 8,
      properties: graph(
        "Tier faults and misses",
        (["HotTierFaults", "DurableTierFaults", "CacheMiss"] as const).map((m) => appRow(appMetric(m), { stat: "Sum", label: m })),
      ),
    },
    {
      width: 8,
      properties: graph(
        "Queue depth",
        Object.entries(input.queues).flatMap(([label, name]) => [
          sqsRow("ApproximateNumberOfMessagesVisible", name, { stat: "Maximum", label: `${label} visible` }),
          sqsRow("ApproximateNumberOfMessagesNotVisible", name, { stat: "Maximum", label: `${label} in flight` }),
        ]),
      ),
    },
    {
      width: 8,
      properties: graph(
        "Age of oldest message (s)",
        Object.entries(input.queues).map(([label, name]) =>
          sqsRow("ApproximateAgeOfOldestMessage", name, { stat: "Maximum", label }),
        ),
      ),
    },
    {
      width: 8,
      properties: graph(
        "DLQ depth",
        Object.entries(input.deadLetterQueues).map(([label, name]) =>
          sqsRow("ApproximateNumberOfMessagesVisible", name, { stat: "Maximum", label }),
        ),
      ),
    },
    {
      width: 12,
      properties: graph(
        "Lambda errors",
        Object.entries(input.functions).map(([label, name]) => lambdaRow("Errors", name, { stat: "Sum", label })),
      ),
    },
    {
      width: 12,
      properties: graph(
        "Lambda throttles",
        Object.entries(input.functions).map(([label, name]) => lambdaRow("Throttles", name, { stat: "Sum", label })),
      ),
    },
    {
      width: 12,
      properties: graph(
        "Matrix bytes and invalidations",
        [
          appRow(appMetric("MatrixBytes"), { stat: "Average", label: "MatrixBytes (avg)" }),
          ...(["redis", "postgres"] as const).map((t) =>
            appRow(appMetric("InvalidatedEntries", t), { stat: "Sum", label: `invalidated ${t}`, yAxis: "right" }),
          ),
        ],
      ),
    },
    { width: 12, type: "alarm", properties: { title: "Alarms", alarms: [...input.alarmArns] } },
  ];

  return { widgets: layout(panels) };
}

/** Row of the dashboard `metrics` array for an app metric: namespace, name, dimension pairs, options. */
function appRow(m: AppMetric, options: Record<string, unknown>): MetricRow {
  return [m.namespace, m.name, ...Object.entries(m.dimensions).flat(), options];
}

function sqsRow(name: string, queueName: string, options: Record<string, unknown>): MetricRow {
  return ["AWS/SQS", name, "QueueName", queueName, options];
}

function lambdaRow(name: string, functionName: string, options: Record<string, unknown>): MetricRow {
  return ["AWS/Lambda", name, "FunctionName", functionName, options];
}

/** Metric-math queries as dashboard rows (hidden inputs, visible results). */
function mathRows(queries: MathQuery[]): MetricRow[] {
  return queries.map((q) =>
    "metric" in q
      ? appRow(q.metric, { id: q.id, stat: q.stat, visible: q.returnData })
      : [{ id: q.id, expression: q.expression, label: q.label ?? q.id, visible: q.returnData }],
  );
}

/** Places panels left to right on the 24-column grid, wrapping rows. */
function layout(panels: { width: number; properties: Record<string, unknown>; type?: Widget["type"] }[]): Widget[] {
  const height = 6;
  let x = 0;
  let y = 0;
  return panels.map((p) => {
    if (x + p.width > 24) {
      x = 0;
      y += height;
    }
    const widget: Widget = { type: p.type ?? "metric", x, y, width: p.width, height, properties: p.properties };
    x += p.width;
    return widget;
  });
}
