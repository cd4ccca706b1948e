// The warming service: turns warm requests, profiles and the schedule into deduplicated jobs on a queue.
// Order per request: cached check → job rows (the partial unique index dedupes live keys) → enqueue →
// mark refused messages failed. Rows exist before their messages, so a consumer always finds its job.
import type { AuditRecord, AuditStore } from "../audit";
import type { MatrixCache } from "../cache";
import { matrixKey, ScenarioConfigWithMeta } from "../scenario";
import { ConflictError, NotFoundError } from "../shared/errors";
import { silentLog, systemClock, type Clock, type Log } from "../shared/log";
import { mapConcurrent } from "./concurrency";
import { estimateCompletion, type EstimateSettings } from "./estimate";
import { WarmJobStatus, type WarmMessage, type WarmPriority } from "./messages";
import type { NewWarmJob, WarmJob, WarmJobStore, WarmProfile, WarmProfileStore, WarmQueue, WarmSignals } from "./ports";
import type { CreateProfileRequest, ProfileView, WarmJobRef, WarmJobView, WarmRequest, WarmResponse } from "./requests";

/** Hooks for metrics (functions/ binds them to EMF). */
export interface WarmServiceObserver {
  onEnqueued?(e: { priority: WarmPriority; enqueued: number; failed: number }): void;
}

/** Ports and settings of the warming service; every store is narrow and passed in. */
export interface WarmServiceDeps {
  readonly cache: Pick<MatrixCache, "isCached">;
  readonly jobs: WarmJobStore;
  readonly profiles: WarmProfileStore;
  readonly signals: WarmSignals;
  readonly queue: WarmQueue;
  readonly estimate: EstimateSettings;
  /** every admin action (and each scheduled run) appends a record; a failed append fails the request */
  readonly audit?: Pick<AuditStore, "append">;
  readonly observer?: WarmServiceObserver;
  readonly log?: Log;
  readonly clock?: Clock;
  /** recent durable rows / warm jobs the speed is measured over (default 200) */
  readonly throughputSampleSize?: number;
  /** cached-checks in flight at once (default 8) */
  readonly lookupConcurrency?: number;
}

/** How `warmConfigs` treats one batch of configs. */
export interface WarmOptions {
  readonly priority: WarmPriority;
  readonly actor: string;
  /** record already-cached configs as complete jobs (HTTP: yes, so every answer is pollable; schedule: no) */
  readonly recordCached: boolean;
  /** at most this many new jobs; the rest are counted in `summary.overBudget` */
  readonly budget?: number;
}

/** What a scheduled run found and did. */
export interface ScheduledWarmResult {
  readonly profiles: number;
  readonly popular: number;
  /** stored configs that no longer validate (skipped) */
  readonly invalid: number;
  readonly response: WarmResponse;
}

/** The service's public surface (routes and handlers take `Pick`s of it). */
export type WarmService = ReturnType<typeof createWarmService>;

