// What every Lambda of the app shares: handler paths, runtime, environment and the link sets that give each
// function exactly the secrets and queues it reads. One place, so a new function cannot forget one.
import type { Secrets } from "./secrets";
import type { WarmQueues } from "./queues";
import { METRICS_NAMESPACE, SERVICE_NAME, type StageSettings } from "./settings";

/** Handler of each function; the files live in functions/ and each exports `handler`. */
export const HANDLERS = {
  stats: "functions/stats.handler",
  invalidate: "functions/invalidate.handler",
  warm: "functions/warm.handler",
  simulate: "functions/simulate.handler",
  generator: "functions/generator.handler",
  scheduledWarm: "functions/scheduled-warm.handler",
  maintenance: "functions/maintenance.handler",
} as const;

/** Plain environment of every function (linked values travel encrypted through `Resource` instead). */
export const COMMON_ENVIRONMENT = {
  METRICS_NAMESPACE,
  // Powertools Metrics reads its namespace from here when none is passed in code.
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  // Only useful because `nodejs.sourcemap` below ships the maps inside the bundle.
  NODE_OPTIONS: "--enable-source-maps",
} as const;

/**
 * Stage settings the application must agree with: the consumer reads the queues' maxReceiveCount to
 * know a record's last receive, and the warm estimate divides by the lanes' concurrency.
 */
export function stageEnvironment(settings: StageSettings): Record<string, string> {
  return {
    WARM_MAX_RECEIVE_COUNT: String(settings.queues.maxReceiveCount),
    WARM_HIGH_CONCURRENCY: String(settings.generator.high.maximumConcurrency),
    WARM_LOW_CONCURRENCY: String(settings.generator.low.maximumConcurrency),
  };
}

/** Everything a function definition needs from the rest of the stacks. */
export interface FunctionContext {
  readonly settings: StageSettings;
  readonly secrets: Secrets;
  readonly queues: WarmQueues;
}

/** The link set of each kind of function; links also grant IAM (a linked queue gets `sqs:*` on it). */
export function linksFor(ctx: FunctionContext) {
  const { secrets, queues } = ctx;
  const storage = [secrets.databaseUrl, secrets.upstashRedisRestUrl, secrets.upstashRedisRestToken];
  return {
    /** Read-path functions behind the API (stats, invalidate, simulate). */
    http: [...storage, secrets.apiTokens],
    /** The warm API enqueues to both lanes. */
    warmHttp: [...storage, secrets.apiTokens, queues.high, queues.low],
    /** The scheduled re-warm enqueues (to the low lane; both URLs so the shared enqueue code is uniform). */
    scheduledWarm: [...storage, queues.high, queues.low],
    /** Generator and maintenance only touch the tiers; the generator's queue access is a narrower policy. */
    storage,
  };
}

/** Options of one function besides the shared ones. */
export interface FunctionOptions {
  readonly handler: string;
  readonly description: string;
  readonly link: unknown[];
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly reservedConcurrency?: number;
  readonly permissions?: sst.aws.FunctionPermissionArgs[];
}

/** Full `sst.aws.Function` arguments: the shared runtime settings plus `opts`. */
export function functionArgs(ctx: FunctionContext, opts: FunctionOptions): sst.aws.FunctionArgs {
  const { settings } = ctx;
  return {
    handler: opts.handler,
    description: opts.description,
    runtime: settings.runtime,
    architecture: settings.architecture,
    timeout: `${opts.timeoutSeconds} seconds`,
    memory: `${opts.memoryMb} MB`,
    link: opts.link,
    environment: { ...COMMON_ENVIRONMENT, ...stageEnvironment(settings) },
    permissions: opts.permissions,
    concurrency: opts.reservedConcurrency === undefined ? undefined : { reserved: opts.reservedConcurrency },
    logging: { retention: settings.logRetention },
    nodejs: { sourcemap: true },
  };
}
