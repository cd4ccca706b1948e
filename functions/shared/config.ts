// Runtime configuration of every Lambda and of the local server. Deployed, values arrive as SST links
// (`Resource`, decrypted from the function bundle); anywhere else they come from plain environment
// variables, so tests and `npm start` run without SST. Runtime code: no `sst`/`aws` infrastructure globals.
import { Resource } from "sst";
import { z } from "zod";

/** One bearer token of the HTTP API and who holds it. */
export const ApiTokenSchema = z.object({
  actor: z.string().trim().min(1),
  role: z.enum(["admin", "read"]),
  token: z.string().trim().min(1),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;

/** The `ApiTokens` secret / `API_TOKENS` variable: a JSON list of tokens, each token unique. */
export const ApiTokensSchema = z.array(ApiTokenSchema).superRefine((tokens, ctx) => {
  const seen = new Set<string>();
  tokens.forEach((t, i) => {
    // Two entries with one token would make the actor (and role) of a request ambiguous.
    if (seen.has(t.token)) ctx.addIssue({ code: "custom", path: [i, "token"], message: "duplicate token" });
    seen.add(t.token);
  });
});

/** Everything the functions read from their environment. */
export interface AppConfig {
  /** PostgreSQL URL of the durable tier; unset locally means the embedded PGlite. */
  readonly databaseUrl?: string;
  /** Upstash REST endpoint of the hot tier (takes precedence over `redisUrl`). */
  readonly upstash?: { readonly url: string; readonly token: string };
  /** Redis over TCP (local Redis, ElastiCache/Valkey inside a VPC). */
  readonly redisUrl?: string;
  /** Bearer tokens of the HTTP API; empty means none configured. */
  readonly apiTokens: ApiToken[];
  /** Warm queue URLs (SQS), for the functions that enqueue. */
  readonly queues: { readonly high?: string; readonly low?: string };
  /** CloudWatch namespace of the EMF metrics. */
  readonly metricsNamespace: string;
  /** True inside AWS Lambda (AWS_LAMBDA_FUNCTION_NAME is set). */
  readonly deployed: boolean;
}

/** Namespace used when METRICS_NAMESPACE is unset; the stacks set the same value. */
export const DEFAULT_METRICS_NAMESPACE = "ScenarioMatrixCache";

/**
 * Raised for a missing, malformed or half-given setting. The message names the variable or linked
 * resource, never its value: URLs and tokens are secrets and these messages end up in logs.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    /** The environment variable or SST link at fault, e.g. `API_TOKENS` or `ApiTokens (SST link)`. */
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where each setting comes from: the SST link (name and property) first, then the environment variable. */
const SOURCES = {
  databaseUrl: { link: "DatabaseUrl", prop: "value", env: "DATABASE_URL" },
  upstashUrl: { link: "UpstashRedisRestUrl", prop: "value", env: "UPSTASH_REDIS_REST_URL" },
  upstashToken: { link: "UpstashRedisRestToken", prop: "value", env: "UPSTASH_REDIS_REST_TOKEN" },
  redisUrl: { link: "RedisUrl", prop: "value", env: "REDIS_URL" },
  apiTokens: { link: "ApiTokens", prop: "value", env: "API_TOKENS" },
  warmHigh: { link: "WarmHigh", prop: "url", env: "WARM_HIGH_QUEUE_URL" },
  warmLow: { link: "WarmLow", prop: "url", env: "WARM_LOW_QUEUE_URL" },
} as const;
type SettingName = keyof typeof SOURCES;

/** A setting's value and the name to blame in errors. */
interface Found {
  readonly value: string;
  readonly setting: string;
}

/**
 * Reads the configuration: SST links win over environment variables (so a deployed function cannot be
 * re-pointed by a stray variable), and every value is validated before anything connects. Links are the
 * process's own (`Resource` reads process.env once); `env` supplies the plain variables.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const get = (name: SettingName): Found | undefined => fromLink(name) ?? fromEnv(name, env);

  const databaseUrl = get("databaseUrl");
  if (databaseUrl) checkUrl(databaseUrl, ["postgres:", "postgresql:"]);

  const upstashUrl = get("upstashUrl");
  const upstashToken = get("upstashToken");
  if (upstashUrl && !upstashToken) throw new ConfigError(SOURCES.upstashToken.env, `must be set with ${upstashUrl.setting}`);
  if (upstashToken && !upstashUrl) throw new ConfigError(SOURCES.upstashUrl.env, `must be set with ${upstashToken.setting}`);
  if (upstashUrl) checkUrl(upstashUrl, ["https:", "http:"]);

  const redisUrl = get("redisUrl");
  if (redisUrl) checkUrl(redisUrl, ["redis:", "rediss:"]);

  const high = get("warmHigh");
  const low = get("warmLow");
  for (const q of [high, low]) if (q) checkUrl(q, ["https:", "http:"]);

  const tokens = get("apiTokens");
  return {
    databaseUrl: databaseUrl?.value,
    upstash: upstashUrl && upstashToken ? { url: upstashUrl.value, token: upstashToken.value } : undefined,
    redisUrl: redisUrl?.value,
    apiTokens: tokens ? parseApiTokens(tokens.value, tokens.setting) : [],
    queues: { high: high?.value, low: low?.value },
    metricsNamespace: nonEmpty(env.METRICS_NAMESPACE) ?? DEFAULT_METRICS_NAMESPACE,
    deployed: nonEmpty(env.AWS_LAMBDA_FUNCTION_NAME) !== undefined,
  };
}

/** Parses and validates the API token list; `setting` names its source in errors. */
export function parseApiTokens(json: string, setting: string = SOURCES.apiTokens.env): ApiToken[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    // The SyntaxError is not kept as the cause: its message quotes the input, i.e. the tokens.
    throw new ConfigError(setting, 'is not valid JSON; expected [{"actor":"alice","role":"admin"|"read","token":"…"}]');
  }
  const parsed = ApiTokensSchema.safeParse(data);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ");
    throw new ConfigError(setting, `is not a valid token list (${where})`, { cause: parsed.error });
  }
  return parsed.data;
}

