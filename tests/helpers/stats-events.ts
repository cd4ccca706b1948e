// Deterministic lookup events for the statistics suites: every writer in every process derives its
// events from (process, writer, i), so a test can compute the exact totals the store must end up with.
import type { LookupEvent, Tier } from "../../core/cache";

export interface SyntheticSpec {
  readonly processIndex: number;
  readonly writers: number;
  readonly events: number;
  readonly at: number;
}

/** Global index → event. Latencies are distinct (7919 is invertible mod the prime 20011), so the slow log's top 10 is unambiguous. */
export function syntheticEvent(g: number, at: number): LookupEvent {
  const latencyMs = 0.5 + ((g * 7919) % 20011) / 10;
  const r = g % 10;
  const tier: Tier = r < 7 ? "redis" : r < 9 ? "postgres" : "generated";
  const timings =
    tier === "redis"
      ? { redisMs: latencyMs * 0.9 }
      : tier === "postgres"
        ? { redisMs: 0.25, postgresMs: latencyMs - 0.5 }
        : { redisMs: 0.25, postgresMs: 1.5, generationMs: latencyMs - 2 };
  return {
    matrixKey: `k${g}`,
    fundId: `fund-${g % 3}`,
    purpose: "request",
    outcome: tier === "generated" ? "miss" : "hit",
    tier,
    latencyMs,
    timings,
    sizeBytes: 1000 + (g % 7),
    generationMsSaved: tier === "generated" ? 0 : 12.5,
    numScenarios: 100,
    numBuckets: 3,
    at,
  };
}

/** Global indexes of one process's writers: writer w of process p gets a contiguous block. */
export function indexesOf(spec: SyntheticSpec, writer: number): number[] {
  const base = (spec.processIndex * spec.writers + writer) * spec.events;
  return Array.from({ length: spec.events }, (_, i) => base + i);
}
