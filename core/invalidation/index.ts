export {
  InvalidateRequest,
  InvalidateResponse,
  InvalidationMode,
  InvalidationScopeKind,
  InvalidationTier,
  MATRIX_KEY_PATTERN,
  MatrixKey,
  scopeOf,
  TierFailure,
  type InvalidateRequestInput,
} from "./schema";
export { DEFAULT_STEP_TIMEOUT_MS, invalidate, type InvalidationDeps } from "./service";
export { AuditWriteFailedError } from "./errors";
