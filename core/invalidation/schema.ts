// Request and response of POST /api/cache/invalidate: the single source of their types.
import { z } from "zod";
import type { InvalidationScope } from "../cache";
import { Id } from "../scenario";

/** A matrix key is a SHA-256 in lowercase hex (core/scenario/key.ts). */
export const MATRIX_KEY_PATTERN = /^[0-9a-f]{64}$/;
/** A matrix key as requests carry it; the message names the expected form. */
export const MatrixKey = z.string().regex(MATRIX_KEY_PATTERN, "must be a matrix key: 64 lowercase hex characters");

/** What an invalidation reaches: everything, one fund, or one matrix. */
export const InvalidationScopeKind = z.enum(["all", "fund", "matrix"]);
export type InvalidationScopeKind = z.infer<typeof InvalidationScopeKind>;

/** soft: durable rows marked `invalidated` (kept for audit); hard: rows deleted. The hot tier always deletes. */
export const InvalidationMode = z.enum(["soft", "hard"]);
export type InvalidationMode = z.infer<typeof InvalidationMode>;

/**
 * Strict, and a target field is refused with a scope that does not use it: `{ scope: "all", fundId }` or a
 * misspelt `dryrun` must be a 400, never an invalidation wider or more real than the operator meant.
 */
export const InvalidateRequest = z
  .strictObject(
    {
      scope: InvalidationScopeKind,
      fundId: Id.optional(),
      matrixKey: MatrixKey.optional(),
      // free text bound for a PostgreSQL text column, which cannot hold NUL: refused here, before anything changes
      reason: z
        .string()
        .trim()
        .max(1000)
        .regex(/^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/, "must not contain control characters (tab and newline are allowed)")
        .optional(),
      mode: InvalidationMode.default("soft"),
      dryRun: z.boolean().default(false),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys"
          ? `unknown field ${iss.keys.map((k) => `"${k}"`).join(", ")}; the fields are scope, fundId, matrixKey, reason, mode, dryRun`
          : undefined,
    },
  )
  .superRefine((r, ctx) => {
    const needs = { fundId: "fund", matrixKey: "matrix" } as const;
    for (const field of ["fundId", "matrixKey"] as const) {
      const scope = needs[field];
      if (r.scope === scope && r[field] === undefined) {
        ctx.addIssue({ code: "custom", path: [field], message: `is required when scope is '${scope}'` });
      }
      if (r.scope !== scope && r[field] !== undefined) {
        ctx.addIssue({ code: "custom", path: [field], message: `is only allowed when scope is '${scope}'` });
      }
    }
  });
export type InvalidateRequest = z.output<typeof InvalidateRequest>;
export type InvalidateRequestInput = z.input<typeof InvalidateRequest>;

/** The ports' scope for a validated request (the cross-field rules guarantee the target is there). */
export function scopeOf(req: InvalidateRequest): InvalidationScope {
  switch (req.scope) {
    case "all":
      return { kind: "all" };
    case "fund":
      return { kind: "fund", fundId: req.fundId! };
    case "matrix":
      return { kind: "matrix", matrixKey: req.matrixKey! };
  }
}

/** The tiers an invalidation reports on, by the plan's names (`invalidated.redis`, `invalidated.postgres`). */
export const InvalidationTier = z.enum(["redis", "postgres"]);
export type InvalidationTier = z.infer<typeof InvalidationTier>;

/** A tier that could not be invalidated, and the error it gave. */
export const TierFailure = z.object({ tier: InvalidationTier, message: z.string() });
export type TierFailure = z.infer<typeof TierFailure>;

/**
 * The original plan's `{ invalidated: { redis, postgres }, duration, auditLog: { timestamp, user, reason } }`
 * plus the audit id, the request's scope, mode and dry-run flag, per-tier timings and the tier failures.
 * A count is what that tier reports as actually removed or marked (would be, on a dry run); null when the
 * tier failed, because an unknown count is not zero.
 */
export const InvalidateResponse = z.object({
  scope: InvalidationScopeKind,
  fundId: z.string().optional(),
  matrixKey: z.string().optional(),
  mode: InvalidationMode,
  dryRun: z.boolean(),
  invalidated: z.object({ redis: z.number().int().nullable(), postgres: z.number().int().nullable() }),
  /** milliseconds, both tiers (the audit write excluded) */
  duration: z.number(),
  timings: z.object({ postgresMs: z.number(), redisMs: z.number() }),
  /** empty when both tiers succeeded; otherwise the request answers 503 and should be retried */
  errors: z.array(TierFailure),
  auditLog: z.object({ id: z.string(), timestamp: z.string(), user: z.string(), reason: z.string().nullable() }),
});
export type InvalidateResponse = z.output<typeof InvalidateResponse>;
