// Parses counter hashes (as written by the recorder) into one structure and adds hashes of several hours
// together; every reader (stats, history, Prometheus) goes through here.
import type { Purpose, Tier } from "../cache";
import type { Histogram } from "./histogram";
import { FAULT_TIERS, PURPOSES, SERVED_TIERS, TIMED_TIERS, type FaultTier, type TimedTier } from "./keys";

export interface PurposeCounts {
  requests: number;
  hits: number;
  misses: number;
  servedBy: Record<Tier, number>;
  bytes: number;
  savedUs: number;
  generationUs: number;
}

export interface Aggregate {
  purposes: Record<Purpose, PurposeCounts>;
  tierTimeUs: Record<TimedTier, number>;
  servedLatencyUs: Record<Tier, number>;
  tierHistograms: Record<TimedTier, Histogram>;
  servedHistograms: Record<Tier, Histogram>;
  faults: Record<FaultTier, number>;
  /** `<tier>:<operation>` → count */
  faultsByOperation: Record<string, number>;
}

const zeroTiers = (): Record<Tier, number> => ({ redis: 0, postgres: 0, generated: 0 });
const purpose = (): PurposeCounts => ({ requests: 0, hits: 0, misses: 0, servedBy: zeroTiers(), bytes: 0, savedUs: 0, generationUs: 0 });

export function emptyAggregate(): Aggregate {
  return {
    purposes: { request: purpose(), warm: purpose() },
    tierTimeUs: { redis: 0, postgres: 0, generation: 0 },
    servedLatencyUs: zeroTiers(),
    tierHistograms: { redis: new Map(), postgres: new Map(), generation: new Map() },
    servedHistograms: { redis: new Map(), postgres: new Map(), generated: new Map() },
    faults: { redis: 0, postgres: 0 },
    faultsByOperation: {},
  };
}

const isPurpose = (s: string | undefined): s is Purpose => (PURPOSES as readonly string[]).includes(s ?? "");
const isServed = (s: string | undefined): s is Tier => (SERVED_TIERS as readonly string[]).includes(s ?? "");
const isTimed = (s: string | undefined): s is TimedTier => (TIMED_TIERS as readonly string[]).includes(s ?? "");
const isFaultTier = (s: string | undefined): s is FaultTier => (FAULT_TIERS as readonly string[]).includes(s ?? "");

const bump = (h: Histogram, bucket: string | undefined, n: number) => {
  const i = Number(bucket);
  if (Number.isInteger(i)) h.set(i, (h.get(i) ?? 0) + n);
};

/** Adds one counter hash into `agg`. Unknown fields are ignored, so older readers survive newer writers. */
export function addHash(agg: Aggregate, hash: Readonly<Record<string, number>>): Aggregate {
  for (const [field, n] of Object.entries(hash)) {
    if (!Number.isFinite(n) || n === 0) continue;
    const [kind, a, b] = field.split(":");
    switch (kind) {
      case "req":
        if (isPurpose(a)) agg.purposes[a].requests += n;
        break;
      case "hit":
        if (isPurpose(a)) agg.purposes[a].hits += n;
        break;
      case "miss":
        if (isPurpose(a)) agg.purposes[a].misses += n;
        break;
      case "tier":
        if (isPurpose(a) && isServed(b)) agg.purposes[a].servedBy[b] += n;
        break;
      case "bytes":
        if (isPurpose(a)) agg.purposes[a].bytes += n;
        break;
      case "saved_us":
        if (isPurpose(a)) agg.purposes[a].savedUs += n;
        break;
      case "gen_us":
        if (isPurpose(a)) agg.purposes[a].generationUs += n;
        break;
      case "time_us":
        if (isTimed(a)) agg.tierTimeUs[a] += n;
        break;
      case "lat_us":
        if (isServed(a)) agg.servedLatencyUs[a] += n;
        break;
      case "fault":
        if (!isFaultTier(a)) break;
        if (b === undefined) agg.faults[a] += n;
        else agg.faultsByOperation[`${a}:${b}`] = (agg.faultsByOperation[`${a}:${b}`] ?? 0) + n;
        break;
      case "t":
        if (isTimed(a)) bump(agg.tierHistograms[a], b, n);
        break;
      case "s":
        if (isServed(a)) bump(agg.servedHistograms[a], b, n);
        break;
    }
  }
  return agg;
}

export function aggregate(hashes: readonly Readonly<Record<string, number>>[]): Aggregate {
  const agg = emptyAggregate();
  for (const h of hashes) addHash(agg, h);
  return agg;
}
