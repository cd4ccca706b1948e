import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingsFor, visibilityTimeoutSeconds, type StageSettings } from "../../stacks/settings";
import type { BuildRequest, Evaluation, Registered } from "./helpers/evaluate-stacks";
import { ROOT, assertPlatformInstalled, infraSkipReason } from "./helpers/platform";

// The real sst.config.ts evaluated under Pulumi's mocks (see helpers/evaluate-stacks.ts): these tests read
// the resources SST would ask AWS to create. The expectations restate the contract on purpose
// rather than importing it from the stacks.

const EXPECTED_ROUTES: Record<string, string[]> = {
  Stats: ["GET /api/cache/stats", "GET /api/cache/stats/history", "GET /api/cache/audit", "GET /api/metrics", "GET /api/openapi.json"],
  Invalidate: ["POST /api/cache/invalidate"],
  Warm: [
    "POST /api/cache/warm",
    "GET /api/cache/warm/jobs",
    "GET /api/cache/warm/jobs/{jobId}",
    "GET /api/cache/warm/dead-letters",
    "GET /api/cache/warm/profiles",
    "POST /api/cache/warm/profiles",
    "DELETE /api/cache/warm/profiles/{id}",
  ],
  Simulate: ["POST /api/monte-carlo/simulate"],
};

const STORAGE = ["DatabaseUrl", "UpstashRedisRestToken", "UpstashRedisRestUrl"];
/** Function (SST functionID) → handler and the exact links it gets. */
const EXPECTED_FUNCTIONS: Record<string, { handler: string; links: string[] }> = {
  Stats: { handler: "functions/stats.handler", links: [...STORAGE, "ApiTokens"] },
  Invalidate: { handler: "functions/invalidate.handler", links: [...STORAGE, "ApiTokens"] },
  Warm: { handler: "functions/warm.handler", links: [...STORAGE, "ApiTokens", "WarmHigh", "WarmLow"] },
  Simulate: { handler: "functions/simulate.handler", links: [...STORAGE, "ApiTokens"] },
  GeneratorHigh: { handler: "functions/generator.handler", links: STORAGE },
  GeneratorLow: { handler: "functions/generator.handler", links: STORAGE },
  ScheduledWarmHandler: { handler: "functions/scheduled-warm.handler", links: [...STORAGE, "WarmHigh", "WarmLow"] },
  MaintenanceHandler: { handler: "functions/maintenance.handler", links: STORAGE },
};

const EXPECTED_ALARMS = [
  "HitRateLow",
  "LatencyP99HighRedis",
  "LatencyP99HighPostgres",
  "LatencyP99HighGenerated",
  "WarmHighDlqNotEmpty",
  "WarmLowDlqNotEmpty",
  "GeneratorHighErrors",
  "GeneratorLowErrors",
  "WarmJobsFailed",
  "WarmHighOldestMessageTooOld",
  "WarmLowOldestMessageTooOld",
];

const EMF_METRICS = [
  "CacheHit",
  "CacheMiss",
  "Requests",
  "Latency",
  "GenerationDuration",
  "MatrixBytes",
  "InvalidatedEntries",
  "WarmJobsEnqueued",
  "WarmJobsCompleted",
  "WarmJobsFailed",
  "HotTierFaults",
  "DurableTierFaults",
];

