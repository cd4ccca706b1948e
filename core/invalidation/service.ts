// The invalidation service: durable tier, then hot tier, then the audit record. Each tier reports what it
// actually changed; a tier that fails is reported, never counted as zero, and the audit write never fails
// silently.
import type { AuditEntry, AuditRecord, AuditStore } from "../audit";
import { AuditAction } from "../audit";
import type { DurableStore, HotStore } from "../cache";
import { silentLog, type Log } from "../shared/log";
import type { MetricsSink } from "../stats";
import { AuditWriteFailedError } from "./errors";
import { scopeOf, type InvalidateRequest, type InvalidateResponse, type InvalidationTier, type TierFailure } from "./schema";

/**
 * Budget of each step (durable tier, hot tier, audit write). Three steps of 9 s fit the HTTP API's 29 s
 * Lambda timeout, so a hung dependency still gets an answer (a 503) instead of a gateway timeout.
 */
export const DEFAULT_STEP_TIMEOUT_MS = 9_000;

/** Narrow ports: invalidation needs one method of each store. */
export interface InvalidationDeps {
  readonly hot: Pick<HotStore, "invalidate">;
  readonly durable: Pick<DurableStore, "invalidate">;
  readonly audit: Pick<AuditStore, "append">;
  readonly log?: Log;
  readonly stepTimeoutMs?: number;
  /** InvalidatedEntries, once per tier reached by a real (not dry) run. */
  readonly metrics?: Pick<MetricsSink, "invalidated">;
}

const MAX_MESSAGE = 500;
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, MAX_MESSAGE);

/**
 * Invalidates the request's scope in both tiers for `actor` and records it in the audit trail.
 * Resolves with `errors` non-empty when a tier failed (the caller answers 503: the scope may still be
 * served stale until a retry succeeds); throws AuditWriteFailedError when the record could not be written.
 */
export async function invalidate(deps: InvalidationDeps, req: InvalidateRequest, actor: string): Promise<InvalidateResponse> {
  const log = deps.log ?? silentLog;
  const budget = deps.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const scope = scopeOf(req);
  const errors: TierFailure[] = [];

  // A failed tier does not stop the other: both operations are idempotent and partial progress is never
  // worse than none; the 503 and the audit record tell the operator to retry.
  async function step(tier: InvalidationTier, f: () => Promise<number>): Promise<number | null> {
    try {
      return await withTimeout(tier, f, budget, log);
    } catch (e) {
      log.error(`invalidation: ${tier} tier failed`, { tier, scope: req.scope, error: messageOf(e) });
      errors.push({ tier, message: messageOf(e) });
      return null;
    }
  }

  const t0 = performance.now();
  // 1. Durable first. Soft or hard, rows in scope stop being `processing`, so a generation in flight loses
  //    its lease: its complete() fails and it stores its result in neither tier.
  const postgres = await step("postgres", () => deps.durable.invalidate(scope, { mode: req.mode, dryRun: req.dryRun }));
  const t1 = performance.now();
  // 2. Then hot. The store bumps the scope's epoch before deleting through the per-fund index, so a
  //    back-fill that read the old epoch (say, from a row read just before step 1) is refused afterwards.
  const redis = await step("redis", () => deps.hot.invalidate(scope, { dryRun: req.dryRun }));
  const t2 = performance.now();
  const durationMs = t2 - t0;
  const invalidated = { redis, postgres };

  // Emitted before the audit write: the entries are gone whether or not the record can be written.
  if (deps.metrics && !req.dryRun) {
    const props = { scope: req.scope, mode: req.mode, fundId: req.fundId, matrixKey: req.matrixKey };
    for (const tier of ["postgres", "redis"] as const) {
      const n = invalidated[tier];
      if (n === null) continue;
      try {
        deps.metrics.invalidated(n, { ...props, tier });
      } catch (e) {
        log.warn("invalidation metric failed", { tier, error: messageOf(e) }); // metrics never fail the operation
      }
    }
  }

  const record: AuditRecord = {
    actor,
    action: AuditAction.invalidate,
    scope: req.scope,
    fundId: req.fundId ?? null,
    matrixKey: req.matrixKey ?? null,
    mode: req.mode,
    reason: req.reason ? req.reason : null,
    dryRun: req.dryRun,
    counts: invalidated,
    durationMs,
    errors,
  };
  let entry: AuditEntry;
  try {
    entry = await withTimeout("audit", () => deps.audit.append(record), budget, log);
  } catch (e) {
    // The record goes to the log in full, so the operation is traceable even without its row.
    log.error("invalidation not audited", { ...record, error: messageOf(e) });
    const what = req.dryRun ? "the dry run counted" : "the invalidation was applied";
    const counts = `postgres: ${postgres ?? "failed"}, redis: ${redis ?? "failed"}`;
    throw new AuditWriteFailedError(
      `${what} (${counts}) but its audit record could not be written (${messageOf(e)}); retry the request, which is safe to repeat, so that it is recorded`,
      req.scope,
      req.fundId ?? req.matrixKey,
      invalidated,
      errors,
      { cause: e },
    );
  }

  return {
    scope: req.scope,
    ...(req.fundId === undefined ? {} : { fundId: req.fundId }),
    ...(req.matrixKey === undefined ? {} : { matrixKey: req.matrixKey }),
    mode: req.mode,
    dryRun: req.dryRun,
    invalidated,
    duration: durationMs,
    timings: { postgresMs: t1 - t0, redisMs: t2 - t1 },
    errors,
    auditLog: { id: entry.id, timestamp: entry.timestamp, user: entry.actor, reason: entry.reason },
  };
}

/**
 * Rejects after `ms`. The operation itself cannot be cancelled and may still finish: its late outcome is
 * logged, and the caller reports the step as failed (a retry then finds nothing left, or finishes the job).
 */
async function withTimeout<T>(what: string, f: () => Promise<T>, ms: number, log: Log): Promise<T> {
  const p = Promise.resolve().then(f); // a synchronous throw becomes a rejection too
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.then(
        (v) => log.warn(`invalidation: ${what} finished after its timeout`, { what, result: typeof v === "number" ? v : undefined }),
        (e) => log.warn(`invalidation: ${what} failed after its timeout`, { what, error: messageOf(e) }),
      );
      reject(new Error(`${what} did not answer within ${ms} ms (it may still complete)`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