/**
 * The linked value, or undefined when the resource is not linked or links are not active at all.
 * `name in Resource` never throws (it only loads SST_RESOURCE_* data); `Resource[name]` throws when
 * links are inactive, so it is read only after the `in` check.
 */
function fromLink(name: SettingName): Found | undefined {
  const { link, prop } = SOURCES[name];
  const setting = `${link} (SST link)`;
  let linked: boolean;
  try {
    linked = link in Resource;
  } catch {
    // SST parses SST_RESOURCE_* JSON on first access; its SyntaxError would quote the secret.
    throw new ConfigError(setting, "SST resource data is malformed (SST_RESOURCE_* / SST_RESOURCES_JSON)");
  }
  if (!linked) return undefined;
  const entry: unknown = (Resource as unknown as Record<string, unknown>)[link];
  const value = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)[prop] : undefined;
  if (typeof value !== "string") throw new ConfigError(setting, `has no string property "${prop}"`);
  const v = nonEmpty(value);
  return v === undefined ? undefined : { value: v, setting };
}

function fromEnv(name: SettingName, env: Env): Found | undefined {
  const variable = SOURCES[name].env;
  const value = nonEmpty(env[variable]);
  return value === undefined ? undefined : { value, setting: variable };
}

function checkUrl(found: Found, protocols: readonly string[]): void {
  let url: URL;
  try {
    url = new URL(found.value);
  } catch {
    throw new ConfigError(found.setting, `is not a URL (expected ${protocols.map((p) => `${p}//…`).join(" or ")})`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(found.setting, `has protocol ${url.protocol}; expected ${protocols.join(" or ")}`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
}
