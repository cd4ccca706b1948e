// The warm message: what the warm API and the scheduler put on a queue and what the generator parses.
// One zod schema for producer and consumer (STYLE rule 4), so the two can never drift apart.
import { z } from "zod";
import { ScenarioConfigWithMeta } from "../scenario";
import { ValidationError } from "../shared/errors";

/** SQS has no priorities: each priority is its own queue (and its own consumer concurrency). */
export const WarmPriority = z.enum(["high", "low"]);
export type WarmPriority = z.infer<typeof WarmPriority>;
/** Both priorities, high first (the order lanes are drained in). */
export const WARM_PRIORITIES = WarmPriority.options;

/** Lifecycle of a warm job; `pending` and `processing` are "live" (at most one live job per matrix key). */
export const WarmJobStatus = {
  pending: "pending",
  processing: "processing",
  complete: "complete",
  failed: "failed",
} as const;
export type WarmJobStatus = (typeof WarmJobStatus)[keyof typeof WarmJobStatus];
/** Every status, as the zod enums and the table's enum want them. */
export const WARM_JOB_STATUSES = Object.values(WarmJobStatus) as [WarmJobStatus, ...WarmJobStatus[]];
/** Statuses the partial unique index `warm_jobs_live_matrix_key_uq` covers. */
export const LIVE_JOB_STATUSES: readonly WarmJobStatus[] = [WarmJobStatus.pending, WarmJobStatus.processing];

/** A matrix key (SHA-256 hex), as `matrixKey()` produces it. */
export const MatrixKeyHex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters");

/** Version 1 of the message body; a new shape gets a new literal so old consumers reject it loudly. */
export const WarmMessage = z.object({
  v: z.literal(1),
  jobId: z.uuid(),
  /** informational: the consumer recomputes the key from `config` (the config is the truth) */
  matrixKey: MatrixKeyHex,
  priority: WarmPriority,
  config: ScenarioConfigWithMeta,
  requestedBy: z.string().min(1).max(200),
  enqueuedAt: z.iso.datetime(),
});
export type WarmMessage = z.output<typeof WarmMessage>;

/** The queue body of a message (JSON; the consumer parses it back with `decodeWarmMessage`). */
export function encodeWarmMessage(m: WarmMessage): string {
  return JSON.stringify(m);
}

/** Parses a queue body; a body that is not JSON or not a WarmMessage is a ValidationError (a poison message). */
export function decodeWarmMessage(body: string): WarmMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new ValidationError("message body is not valid JSON", [{ path: "message", message: "invalid JSON" }]);
  }
  const r = WarmMessage.safeParse(raw);
  if (!r.success) throw ValidationError.fromIssues("message", r.error.issues);
  return r.data;
}

/**
 * The job id of a body that failed validation, when one can still be read: lets the consumer mark that
 * job failed on the last receive instead of leaving it live (blocking its key) forever.
 */
export function salvageJobId(body: string): string | undefined {
  try {
    const raw: unknown = JSON.parse(body);
    const id = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).jobId : undefined;
    return z.uuid().safeParse(id).success ? (id as string) : undefined;
  } catch {
    return undefined;
  }
}
