// Recycling: proceeds returned early are reinvested in the same bucket, so each committed dollar is
// deployed more than once. The multiple scales the bucket's MOIC per committed dollar.
import { MAX_RECYCLING_CYCLES, type BucketConfig, type RecyclingConfig } from "./config";

/** Raised for a config that bypassed the schema's bounds (a bug or an unvalidated stored row). */
export class RecyclingBoundsError extends RangeError {
  override readonly name = "RecyclingBoundsError";
  constructor(readonly cycles: number) {
    super(`recycling cycles ${cycles} exceed the bound ${MAX_RECYCLING_CYCLES}`);
  }
}

/**
 * Re-deployment cycles k = max(0, floor(fundLifetime / avgHoldingPeriod) − 1): the only input-dependent
 * loop count in key computation. The schema bounds it by MAX_RECYCLING_CYCLES; anything beyond is refused
 * here too, so no unvalidated value can make the key computation spin.
 */
export function recyclingCycles(recycling: RecyclingConfig): number {
  if (!recycling.enabled) return 0;
  const cycles = Math.max(0, Math.floor(recycling.fundLifetime / recycling.avgHoldingPeriod) - 1);
  if (!(cycles <= MAX_RECYCLING_CYCLES)) throw new RecyclingBoundsError(cycles);
  return cycles;
}

/**
 * Recycling multiple of one bucket (documented formula):
 *   cycles k = max(0, floor(fundLifetime / avgHoldingPeriod) - 1)   (re-deployments that can still exit)
 *   per-cycle ratio q = reinvestmentRate × min(1, median MOIC)      (only returned cost basis is recycled,
 *                                                                     the usual LPA limit)
 *   multiple m = 1 + q + q² + … + q^k                                (capital deployed per committed dollar)
 * Disabled recycling, a zero rate or a holding period longer than half the lifetime give exactly 1.
 */
export function recyclingMultiple(bucket: BucketConfig, recycling: RecyclingConfig): number {
  if (!recycling.enabled) return 1;
  const cycles = recyclingCycles(recycling);
  const q = recycling.reinvestmentRate * Math.min(1, bucket.moicCalibration.median);
  let multiple = 1;
  let term = 1;
  for (let i = 0; i < cycles; i++) {
    term *= q;
    multiple += term;
  }
  return multiple;
}

export function recyclingMultiples(buckets: readonly BucketConfig[], recycling: RecyclingConfig): number[] {
  return buckets.map((b) => recyclingMultiple(b, recycling));
}
