// Where the real PostgreSQL and Redis are, whether they answer, and per-file isolation on them.
// Outside CI a missing service skips its suites (global-setup says which); under CI=true it fails loudly.
import net from "node:net";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import postgres from "postgres";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export interface ServiceTarget {
  readonly name: "PostgreSQL" | "Redis";
  readonly url: string;
  readonly available: boolean;
  readonly reason?: string;
}

export const isCI = process.env.CI === "true" || process.env.CI === "1";

function probe(url: string, defaultPort: number): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (reason?: string) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(1500, () => done("connect timeout"));
    socket.once("connect", () => done());
    socket.once("error", (e) => done(e.message));
  });
}

export async function postgresTarget(): Promise<ServiceTarget> {
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const reason = await probe(url, 5432);
  return { name: "PostgreSQL", url, available: reason === undefined, reason };
}

export async function redisTarget(): Promise<ServiceTarget> {
  const url = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const reason = await probe(url, 6379);
  return { name: "Redis", url, available: reason === undefined, reason };
}

/** Under CI a service that cannot be reached is a failure, never a skip. */
export function assertReachableUnderCI(t: ServiceTarget): void {
  if (!t.available && isCI) {
    throw new Error(`${t.name} is unreachable at ${t.url} (${t.reason}) and CI=true: storage suites must run`);
  }
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

/** A per-test-file key prefix so suites sharing one Redis never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `t:${label}:${uniqueSuffix()}:`;
}

/** A fresh, empty database on the real server for one test file; drop() removes it. */
export async function freshPostgresDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `smc_t_${uniqueSuffix()}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * Test and benchmark cleanup only (the stores themselves never scan the keyspace): removes every key
 * under `prefix` through an existing client.
 */
export async function unlinkKeysUnder(client: Pick<Redis, "scan" | "unlink">, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== "0");
}

/** Removes every key under `prefixes`, with a client of its own. */
export async function unlinkRedisPrefixes(redisUrl: string, prefixes: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return;
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  for (const p of prefixes) await unlinkKeysUnder(admin, p);
  await admin.quit();
}
