// `npm run migrate`: applies the committed drizzle/ migrations to DATABASE_URL, or to the embedded PGlite
// folder the local server uses (PGLITE_DIR, default .data/pglite), and says what it did.
import { sql } from "drizzle-orm";
import { createDb, type Database } from "../../adapters/db";

/** Count of migrations drizzle has recorded; 0 before the first run (its bookkeeping table is absent). */
async function appliedCount(db: Database): Promise<number> {
  const [probe] = await db
    .select({ exists: sql<boolean>`to_regclass('drizzle.__drizzle_migrations') IS NOT NULL` })
    .from(sql`(SELECT 1) AS probe`);
  if (!probe.exists) return 0;
  const [row] = await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(sql`drizzle.__drizzle_migrations`);
  return row.n;
}

/** The URL without its password, for printing. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const pgliteDir = process.env.PGLITE_DIR ?? ".data/pglite";
  const handle = createDb(url ? { url, max: 1 } : { pgliteDir });
  const target = url ? `PostgreSQL ${redact(url)}` : `PGlite ${pgliteDir}`;
  try {
    const before = await appliedCount(handle.db);
    const started = performance.now();
    await handle.migrate();
    const after = await appliedCount(handle.db);
    const ms = Math.round(performance.now() - started);
    console.log(
      after === before
        ? `migrate: ${target} is up to date (${after} migration(s) applied)`
        : `migrate: applied ${after - before} migration(s) to ${target} in ${ms} ms (${after} in total)`,
    );
  } finally {
    await handle.close();
  }
}

main().catch((err: unknown) => {
  console.error("migrate: failed:", err);
  process.exitCode = 1;
});
