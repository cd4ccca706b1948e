// Errors of the warming module. Expected outcomes (cached, deduplicated, enqueue refused) are values;
// these are the faults a consumer reports so that SQS redelivers the record.

/** Base of the module's faults; carries the ids involved for logs. */
export class WarmError extends Error {
  override readonly name: string = "WarmError";
  constructor(
    message: string,
    readonly ids: { readonly jobId?: string; readonly matrixKey?: string; readonly messageId?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A queue body that is not a valid WarmMessage: it fails alone and reaches the DLQ after maxReceiveCount. */
export class PoisonMessageError extends WarmError {
  override readonly name = "PoisonMessageError";
}

/**
 * Generation ran but its result was not stored (PostgreSQL down, or the key was invalidated mid-run):
 * the warm did not achieve anything durable, so the record is retried.
 */
export class WarmNotStoredError extends WarmError {
  override readonly name = "WarmNotStoredError";
}