/** Read access to one evaluation. */
class Stack {
  constructor(readonly e: Evaluation) {}
  all(type: string): Registered[] {
    return this.e.resources.filter((r) => r.type === type);
  }
  one(type: string, name: string): Registered {
    const found = this.e.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; have ${this.all(type).map((r) => r.name).join(", ")}`);
    return found;
  }
  queue(name: string): Registered {
    return this.one("aws:sqs/queue:Queue", `${name}Queue`);
  }
  lambda(functionID: string): Registered {
    return this.one("aws:lambda/function:Function", `${functionID}Function`);
  }
  build(functionID: string): BuildRequest {
    const found = this.e.builds.find((b) => b.functionID === functionID);
    if (!found) throw new Error(`no function ${functionID} was built`);
    return found;
  }
  /** The statements of the inline policy of a function's role. */
  statements(functionID: string): { actions: string[]; resources: string[] }[] {
    const role = this.one("aws:iam/role:Role", `${functionID}Role`);
    const inline = (role.inputs.inlinePolicies ?? []) as { policy: string }[];
    return inline.flatMap((p) => JSON.parse(p.policy).Statement);
  }
  mappingOf(queueName: string): Registered {
    const arn = this.queue(queueName).state.arn;
    const found = this.all("aws:lambda/eventSourceMapping:EventSourceMapping").filter((m) => m.inputs.eventSourceArn === arn);
    expect(found, `event source mappings of ${queueName}`).toHaveLength(1);
    return found[0];
  }
}

const run = promisify(execFile);
async function evaluate(stage: string, dir: string): Promise<Stack> {
  const out = join(dir, `${stage}.json`);
  await run(process.execPath, ["--import", "tsx", join(ROOT, "tests/infra/helpers/evaluate-stacks.ts"), stage, out], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  return new Stack(JSON.parse(readFileSync(out, "utf8")) as Evaluation);
}

const skip = infraSkipReason("infrastructure evaluation tests (Pulumi mocks)");

describe.skipIf(skip !== undefined)("stacks under Pulumi mocks", () => {
  let dir: string;
  const stages: Record<string, { stack: Stack; settings: StageSettings }> = {};

  beforeAll(async () => {
    assertPlatformInstalled();
    dir = mkdtempSync(join(tmpdir(), "infra-stacks-"));
    // One stage with reserved concurrency (production) and one on the defaults (any personal stage).
    for (const stage of ["production", "ci"]) stages[stage] = { stack: await evaluate(stage, dir), settings: settingsFor(stage) };
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(["production", "ci"])("%s evaluates without errors and exports the API URL and alarm topic", (stage) => {
    const { e } = stages[stage].stack;

    expect(e.errors).toEqual([]);
    expect(e.outputs).toMatchObject({ api: expect.stringMatching(/^https:\/\//), alarmTopic: expect.stringMatching(/^arn:aws:sns:/) });
  });

  describe("queues", () => {
    it.each([
      ["WarmHigh", "WarmHighDlq"],
      ["WarmLow", "WarmLowDlq"],
    ])("%s redrives to its own DLQ after maxReceiveCount receives", (name, dlqName) => {
      const { stack, settings } = stages.production;

      const redrive = JSON.parse(stack.queue(name).inputs.redrivePolicy);

      expect(redrive).toEqual({ deadLetterTargetArn: stack.queue(dlqName).state.arn, maxReceiveCount: settings.queues.maxReceiveCount });
      expect(stack.queue(dlqName).inputs.redrivePolicy).toBeUndefined();
      // A DLQ message's age counts from its first enqueue, so the DLQ keeps messages for the maximum.
      expect(stack.queue(dlqName).inputs.messageRetentionSeconds).toBe(1_209_600);
    });

    it.each(["WarmHigh", "WarmLow"])("%s has a visibility timeout of at least six times its consumer's timeout", (name) => {
      const { stack } = stages.production;
      const consumerArn = stack.mappingOf(name).inputs.functionName;
      const consumer = stack.all("aws:lambda/function:Function").find((f) => f.state.arn === consumerArn);

      expect(consumer, `consumer of ${name}`).toBeDefined();
      expect(stack.queue(name).inputs.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * consumer!.inputs.timeout);
    });

    it("declares exactly the two lanes and their DLQs", () => {
      const names = stages.production.stack.all("aws:sqs/queue:Queue").map((q) => q.name).sort();

      expect(names).toEqual(["WarmHighDlqQueue", "WarmHighQueue", "WarmLowDlqQueue", "WarmLowQueue"]);
    });
  });

  describe("generator", () => {
    it.each([
      ["WarmHigh", "GeneratorHigh", "high"],
      ["WarmLow", "GeneratorLow", "low"],
    ] as const)("%s is consumed by %s with partial batch responses and a concurrency cap", (queue, fn, lane) => {
      for (const { stack, settings } of Object.values(stages)) {
        const mapping = stack.mappingOf(queue);

        expect(mapping.inputs.functionName).toBe(stack.lambda(fn).state.arn);
        expect(mapping.inputs.functionResponseTypes).toEqual(["ReportBatchItemFailures"]);
        expect(mapping.inputs.scalingConfig).toEqual({ maximumConcurrency: settings.generator[lane].maximumConcurrency });
        expect(mapping.inputs.batchSize).toBe(settings.generator[lane].batchSize);
      }
    });

    it("gives the high lane more concurrency than the low lane on every stage", () => {
      for (const { stack } of Object.values(stages)) {
        const high = stack.mappingOf("WarmHigh").inputs.scalingConfig.maximumConcurrency;
        const low = stack.mappingOf("WarmLow").inputs.scalingConfig.maximumConcurrency;

        expect(high).toBeGreaterThan(low);
      }
    });

    it("reserves concurrency for both lanes in production, at least their mapping's cap", () => {
      const { stack, settings } = stages.production;

      expect(stack.lambda("GeneratorHigh").inputs.reservedConcurrentExecutions).toBe(settings.generator.high.reservedConcurrency);
      expect(stack.lambda("GeneratorLow").inputs.reservedConcurrentExecutions).toBe(settings.generator.low.reservedConcurrency);
      expect(settings.generator.high.reservedConcurrency).toBeGreaterThanOrEqual(settings.generator.high.maximumConcurrency);
      expect(stages.ci.stack.lambda("GeneratorHigh").inputs.reservedConcurrentExecutions).toBeUndefined();
    });

    it.each([
      ["GeneratorHigh", "WarmHigh", "WarmLow"],
      ["GeneratorLow", "WarmLow", "WarmHigh"],
    ])("%s may receive and delete from %s only", (fn, own, other) => {
      const { stack } = stages.production;
      const statements = stack.statements(fn);
      const onQueue = (q: string) => statements.filter((s) => s.resources.includes(stack.queue(q).state.arn));

      expect(onQueue(own).flatMap((s) => s.actions)).toEqual(
        expect.arrayContaining(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]),
      );
      expect(onQueue(other)).toEqual([]);
    });
  });

  describe("functions", () => {
    it("lets only the stats function read CloudWatch metrics (stats history)", () => {
      const { stack } = stages.production;
      const reads = (fn: string) => stack.statements(fn).some((s) => s.actions.includes("cloudwatch:GetMetricData"));
      expect(reads("Stats")).toBe(true);
      expect(["Invalidate", "Warm", "Simulate", "GeneratorHigh"].filter(reads)).toEqual([]);
    });

    it("builds every function from its handler file with exactly its links", () => {
      const { stack } = stages.production;

      const built = Object.fromEntries(stack.e.builds.map((b) => [b.functionID, { handler: b.handler, links: Object.keys(b.links).sort() }]));

      expect(built).toEqual(
        Object.fromEntries(Object.entries(EXPECTED_FUNCTIONS).map(([id, f]) => [id, { handler: f.handler, links: [...f.links].sort() }])),
      );
    });

    it("finds every handler SST would bundle in a file that exports it", () => {
      const missing: string[] = [];
      for (const { functionID, handler } of stages.production.stack.e.builds) {
        // "functions/stats.handler" → functions/stats.(ts|js|mjs) exporting `handler`, as SST's build resolves it.
        const [base, name] = [handler.slice(0, handler.lastIndexOf(".")), handler.slice(handler.lastIndexOf(".") + 1)];
        const file = [".ts", ".mts", ".js", ".mjs"].map((ext) => join(ROOT, base + ext)).find((f) => existsSync(f));
        const exported = new RegExp(`export\\s+(const|let|async\\s+function|function)\\s+${name}\\b|export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`);
        if (!file) missing.push(`${functionID}: no file for ${handler}`);
        else if (!exported.test(readFileSync(file, "utf8"))) missing.push(`${functionID}: ${file} does not export ${name}`);
      }

      expect(missing).toEqual([]);
    });

    it("passes the secrets' values through the links", () => {
      const links = stages.production.stack.build("Stats").links;

      expect(links.DatabaseUrl).toMatchObject({ value: expect.stringMatching(/^postgres:\/\//) });
      expect(links.ApiTokens).toMatchObject({ value: expect.stringContaining('"role":"admin"') });
    });

    it("gives every function the metrics and runtime environment", () => {
      const { stack } = stages.production;

      for (const id of Object.keys(EXPECTED_FUNCTIONS)) {
        expect(stack.lambda(id).inputs.environment?.variables, id).toMatchObject({
          METRICS_NAMESPACE: "ScenarioMatrixCache",
          POWERTOOLS_SERVICE_NAME: "scenario-matrix-cache",
          NODE_OPTIONS: "--enable-source-maps",
        });
      }
    });

    it("lets the warm API and the scheduled warm send to both lanes through their links", () => {
      const { stack } = stages.production;
      for (const fn of ["Warm", "ScheduledWarmHandler"]) {
        const resources = stack.statements(fn).filter((s) => s.actions.includes("sqs:*")).flatMap((s) => s.resources);

        expect(resources.sort(), fn).toEqual([stack.queue("WarmHigh").state.arn, stack.queue("WarmLow").state.arn].sort());
      }
    });

    it("keeps HTTP functions under the API Gateway integration timeout", () => {
      const { stack } = stages.production;

      for (const id of Object.keys(EXPECTED_ROUTES)) expect(stack.lambda(id).inputs.timeout, id).toBeLessThan(30);
    });
  });

  describe("HTTP API", () => {
    it("routes every path of the contract to its group's function with payload 2.0", () => {
      const { stack } = stages.production;
      const integrations = new Map(stack.all("aws:apigatewayv2/integration:Integration").map((i) => [`integrations/${i.name}-id`, i]));

      const routed: Record<string, string[]> = {};
      for (const route of stack.all("aws:apigatewayv2/route:Route")) {
        const integration = integrations.get(route.inputs.target);
        expect(integration?.inputs.payloadFormatVersion, route.inputs.routeKey).toBe("2.0");
        const target = Object.keys(EXPECTED_ROUTES).find((id) => stack.lambda(id).state.arn === integration?.inputs.integrationUri);
        (routed[target ?? "unknown"] ??= []).push(route.inputs.routeKey);
      }

      expect(Object.fromEntries(Object.entries(routed).map(([k, v]) => [k, v.sort()]))).toEqual(
        Object.fromEntries(Object.entries(EXPECTED_ROUTES).map(([k, v]) => [k, [...v].sort()])),
      );
    });

    it("throttles the default stage per the settings", () => {
      const { stack, settings } = stages.production;

      expect(stack.all("aws:apigatewayv2/stage:Stage")[0].inputs.defaultRouteSettings).toEqual({
        throttlingRateLimit: settings.api.throttle.rate,
        throttlingBurstLimit: settings.api.throttle.burst,
      });
    });
  });

  describe("schedules", () => {
    it.each([
      ["ScheduledWarmSchedule", "ScheduledWarmHandler", "scheduledWarm"],
      ["MaintenanceSchedule", "MaintenanceHandler", "maintenance"],
    ] as const)("%s invokes %s on the stage's schedule", (schedule, fn, key) => {
      for (const { stack, settings } of Object.values(stages)) {
        const s = stack.one("aws:scheduler/schedule:Schedule", schedule);

        expect(s.inputs.scheduleExpression).toBe(settings.schedules[key]);
        expect(s.inputs.state).toBe("ENABLED");
        expect(s.inputs.target.arn).toBe(stack.lambda(fn).state.arn);
      }
    });
  });

  describe("monitoring", () => {
    it("declares every alarm, each notifying the alarm topic", () => {
      const { stack } = stages.production;
      const topic = stack.one("aws:sns/topic:Topic", "AlarmsTopic").state.arn;
      const alarms = stack.all("aws:cloudwatch/metricAlarm:MetricAlarm");

      expect(alarms.map((a) => a.inputs.name).sort()).toEqual(EXPECTED_ALARMS.map((n) => `scenario-matrix-cache-production-${n}`).sort());
      for (const a of alarms) {
        expect(a.inputs.alarmActions, a.name).toEqual([topic]);
        expect(a.inputs.okActions, a.name).toEqual([topic]);
      }
    });

    it("watches each DLQ and each lane's oldest message on the right queue", () => {
      const { stack, settings } = stages.production;
      const alarm = (n: string) => stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", `${n}Alarm`).inputs;

      for (const lane of ["High", "Low"] as const) {
        expect(alarm(`Warm${lane}DlqNotEmpty`)).toMatchObject({
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: stack.queue(`Warm${lane}Dlq`).inputs.name },
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          evaluationPeriods: 1,
        });
        expect(alarm(`Warm${lane}OldestMessageTooOld`)).toMatchObject({
          metricName: "ApproximateAgeOfOldestMessage",
          dimensions: { QueueName: stack.queue(`Warm${lane}`).inputs.name },
          threshold: settings.generator[lane === "High" ? "high" : "low"].oldestMessageAlarmSeconds,
        });
        expect(alarm(`Generator${lane}Errors`)).toMatchObject({
          namespace: "AWS/Lambda",
          metricName: "Errors",
          dimensions: { FunctionName: stack.lambda(`Generator${lane}`).inputs.name },
        });
      }
    });

    it("computes the hit rate as CacheHit over Requests with one returned series", () => {
      const { stack, settings } = stages.production;
      const queries = stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", "HitRateLowAlarm").inputs.metricQueries as {
        id: string;
        returnData?: boolean;
        expression?: string;
        metric?: { metricName: string; dimensions: Record<string, string> };
      }[];

      expect(queries.filter((q) => q.returnData)).toHaveLength(1);
      const metrics = queries.filter((q) => q.metric).map((q) => `${q.metric!.metricName}/${q.metric!.dimensions.Tier}`);
      expect(metrics.sort()).toEqual(["CacheHit/postgres", "CacheHit/redis", "Requests/generated", "Requests/postgres", "Requests/redis"]);
      expect(queries.find((q) => q.returnData)?.expression).toContain(`requests >= ${settings.alarms.hitRateMinRequests}`);
    });

    it("puts every EMF metric, both queues, both DLQs and every function on the dashboard", () => {
      const { stack } = stages.production;
      const body = stack.one("aws:cloudwatch/dashboard:Dashboard", "Dashboard").inputs.dashboardBody as string;
      const widgets = JSON.parse(body).widgets as { properties: { metrics?: unknown[][]; alarms?: string[] } }[];
      const rows = widgets.flatMap((w) => w.properties.metrics ?? []);
      const named = (namespace: string) => new Set(rows.filter((r) => r[0] === namespace).map((r) => r[1]));
      const dims = (namespace: string, key: string) =>
        new Set(rows.filter((r) => r[0] === namespace && r.includes(key)).map((r) => r[r.indexOf(key) + 1]));

      expect([...named("ScenarioMatrixCache")].sort()).toEqual([...EMF_METRICS].sort());
      expect([...dims("ScenarioMatrixCache", "Tier")].sort()).toEqual(["generated", "postgres", "redis"]);
      expect(named("AWS/SQS")).toEqual(
        new Set(["ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible", "ApproximateAgeOfOldestMessage"]),
      );
      expect([...dims("AWS/SQS", "QueueName")].sort()).toEqual(
        ["WarmHigh", "WarmLow", "WarmHighDlq", "WarmLowDlq"].map((q) => stack.queue(q).inputs.name).sort(),
      );
      expect(named("AWS/Lambda")).toEqual(new Set(["Errors", "Throttles"]));
      expect([...dims("AWS/Lambda", "FunctionName")].sort()).toEqual(
        Object.keys(EXPECTED_FUNCTIONS).map((id) => stack.lambda(id).inputs.name).sort(),
      );
      const shown = widgets.flatMap((w) => w.properties.alarms ?? []);
      expect(shown).toHaveLength(EXPECTED_ALARMS.length);
    });
  });
});
