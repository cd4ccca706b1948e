// The database client factory: real PostgreSQL over postgres.js, or embedded PGlite, behind one drizzle type.
// Never a module-level singleton: each Lambda builds one at module scope, each test builds its own.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

/** The drizzle surface adapters use; both drivers satisfy it, so one adapter serves both. */
export type Database = PgDatabase<PgQueryResultHKT, Record<string, never>>;

export interface DbHandle {
  readonly kind: "postgres" | "pglite";
  readonly db: Database;
  /** Applies the committed drizzle/ migrations (idempotent: drizzle records what it applied). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** postgres:// URL; when set the real server is used and `pgliteDir` is ignored. */
  readonly url?: string;
  /** PGlite data: 'memory://' (default) or a folder. */
  readonly pgliteDir?: string;
  /** postgres.js prepared statements; false behind a transaction pooler (RDS Proxy, PgBouncer). */
  readonly prepare?: boolean;
  readonly max?: number;
  /** Where the migrations are; defaults to drizzle/ beside this repository, not the cwd. */
  readonly migrationsFolder?: string;
}

/** Resolved from this file so `migrate()` works whatever directory the process started in. */
export const DEFAULT_MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

/**
 * Builds a drizzle client for PostgreSQL (when `url` is given) or PGlite. Synchronous so a Lambda can
 * build it at module scope; connections open lazily on the first query.
 */
export function createDb(opts: CreateDbOptions = {}): DbHandle {
  const migrationsFolder = opts.migrationsFolder ?? DEFAULT_MIGRATIONS_FOLDER;

  if (opts.url) {
    const client = postgres(opts.url, {
      prepare: opts.prepare ?? true,
      max: opts.max ?? 5,
      onnotice: () => {}, // "relation already exists, skipping" from the migrator is not news
      connect_timeout: 5,
      // a frozen Lambda's idle sockets are dropped by the server anyway; do not hold them for long
      idle_timeout: 20,
    });
    const db = drizzlePostgres({ client });
    return {
      kind: "postgres",
      db,
      migrate: () => migratePostgres(db, { migrationsFolder }),
      close: () => client.end({ timeout: 5 }),
    };
  }

  const dataDir = opts.pgliteDir ?? "memory://";
  // PGlite creates its own folder but not the parents: a fresh clone has no .data/ yet.
  if (!dataDir.includes("://")) mkdirSync(dirname(dataDir), { recursive: true });
  const client = new PGlite(dataDir);
  const db = drizzlePglite({ client });
  return {
    kind: "pglite",
    db,
    migrate: () => migratePglite(db, { migrationsFolder }),
    close: () => client.close(),
  };
}
