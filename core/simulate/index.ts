// Simulate: a fund-level MOIC distribution from a cached scenario matrix.
import { z } from "zod";
import type { DecodedMatrix } from "../codec";
import type { CacheLookup, MatrixCache } from "../cache";
import {
  DEFAULT_NUM_SCENARIOS,
  DEFAULT_TAXONOMY_VERSION,
  Id,
  MAX_SCENARIOS,
  ScenarioConfig,
  ScenarioConfigWithMeta,
  type BucketConfig,
} from "../scenario";
import { ValidationError } from "../shared/errors";

/** The warm API's config shape; numScenarios may be left to `runs`. */
export const SimulateRequest = z.object({
  fundId: Id,
  runs: z.number().int().min(1).max(MAX_SCENARIOS).optional(),
  taxonomyVersion: Id.default(DEFAULT_TAXONOMY_VERSION),
  config: ScenarioConfig.extend({ numScenarios: z.number().int().min(1).max(MAX_SCENARIOS).optional() }).optional(),
});
export type SimulateRequest = z.output<typeof SimulateRequest>;

export const SimulateResponse = z.object({
  fundId: z.string(),
  taxonomyVersion: z.string(),
  runs: z.number().int(),
  percentiles: z.object({ p5: z.number(), p25: z.number(), p50: z.number(), p75: z.number(), p95: z.number() }),
  mean: z.number(),
  probabilityBelow1x: z.number(),
  buckets: z.array(z.object({ name: z.string(), capitalAllocation: z.number(), recyclingMultiple: z.number() })),
  cache: z.object({
    hit: z.boolean(),
    tier: z.enum(["redis", "postgres", "generated"]),
    latencyMs: z.number(),
    matrixKey: z.string(),
    stored: z.boolean(),
  }),
});
export type SimulateResponse = z.output<typeof SimulateResponse>;

/**
 * The config a simulate request addresses: `config` (validated as the warm API validates it) or the
 * defaults with numScenarios = runs. Same fundId + taxonomyVersion + config as a warm → same key.
 */
export function resolveSimulateConfig(req: SimulateRequest): ScenarioConfigWithMeta {
  const fromConfig = req.config?.numScenarios;
  if (req.runs !== undefined && fromConfig !== undefined && fromConfig !== req.runs) {
    throw new ValidationError("runs and config.numScenarios disagree", [
      { path: "runs", message: `is ${req.runs} but config.numScenarios is ${fromConfig}` },
    ]);
  }
  const base = req.config ?? ScenarioConfig.parse({});
  return ScenarioConfigWithMeta.parse({
    ...base,
    numScenarios: fromConfig ?? req.runs ?? DEFAULT_NUM_SCENARIOS,
    fundId: req.fundId,
    taxonomyVersion: req.taxonomyVersion,
  });
}

/** Allocation-weighted fund MOIC per scenario. */
export function fundMoics(matrix: DecodedMatrix, buckets: readonly BucketConfig[]): Float64Array {
  const weights = buckets.map((b) => b.capitalAllocation / 100);
  const out = new Float64Array(matrix.rows);
  const { data, cols } = matrix;
  for (let i = 0; i < matrix.rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += weights[j] * data[i * cols + j];
    out[i] = s;
  }
  return out;
}

/** Linear-interpolation quantile (type 7) of a sorted sample. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 1) return sorted[0];
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function summarise(config: ScenarioConfigWithMeta, lookup: CacheLookup): SimulateResponse {
  const moics = fundMoics(lookup.matrix, config.buckets).sort();
  let sum = 0;
  let below = 0;
  for (const x of moics) {
    sum += x;
    if (x < 1) below++;
  }
  return {
    fundId: config.fundId,
    taxonomyVersion: config.taxonomyVersion,
    runs: moics.length,
    percentiles: {
      p5: quantile(moics, 0.05),
      p25: quantile(moics, 0.25),
      p50: quantile(moics, 0.5),
      p75: quantile(moics, 0.75),
      p95: quantile(moics, 0.95),
    },
    mean: sum / moics.length,
    probabilityBelow1x: below / moics.length,
    buckets: config.buckets.map((b, j) => ({
      name: b.name,
      capitalAllocation: b.capitalAllocation,
      recyclingMultiple: lookup.meta.recyclingMultiples[j] ?? 1,
    })),
    cache: {
      hit: lookup.tier !== "generated",
      tier: lookup.tier,
      latencyMs: lookup.latencyMs,
      matrixKey: lookup.matrixKey,
      stored: lookup.stored,
    },
  };
}

export async function simulate(cache: MatrixCache, req: SimulateRequest): Promise<SimulateResponse> {
  const config = resolveSimulateConfig(req);
  const lookup = await cache.get(config, { purpose: "request" });
  return summarise(config, lookup);
}