/** The warming service over its ports; one per process, built by the functions' wiring. */
export function createWarmService(deps: WarmServiceDeps) {
  const log = deps.log ?? silentLog;
  const clock = deps.clock ?? systemClock;
  const sampleSize = deps.throughputSampleSize ?? 200;
  const lookupConcurrency = deps.lookupConcurrency ?? 8;

  /** Appends to the audit trail; tiers are not involved in warming, so both counts are null (unknown ≠ 0). */
  async function audit(r: Pick<AuditRecord, "actor" | "action" | "scope" | "fundId" | "matrixKey" | "mode" | "reason" | "durationMs"> & { errors?: AuditRecord["errors"] }) {
    await deps.audit?.append({ dryRun: false, counts: { redis: null, postgres: null }, errors: [], ...r });
  }

  const message = (job: WarmJob, config: ScenarioConfigWithMeta): WarmMessage => ({
    v: 1,
    jobId: job.id,
    matrixKey: job.matrixKey,
    priority: job.priority,
    config,
    requestedBy: job.requestedBy,
    enqueuedAt: new Date(clock()).toISOString(),
  });

  /** Sends and marks what the queue refused as failed (not live), so a later request can retry the key. */
  async function enqueue(pairs: readonly { job: WarmJob; config: ScenarioConfigWithMeta }[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    if (pairs.length === 0) return refused;
    const { failed } = await deps.queue.send(pairs.map((p) => message(p.job, p.config)));
    const byError = new Map<string, string[]>();
    for (const f of failed) {
      refused.set(f.jobId, f.error);
      byError.set(f.error, [...(byError.get(f.error) ?? []), f.jobId]);
    }
    for (const [error, ids] of byError) await deps.jobs.fail(ids, `enqueue failed: ${error}`);
    if (failed.length > 0) log.error("warm jobs could not be enqueued", { failed: failed.length, sample: failed.slice(0, 3) });
    for (const priority of new Set(pairs.map((p) => p.job.priority))) {
      const ofLane = pairs.filter((p) => p.job.priority === priority);
      const failedHere = ofLane.filter((p) => refused.has(p.job.id)).length;
      deps.observer?.onEnqueued?.({ priority, enqueued: ofLane.length - failedHere, failed: failedHere });
    }
    return refused;
  }

  /** Warms already-expanded configs; the single path behind the API, the schedule and pre-warming. */
  async function warmConfigs(configs: readonly ScenarioConfigWithMeta[], opts: WarmOptions): Promise<WarmResponse> {
    const keyed = configs.map((config) => ({ config, key: matrixKey(config) }));
    // Pairs that share a key (the same config twice, or configs differing only in names) share one job.
    const firstByKey = new Map<string, (typeof keyed)[number]>();
    for (const k of keyed) if (!firstByKey.has(k.key)) firstByKey.set(k.key, k);
    const items = [...firstByKey.values()];

    // The durable tier is the authority on "cached"; undefined (it could not answer) means "try to warm".
    const cachedFlags = await mapConcurrent(items, lookupConcurrency, (i) => deps.cache.isCached(i.key));
    const isCached = new Map(items.map((i, n) => [i.key, cachedFlags[n] === true] as const));
    const cached = items.filter((i) => isCached.get(i.key));
    const uncached = items.filter((i) => !isCached.get(i.key));

    const toNew = (i: (typeof items)[number]): NewWarmJob => ({
      matrixKey: i.key,
      fundId: i.config.fundId,
      taxonomyVersion: i.config.taxonomyVersion,
      priority: opts.priority,
      config: i.config,
      requestedBy: opts.actor,
    });

    const recorded = new Map<string, WarmJob>();
    if (opts.recordCached && cached.length > 0) {
      const rows = await deps.jobs.recordComplete(cached.map(toNew));
      for (const r of rows) recorded.set(r.matrixKey, r);
    }

    // Live jobs: created by this call (to enqueue) or found (another request's live job for the key).
    const live = new Map<string, { job: WarmJob; created: boolean }>();
    const toSend: { job: WarmJob; config: ScenarioConfigWithMeta }[] = [];
    let cursor = 0;
    let overBudget = 0;
    while (cursor < uncached.length) {
      // Under a budget, found jobs cost nothing, so keep taking candidates until the budget is spent.
      const room = opts.budget === undefined ? uncached.length : opts.budget - toSend.length;
      if (room <= 0) {
        overBudget = uncached.length - cursor;
        break;
      }
      const chunk = uncached.slice(cursor, cursor + room);
      cursor += chunk.length;
      const results = await deps.jobs.createLive(chunk.map(toNew));
      results.forEach((r, n) => {
        live.set(chunk[n].key, r);
        if (r.created) toSend.push({ job: r.job, config: chunk[n].config });
      });
    }
    const refused = await enqueue(toSend);

    const jobs: WarmJobRef[] = [];
    for (const { config, key } of keyed) {
      if (isCached.get(key)) {
        const row = recorded.get(key);
        jobs.push({ jobId: row?.id ?? null, configHash: key, status: "complete", fundId: config.fundId, priority: row?.priority ?? opts.priority, enqueued: false, error: null });
        continue;
      }
      const l = live.get(key);
      if (!l) continue; // over budget
      const error = refused.get(l.job.id);
      jobs.push({
        jobId: l.job.id,
        configHash: key,
        status: error !== undefined ? WarmJobStatus.failed : l.job.status,
        fundId: config.fundId,
        priority: l.job.priority,
        enqueued: l.created && error === undefined,
        error: error !== undefined ? `enqueue failed: ${error}` : l.job.error,
      });
    }

    const liveLanes = [...live.values()].filter((l) => !refused.has(l.job.id) && l.job.status !== WarmJobStatus.complete && l.job.status !== WarmJobStatus.failed).map((l) => l.job.priority);
    const [throughput, backlog] = await Promise.all([deps.signals.throughput(sampleSize), deps.signals.backlog()]);
    const estimated = estimateCompletion({ lanes: liveLanes, backlog, throughput, settings: deps.estimate, now: clock() });
    const scheduled = toSend.length - refused.size;
    return {
      scheduled,
      estimated,
      jobs,
      summary: {
        requested: configs.length,
        distinct: items.length,
        alreadyCached: cached.length,
        alreadyQueued: [...live.values()].filter((l) => !l.created).length,
        enqueueFailed: refused.size,
        overBudget,
      },
    };
  }

  /** POST /api/cache/warm: one job per (fundId, config) pair. */
  async function request(body: WarmRequest, actor: string): Promise<WarmResponse> {
    const started = performance.now();
    const configs: ScenarioConfigWithMeta[] = [];
    // configs are already validated ScenarioConfig outputs and ids are validated: no second parse needed
    for (const fundId of body.fundIds) for (const c of body.configs) configs.push({ ...c, fundId, taxonomyVersion: body.taxonomyVersion });
    const response = await warmConfigs(configs, { priority: body.priority, actor, recordCached: true });
    const enqueueErrors = [...new Set(response.jobs.filter((j) => j.status === "failed" && j.error).map((j) => j.error as string))];
    await audit({
      actor,
      action: "warm",
      scope: body.fundIds.length === 1 ? "fund" : "funds",
      fundId: body.fundIds.length === 1 ? body.fundIds[0] : null,
      matrixKey: response.jobs.length === 1 ? response.jobs[0].configHash : null,
      mode: body.priority,
      reason: summaryLine(response) + `; funds ${body.fundIds.join(",")}`.slice(0, 500),
      durationMs: performance.now() - started,
      errors: enqueueErrors.slice(0, 10).map((message) => ({ tier: "queue", message })),
    });
    return response;
  }

  async function job(id: string): Promise<WarmJobView> {
    const row = await deps.jobs.get(id);
    if (!row) throw new NotFoundError(`no warm job ${id}`, [{ path: "jobId", message: "not found" }]);
    return jobView(row);
  }

  async function jobs(query: Parameters<WarmJobStore["list"]>[0]): Promise<WarmJobView[]> {
    return (await deps.jobs.list(query)).map(jobView);
  }

  async function listProfiles(): Promise<ProfileView[]> {
    return (await deps.profiles.list()).map(profileView);
  }

  async function createProfile(req: CreateProfileRequest, actor: string): Promise<ProfileView> {
    const started = performance.now();
    const created = await deps.profiles.create({
      name: req.name,
      fundId: req.fundId,
      taxonomyVersion: req.taxonomyVersion,
      priority: req.priority,
      config: req.config,
      createdBy: actor,
    });
    if (!created) throw new ConflictError(`a warm profile named "${req.name}" already exists`, [{ path: "name", message: "already exists" }]);
    const view = profileView(created);
    await audit({ actor, action: "warm-profile-create", scope: "profile", fundId: req.fundId, matrixKey: view.configHash, mode: req.priority, reason: `profile ${req.name} (${created.id})`, durationMs: performance.now() - started });
    return view;
  }

  async function deleteProfile(id: string, actor: string): Promise<void> {
    const started = performance.now();
    if (!(await deps.profiles.delete(id))) throw new NotFoundError(`no warm profile ${id}`, [{ path: "id", message: "not found" }]);
    await audit({ actor, action: "warm-profile-delete", scope: "profile", fundId: null, matrixKey: null, mode: null, reason: `profile ${id}`, durationMs: performance.now() - started });
  }

  /** Profiles as configs; a stored config that no longer validates is skipped and counted. */
  async function profileConfigs(): Promise<{ configs: { profile: WarmProfile; config: ScenarioConfigWithMeta }[]; invalid: number }> {
    const out: { profile: WarmProfile; config: ScenarioConfigWithMeta }[] = [];
    let invalid = 0;
    for (const profile of await deps.profiles.list()) {
      const config = profileConfig(profile);
      if (config) out.push({ profile, config });
      else {
        invalid++;
        log.warn("warm profile config no longer validates; skipped", { profileId: profile.id, name: profile.name });
      }
    }
    return { configs: out, invalid };
  }

  /** Pre-warming on start: every profile at its own priority. */
  async function prewarmProfiles(actor = "prewarm-on-start"): Promise<{ scheduled: number; alreadyCached: number; invalid: number }> {
    const { configs, invalid } = await profileConfigs();
    let scheduled = 0;
    let alreadyCached = 0;
    for (const priority of ["high", "low"] as const) {
      const ofLane = configs.filter((c) => c.profile.priority === priority).map((c) => c.config);
      if (ofLane.length === 0) continue;
      const r = await warmConfigs(ofLane, { priority, actor, recordCached: false });
      scheduled += r.scheduled;
      alreadyCached += r.summary.alreadyCached;
    }
    return { scheduled, alreadyCached, invalid };
  }

  /**
   * Scheduled re-warming at low priority, up to `budget` new jobs: (a) every profile, then (b) durable rows
   * that were served within `lookbackMs` and have since been invalidated, most recently served first.
   * See recentlyRequestedUncached in adapters/jobs-drizzle.ts for exactly what "requested" can mean here.
   */
  async function scheduled(opts: { budget: number; lookbackMs: number; actor?: string }): Promise<ScheduledWarmResult> {
    const { configs: fromProfiles, invalid: badProfiles } = await profileConfigs();
    const recent = await deps.signals.recentlyRequestedUncached({ since: new Date(clock() - opts.lookbackMs), limit: opts.budget });
    let invalid = badProfiles;
    const fromRecent: ScenarioConfigWithMeta[] = [];
    for (const r of recent) {
      const parsed = ScenarioConfigWithMeta.safeParse(r.config);
      if (parsed.success) fromRecent.push(parsed.data);
      else invalid++;
    }
    const started = performance.now();
    const actor = opts.actor ?? "scheduled-warm";
    const response = await warmConfigs([...fromProfiles.map((p) => p.config), ...fromRecent], { priority: "low", actor, recordCached: false, budget: opts.budget });
    await audit({
      actor,
      action: "warm",
      scope: "scheduled",
      fundId: null,
      matrixKey: null,
      mode: "low",
      reason: `${summaryLine(response)}; ${fromProfiles.length} profile(s), ${fromRecent.length} recently requested, ${invalid} invalid, budget ${opts.budget}`,
      durationMs: performance.now() - started,
    });
    return { profiles: fromProfiles.length, popular: fromRecent.length, invalid, response };
  }

  /**
   * Re-enqueues live jobs (oldest first). The in-process queue is not durable: after a restart its jobs are
   * still live in the database and would block their keys, so the local server hands them back to the queue.
   */
  async function recover(limit = 10_000): Promise<{ resent: number; failed: number }> {
    const pairs: { job: WarmJob; config: ScenarioConfigWithMeta }[] = [];
    const bad: string[] = [];
    for (const job of await deps.jobs.listLive(limit)) {
      const parsed = ScenarioConfigWithMeta.safeParse(job.config);
      if (parsed.success) pairs.push({ job, config: parsed.data });
      else bad.push(job.id);
    }
    if (bad.length > 0) await deps.jobs.fail(bad, "stored config no longer validates");
    const refused = await enqueue(pairs);
    return { resent: pairs.length - refused.size, failed: refused.size + bad.length };
  }

  return { request, warmConfigs, job, jobs, listProfiles, createProfile, deleteProfile, prewarmProfiles, scheduled, recover };
}

function summaryLine(r: WarmResponse): string {
  const s = r.summary;
  return `${s.requested} requested, ${s.distinct} distinct, ${r.scheduled} scheduled, ${s.alreadyCached} cached, ${s.alreadyQueued} already queued, ${s.enqueueFailed} enqueue failures, ${s.overBudget} over budget`;
}

/** A profile's stored config with its fund and taxonomy, or undefined if it no longer validates. */
export function profileConfig(p: WarmProfile): ScenarioConfigWithMeta | undefined {
  const r = ScenarioConfigWithMeta.safeParse({ ...(p.config as object), fundId: p.fundId, taxonomyVersion: p.taxonomyVersion });
  return r.success ? r.data : undefined;
}

/** A job as the API shows it (`configHash` is the matrix key). */
export function jobView(j: WarmJob): WarmJobView {
  return {
    jobId: j.id,
    configHash: j.matrixKey,
    fundId: j.fundId,
    taxonomyVersion: j.taxonomyVersion,
    priority: j.priority,
    status: j.status,
    attempts: j.attempts,
    requestedBy: j.requestedBy,
    error: j.error,
    createdAt: j.createdAt.toISOString(),
    updatedAt: j.updatedAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    completedAt: j.completedAt?.toISOString() ?? null,
  };
}

/** A profile as the API shows it, with the key it keeps warm. */
export function profileView(p: WarmProfile): ProfileView {
  const config = profileConfig(p);
  return {
    id: p.id,
    name: p.name,
    fundId: p.fundId,
    taxonomyVersion: p.taxonomyVersion,
    priority: p.priority,
    config: p.config,
    configHash: config ? matrixKey(config) : null,
    createdBy: p.createdBy,
    createdAt: p.createdAt.toISOString(),
  };
}
