// Scheduled work on EventBridge Scheduler (SST's CronV2): low-priority re-warming and durable-tier upkeep.
import { type FunctionContext, HANDLERS, functionArgs, linksFor } from "./functions";

export interface Schedules {
  readonly scheduledWarm: sst.aws.CronV2;
  readonly maintenance: sst.aws.CronV2;
}

/** Declares both schedules and their functions. */
export function createSchedules(ctx: FunctionContext): Schedules {
  const { settings } = ctx;
  const links = linksFor(ctx);
  // No scheduler retries: each run re-derives its work from the database, so the next run is the retry and
  // a slow run is never doubled up by a retry overlapping it.
  const scheduledWarm = new sst.aws.CronV2("ScheduledWarm", {
    schedule: settings.schedules.scheduledWarm,
    retries: 0,
    function: functionArgs(ctx, {
      handler: HANDLERS.scheduledWarm,
      description: "Re-warms profiles and popular configs at low priority",
      link: links.scheduledWarm,
      timeoutSeconds: settings.schedules.scheduledWarmTimeoutSeconds,
      memoryMb: 512,
    }),
  });
  const maintenance = new sst.aws.CronV2("Maintenance", {
    schedule: settings.schedules.maintenance,
    retries: 0,
    function: functionArgs(ctx, {
      handler: HANDLERS.maintenance,
      description: "Evicts the durable tier to budget and cleans up stale rows",
      link: links.storage,
      timeoutSeconds: settings.schedules.maintenanceTimeoutSeconds,
      memoryMb: 512,
    }),
  });
  return { scheduledWarm, maintenance };
}
