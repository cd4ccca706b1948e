// The matrix key: SHA-256 of a canonical encoding of the scope and of exactly the generator's inputs.
import { createHash } from "node:crypto";
import type { ScenarioConfig, ScenarioConfigWithMeta } from "./config";
import { recyclingMultiples } from "./recycling";

/** Bumped whenever the generator's output bytes change for the same inputs; part of every key. */
export const GENERATOR_VERSION = "copula-pareto/1";

/**
 * The values the generator consumes, after canonicalisation. The key hashes exactly these, so two
 * configs share a key iff they feed the generator the same inputs (names, allocations and disabled
 * recycling details do not change the bytes and are not in the key; bucket order and the seed are).
 */
export interface GeneratorInput {
  readonly version: string;
  readonly numScenarios: number;
  /** per bucket, in order: [median, p90, recycling multiple] */
  readonly buckets: readonly (readonly [number, number, number])[];
  /** macro, systematic, idiosyncratic, normalised to sum exactly to 1 as the generator uses them */
  readonly weights: readonly [number, number, number];
  readonly seed: string;
}

export function generatorInput(config: ScenarioConfig): GeneratorInput {
  const multiples = recyclingMultiples(config.buckets, config.recycling);
  const w = config.correlationWeights;
  const sum = w.macro + w.systematic + w.idiosyncratic;
  return {
    version: GENERATOR_VERSION,
    numScenarios: config.numScenarios,
    buckets: config.buckets.map((b, i) => [b.moicCalibration.median, b.moicCalibration.p90, multiples[i]] as const),
    weights: [w.macro / sum, w.systematic / sum, w.idiosyncratic / sum],
    seed: config.seed,
  };
}

// JSON of finite numbers is already canonical in JS (shortest round-trip form); only -0 needs folding.
const num = (x: number): number => (Object.is(x, -0) ? 0 : x);

/** Canonical byte string hashed by matrixKey: a fixed-order JSON array, no object key order involved. */
export function canonicalEncoding(config: ScenarioConfigWithMeta): string {
  const g = generatorInput(config);
  return JSON.stringify([
    "smc-key/1",
    config.fundId,
    config.taxonomyVersion,
    g.version,
    g.numScenarios,
    g.buckets.map((b) => b.map(num)),
    g.weights.map(num),
    g.seed,
  ]);
}

/** 64 hex characters identifying one matrix within one fund and taxonomy version. */
export function matrixKey(config: ScenarioConfigWithMeta): string {
  return createHash("sha256").update(canonicalEncoding(config)).digest("hex");
}
