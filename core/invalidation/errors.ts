// Errors of the invalidation module. A tier failure is a value in the response (with a 503); the one
// fault thrown is the audit write failing after the tiers were already changed.
import { AppError } from "../shared/errors";
import type { InvalidationScopeKind, TierFailure } from "./schema";

/**
 * The invalidation ran (its effects stand) but no audit record could be written. A 503 so the operator
 * retries: invalidating again is harmless and records the operation. Never swallowed: an admin change
 * without its audit record must be visible to whoever made it.
 */
export class AuditWriteFailedError extends AppError {
  override readonly name = "AuditWriteFailedError";
  override readonly code = "audit_write_failed";
  override readonly status = 503;
  constructor(
    message: string,
    readonly scope: InvalidationScopeKind,
    readonly target: string | undefined,
    readonly counts: { readonly redis: number | null; readonly postgres: number | null },
    readonly tierFailures: readonly TierFailure[],
    options?: { cause?: unknown },
  ) {
    super(message, [{ path: "audit", message: "the audit record was not written" }], options);
  }
}
