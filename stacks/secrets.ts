// The app's secrets. Values live in SST's encrypted per-stage store (`npx sst secret set <Name> <value>`),
// never in the repository; a deploy fails until every one is set for the stage.

/** Secrets, each linked only to the functions that read it (see stacks/functions.ts). */
export interface Secrets {
  /** PostgreSQL URL of the durable tier (use the pooler's URL: the app connects with `prepare: false`). */
  readonly databaseUrl: sst.Secret;
  /** Upstash Redis REST endpoint and token of the hot tier. */
  readonly upstashRedisRestUrl: sst.Secret;
  readonly upstashRedisRestToken: sst.Secret;
  /** JSON list `[{"actor":"alice","role":"admin"|"read","token":"…"}]`; read by the HTTP functions only. */
  readonly apiTokens: sst.Secret;
}

/** Declares the secrets; the link names are the ones `functions/shared/config.ts` reads. */
export function createSecrets(): Secrets {
  return {
    databaseUrl: new sst.Secret("DatabaseUrl"),
    upstashRedisRestUrl: new sst.Secret("UpstashRedisRestUrl"),
    upstashRedisRestToken: new sst.Secret("UpstashRedisRestToken"),
    apiTokens: new sst.Secret("ApiTokens"),
  };
}
