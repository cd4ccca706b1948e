// Warm routes: POST /api/cache/warm (admin), jobs and dead letters (read), profiles (read; admin to change).
import type { DeadLetterSource, WarmService } from "../../../core/warming";
import {
  CreateProfileRequest,
  DeadLetterQuery,
  DeadLetterResponse,
  DeleteProfileResponse,
  JobIdParams,
  JobListQuery,
  JobListResponse,
  ProfileIdParams,
  ProfileListResponse,
  ProfileView,
  WarmJobView,
  WarmRequest,
  WarmResponse,
} from "../../../core/warming";
import { readJson, readParams, readQuery, requireRole, type App, type AuthSettings } from "../kernel";
import type { RouteDoc } from "../openapi";

/** The service (narrowed) and where dead letters are read from. */
export interface WarmRouteDeps {
  readonly auth: AuthSettings;
  readonly warm: Pick<WarmService, "request" | "job" | "jobs" | "listProfiles" | "createProfile" | "deleteProfile">;
  readonly deadLetters: DeadLetterSource;
}

/** Mounts the warm route group on `app` (the warm Lambda's app, or the local server's). */
export function warmRoutes(app: App, deps: WarmRouteDeps): App {
  const read = requireRole(deps.auth, "read");
  const admin = requireRole(deps.auth, "admin");

  // 202: the jobs are accepted; poll GET /api/cache/warm/jobs/:jobId for each
  app.post("/api/cache/warm", admin, async (c) => {
    const body = await readJson(c, WarmRequest);
    return c.json(await deps.warm.request(body, c.get("actor")), 202);
  });

  app.get("/api/cache/warm/jobs", read, async (c) => {
    const q = readQuery(c, JobListQuery);
    const jobs = await deps.warm.jobs(q);
    return c.json({ jobs, count: jobs.length });
  });

  app.get("/api/cache/warm/jobs/:jobId", read, async (c) => {
    const { jobId } = readParams(c, JobIdParams);
    return c.json(await deps.warm.job(jobId));
  });

  app.get("/api/cache/warm/dead-letters", read, async (c) => {
    const { limit } = readQuery(c, DeadLetterQuery);
    const deadLetters = await deps.deadLetters.list(limit);
    return c.json({ source: deps.deadLetters.kind, deadLetters, count: deadLetters.length });
  });

  app.get("/api/cache/warm/profiles", read, async (c) => {
    const profiles = await deps.warm.listProfiles();
    return c.json({ profiles, count: profiles.length });
  });

  app.post("/api/cache/warm/profiles", admin, async (c) => {
    const body = await readJson(c, CreateProfileRequest);
    return c.json(await deps.warm.createProfile(body, c.get("actor")), 201);
  });

  app.delete("/api/cache/warm/profiles/:id", admin, async (c) => {
    const { id } = readParams(c, ProfileIdParams);
    await deps.warm.deleteProfile(id, c.get("actor"));
    return c.json({ deleted: true as const, id });
  });

  return app;
}

/** OpenAPI entries of the group, from the same schemas. */
export const warmDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/api/cache/warm",
    role: "admin",
    summary:
      "Warm fundIds × configs (at most 1,000 pairs): cached keys are reported complete, keys with a live job return that job, the rest are enqueued (202). Audited.",
    body: WarmRequest,
    response: WarmResponse,
  },
  { method: "get", path: "/api/cache/warm/jobs", role: "read", summary: "Warm jobs, newest first, by status and priority", query: JobListQuery, response: JobListResponse },
  { method: "get", path: "/api/cache/warm/jobs/:jobId", role: "read", summary: "One warm job (404 if unknown)", params: JobIdParams, response: WarmJobView },
  {
    method: "get",
    path: "/api/cache/warm/dead-letters",
    role: "read",
    summary: "Warm messages that exhausted their receives (the in-process queue's list locally; jobs failed on their last receive on AWS)",
    query: DeadLetterQuery,
    response: DeadLetterResponse,
  },
  { method: "get", path: "/api/cache/warm/profiles", role: "read", summary: "Warm profiles the schedule keeps warm", response: ProfileListResponse },
  { method: "post", path: "/api/cache/warm/profiles", role: "admin", summary: "Register a warm profile (409 if the name is taken). Audited.", body: CreateProfileRequest, response: ProfileView },
  { method: "delete", path: "/api/cache/warm/profiles/:id", role: "admin", summary: "Delete a warm profile (404 if unknown). Audited.", params: ProfileIdParams, response: DeleteProfileResponse },
];
