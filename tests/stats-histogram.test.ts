// The log-bucket latency histograms: percentiles from bucket counts match the exact percentiles of the same
// samples within the documented bound (√1.1 − 1 ≈ 4.88%), for any sample set.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bucketEstimateMs,
  bucketIndex,
  bucketLowerMs,
  bucketUpperMs,
  mergeHistogram,
  percentileMs,
  RELATIVE_ERROR_BOUND,
  type Histogram,
} from "../core/stats";

const histogramOf = (samples: readonly number[]): Histogram => {
  const h: Histogram = new Map();
  for (const s of samples) h.set(bucketIndex(s), (h.get(bucketIndex(s)) ?? 0) + 1);
  return h;
};

/** Nearest rank on the sorted samples, with the rank in integer arithmetic. */
const exactPercentile = (samples: readonly number[], percent: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((percent * sorted.length) / 100)) - 1];
};

const latency = fc.double({ min: 0.001, max: 3_600_000, noNaN: true, noDefaultInfinity: true });

describe("latency histogram", () => {
  it("documents a relative error bound below 5%", () => {
    expect(RELATIVE_ERROR_BOUND).toBeCloseTo(0.0488, 4);
    expect(RELATIVE_ERROR_BOUND).toBeLessThan(0.05);
  });

  it("puts every latency in the bucket whose bounds contain it", () => {
    fc.assert(
      fc.property(latency, (ms) => {
        const i = bucketIndex(ms);
        // one ulp of slack: log() of an exact bucket edge may land on either side
        expect(ms).toBeGreaterThanOrEqual(bucketLowerMs(i) * (1 - 1e-12));
        expect(ms).toBeLessThan(bucketUpperMs(i) * (1 + 1e-12));
        expect(Math.abs(bucketEstimateMs(i) - ms) / ms).toBeLessThanOrEqual(RELATIVE_ERROR_BOUND + 1e-9);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives p50, p95 and p99 within the bound of the exact nearest-rank percentiles of the same samples", () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 400 }), (samples) => {
        const h = histogramOf(samples);
        for (const p of [50, 95, 99]) {
          const exact = exactPercentile(samples, p);
          const estimate = percentileMs(h, p)!;
          expect(Math.abs(estimate - exact) / exact).toBeLessThanOrEqual(RELATIVE_ERROR_BOUND + 1e-9);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("stays within the bound on a realistic mix of hot hits, durable hits and generations", () => {
    // deterministic log-normal-ish mixture: 80% ~1 ms, 15% ~15 ms, 5% ~2 s
    let x = 7;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const samples = Array.from({ length: 20_000 }, () => {
      const u = rnd();
      const base = u < 0.8 ? 1 : u < 0.95 ? 15 : 2000;
      return base * Math.exp((rnd() - 0.5) * 1.5);
    });
    const h = histogramOf(samples);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const exact = exactPercentile(samples, p);
      expect(Math.abs(percentileMs(h, p)! - exact) / exact).toBeLessThanOrEqual(RELATIVE_ERROR_BOUND);
    }
  });

  it("merges histograms of disjoint periods into the histogram of their union", () => {
    fc.assert(
      fc.property(fc.array(latency, { maxLength: 100 }), fc.array(latency, { maxLength: 100 }), (a, b) => {
        const merged = mergeHistogram(histogramOf(a), histogramOf(b));
        expect([...merged].sort()).toEqual([...histogramOf([...a, ...b])].sort());
      }),
    );
  });

  it("reports no percentile for an empty histogram rather than zero", () => {
    expect(percentileMs(new Map(), 50)).toBeNull();
  });

  it("clamps latencies outside 1 µs … 1 h into the end buckets instead of failing", () => {
    expect(bucketIndex(0)).toBe(bucketIndex(0.001));
    expect(bucketIndex(-5)).toBe(bucketIndex(0.001));
    expect(bucketIndex(Number.POSITIVE_INFINITY)).toBe(bucketIndex(3_600_000));
    expect(bucketIndex(1e12)).toBe(bucketIndex(3_600_000));
  });
});
