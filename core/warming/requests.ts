// Request and response schemas of the warm API (the original plan's field names, plus additions).
import { z } from "zod";
import { DEFAULT_TAXONOMY_VERSION, Id, ScenarioConfig } from "../scenario";
import { WARM_JOB_STATUSES, WarmPriority } from "./messages";

/** fundIds × configs per request: each pair is one job, and the whole request is answered synchronously. */
export const MAX_WARM_JOBS_PER_REQUEST = 1000;

/** Body of POST /api/cache/warm (the original plan's fields); one job per fundId × config pair. */
export const WarmRequest = z
  .object({
    fundIds: z.array(Id).min(1).max(MAX_WARM_JOBS_PER_REQUEST),
    taxonomyVersion: Id.default(DEFAULT_TAXONOMY_VERSION),
    /** an operator's request is for now unless it says otherwise */
    priority: WarmPriority.default("high"),
    configs: z.array(ScenarioConfig).min(1).max(MAX_WARM_JOBS_PER_REQUEST),
  })
  .superRefine((r, ctx) => {
    const jobs = r.fundIds.length * r.configs.length;
    if (jobs > MAX_WARM_JOBS_PER_REQUEST) {
      ctx.addIssue({
        code: "custom",
        path: ["configs"],
        message: `fundIds × configs = ${r.fundIds.length} × ${r.configs.length} = ${jobs} jobs exceeds ${MAX_WARM_JOBS_PER_REQUEST} per request`,
      });
    }
  });
export type WarmRequest = z.output<typeof WarmRequest>;
export type WarmRequestInput = z.input<typeof WarmRequest>;

/** How the completion estimate was made, so a client can tell a measurement from the fallback. */
export const Estimate = z.object({
  totalDurationMs: z.number(),
  completionTime: z.iso.datetime(),
  /** `measured`: from recent generations; `partly-measured`: speed measured, per-job overhead defaulted; `default`: nothing measured yet */
  basis: z.enum(["measured", "partly-measured", "default"]),
  cellsPerSecond: z.number(),
  perJobOverheadMs: z.number(),
  /** consumers working each lane in parallel */
  parallelism: z.object({ high: z.number().int(), low: z.number().int() }),
  /** live jobs (including these) the estimate covers */
  backlogJobs: z.number().int(),
  generationSamples: z.number().int(),
  jobSamples: z.number().int(),
});
export type Estimate = z.output<typeof Estimate>;

/** One requested pair in the response: its job and the real matrix key. */
export const WarmJobRef = z.object({
  /** null only for scheduled re-warms of already-cached configs, which record no job */
  jobId: z.uuid().nullable(),
  /** the real matrix key of (fundId, taxonomyVersion, config) */
  configHash: z.string(),
  status: z.enum(WARM_JOB_STATUSES),
  fundId: z.string(),
  priority: WarmPriority,
  /** this request created the job and enqueued it (false: cached, an existing live job, or enqueue failed) */
  enqueued: z.boolean(),
  error: z.string().nullable(),
});
export type WarmJobRef = z.output<typeof WarmJobRef>;

/** Response of POST /api/cache/warm: the original plan's `scheduled`, `estimated`, `jobs`, plus a summary. */
export const WarmResponse = z.object({
  /** jobs this request actually enqueued */
  scheduled: z.number().int(),
  estimated: Estimate,
  jobs: z.array(WarmJobRef),
  summary: z.object({
    requested: z.number().int(),
    /** distinct matrix keys among the requested pairs */
    distinct: z.number().int(),
    alreadyCached: z.number().int(),
    alreadyQueued: z.number().int(),
    enqueueFailed: z.number().int(),
    /** candidates left out by a budget (scheduled warming only) */
    overBudget: z.number().int(),
  }),
});
export type WarmResponse = z.output<typeof WarmResponse>;

/** A job as GET /api/cache/warm/jobs[/:jobId] shows it. */
export const WarmJobView = z.object({
  jobId: z.uuid(),
  configHash: z.string(),
  fundId: z.string(),
  taxonomyVersion: z.string(),
  priority: WarmPriority,
  status: z.enum(WARM_JOB_STATUSES),
  attempts: z.number().int(),
  requestedBy: z.string(),
  error: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  completedAt: z.iso.datetime().nullable(),
});
export type WarmJobView = z.output<typeof WarmJobView>;

/** Path parameters: ids are uuids (anything else is a 400, not a 404). */
export const JobIdParams = z.object({ jobId: z.uuid() });
export const ProfileIdParams = z.object({ id: z.uuid() });

/** GET /api/cache/warm/jobs?status=&priority=&limit= (newest first). */
export const JobListQuery = z.object({
  status: z.enum(WARM_JOB_STATUSES).optional(),
  priority: WarmPriority.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const JobListResponse = z.object({ jobs: z.array(WarmJobView), count: z.number().int() });

/** GET /api/cache/warm/dead-letters?limit= (newest first). */
export const DeadLetterQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
export const DeadLetterView = z.object({
  messageId: z.string().optional(),
  jobId: z.string().optional(),
  matrixKey: z.string().optional(),
  priority: WarmPriority.optional(),
  receiveCount: z.number().int(),
  error: z.string(),
  deadLetteredAt: z.iso.datetime(),
});
export const DeadLetterResponse = z.object({
  /** `in-process-queue`: the local queue's list; `failed-jobs`: jobs failed on their last receive (AWS) */
  source: z.enum(["in-process-queue", "failed-jobs"]),
  deadLetters: z.array(DeadLetterView),
  count: z.number().int(),
});

/** A profile's handle: safe in logs and URLs. */
export const ProfileName = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, "must be 1-100 characters of A-Z a-z 0-9 . _ : -");

/** Body of POST /api/cache/warm/profiles. */
export const CreateProfileRequest = z.object({
  name: ProfileName,
  fundId: Id,
  taxonomyVersion: Id.default(DEFAULT_TAXONOMY_VERSION),
  /** the queue pre-warming on start uses; scheduled re-warming always uses low */
  priority: WarmPriority.default("low"),
  config: ScenarioConfig,
});
export type CreateProfileRequest = z.output<typeof CreateProfileRequest>;

/** A profile as the profile routes show it. */
export const ProfileView = z.object({
  id: z.uuid(),
  name: z.string(),
  fundId: z.string(),
  taxonomyVersion: z.string(),
  priority: WarmPriority,
  config: z.unknown(),
  /** the matrix key this profile keeps warm; null if the stored config no longer validates */
  configHash: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});
export type ProfileView = z.output<typeof ProfileView>;
export const ProfileListResponse = z.object({ profiles: z.array(ProfileView), count: z.number().int() });
export const DeleteProfileResponse = z.object({ deleted: z.literal(true), id: z.uuid() });
