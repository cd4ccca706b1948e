// Child process for the cross-process statistics test: WRITERS concurrent writers each record EVENTS
// lookups through one recorder into the shared Redis, starting at the same wall-clock instant as the
// other process; prints one JSON line when every update has been applied.
import { createRedisHotStore } from "../../adapters/hot-redis";
import { createStatsRecorder } from "../../core/stats";
import { indexesOf, syntheticEvent } from "./stats-events";

const { REDIS_URL, HOT_PREFIX, PROCESS_INDEX, WRITERS, EVENTS, AT, START_AT } = process.env;
const spec = { processIndex: Number(PROCESS_INDEX), writers: Number(WRITERS), events: Number(EVENTS), at: Number(AT) };
const hot = createRedisHotStore({ url: REDIS_URL!, prefix: HOT_PREFIX!, commandTimeoutMs: 10_000 });
// generous timeouts: this test is about losing nothing under contention, not about latency
const recorder = createStatsRecorder({ hot, clock: () => spec.at, timeoutMs: 10_000 });
await hot.ping();
await new Promise((r) => setTimeout(r, Math.max(0, Number(START_AT) - Date.now())));
await Promise.all(
  Array.from({ length: spec.writers }, async (_, w) => {
    for (const g of indexesOf(spec, w)) await recorder.onLookup(syntheticEvent(g, spec.at));
  }),
);
console.log(JSON.stringify({ recorded: spec.writers * spec.events, pending: recorder.pending() }));
await hot.close();
