// Errors of the cache module. Expected outcomes (miss, stale epoch, fault fallbacks) are values;
// these are the faults a caller has to see.

export class CacheError extends Error {
  override readonly name: string = "CacheError";
  constructor(
    message: string,
    readonly matrixKey: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The generator threw; the row is marked failed and the next call retries. */
export class GenerationFailedError extends CacheError {
  override readonly name = "GenerationFailedError";
}

/** Another process holds the generation lease and did not finish within the wait budget. */
export class LeaseWaitTimeoutError extends CacheError {
  override readonly name = "LeaseWaitTimeoutError";
}
