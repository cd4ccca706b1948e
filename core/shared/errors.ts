// The request-level error hierarchy. Routes throw these; one onError turns them into HTTP.

export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export class AppError extends Error {
  override readonly name: string = "AppError";
  readonly code: string = "internal_error";
  readonly status: number = 500;
  constructor(
    message: string,
    readonly details?: readonly ErrorDetail[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad input: 400, naming the field(s). Nothing was changed. */
export class ValidationError extends AppError {
  override readonly name = "ValidationError";
  override readonly code: string = "validation_error";
  override readonly status: number = 400;
  /** from zod issues: each path joined with dots ("buckets.0.moicCalibration.p90") */
  static fromIssues(
    where: "body" | "query" | "path" | "message",
    issues: readonly { path: readonly PropertyKey[]; message: string }[],
  ): ValidationError {
    const details = issues.map((i) => ({ path: i.path.map(String).join(".") || where, message: i.message }));
    const first = details[0];
    return new ValidationError(first ? `invalid ${where}: ${first.path}: ${first.message}` : `invalid ${where}`, details);
  }
}

export class MalformedJsonError extends ValidationError {
  override readonly code = "malformed_json";
}

export class PayloadTooLargeError extends AppError {
  override readonly name = "PayloadTooLargeError";
  override readonly code = "payload_too_large";
  override readonly status = 413;
}

export class UnauthorizedError extends AppError {
  override readonly name = "UnauthorizedError";
  override readonly code = "unauthorized";
  override readonly status = 401;
}

export class ForbiddenError extends AppError {
  override readonly name = "ForbiddenError";
  override readonly code = "forbidden";
  override readonly status = 403;
}

export class NotFoundError extends AppError {
  override readonly name = "NotFoundError";
  override readonly code = "not_found";
  override readonly status = 404;
}

export class ConflictError extends AppError {
  override readonly name = "ConflictError";
  override readonly code = "conflict";
  override readonly status = 409;
}

/** A dependency needed to answer is down (e.g. PostgreSQL for an audit write): 503, retryable. */
export class UnavailableError extends AppError {
  override readonly name = "UnavailableError";
  override readonly code = "unavailable";
  override readonly status = 503;
}
