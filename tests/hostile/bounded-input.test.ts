// Issue "Nothing a client sends can hang…", point 1: every numeric input is bounded by the domain, so no
// loop in key computation or generation depends on an unbounded value. The HTTP cases send the exact
// bodies that hung the process; each test has its own bounded timeout, so a regression fails, not hangs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateScenarioMatrix,
  LIMITS,
  matrixKey,
  MAX_RECYCLING_CYCLES,
  MAX_BUCKETS,
  recyclingCycles,
  recyclingMultiple,
  RecyclingBoundsError,
  ScenarioConfigWithMeta,
} from "../../core/scenario";
import { runTsxChild } from "../helpers/run-child";

const HANG_BODY = {
  fundId: "hang",
  runs: 100,
  config: { recycling: { enabled: true, reinvestmentRate: 0.5, avgHoldingPeriod: 5e-324, fundLifetime: 10 } },
};
const SLOW_RECYCLING = { enabled: true, reinvestmentRate: 0.5, avgHoldingPeriod: 1e-8, fundLifetime: 50 };

describe("domain bounds on recycling", () => {
  it("refuses holding periods and lifetimes outside 0.25..50 years, naming the field", () => {
    for (const [field, value] of [
      ["avgHoldingPeriod", 5e-324],
      ["avgHoldingPeriod", 1e-8],
      ["avgHoldingPeriod", 0.2],
      ["fundLifetime", 0.1],
      ["fundLifetime", 51],
    ] as const) {
      const r = ScenarioConfigWithMeta.safeParse({
        fundId: "f",
        recycling: { enabled: true, reinvestmentRate: 0.5, avgHoldingPeriod: 5, fundLifetime: 10, [field]: value },
      });
      expect(r.success, `${field}=${value}`).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join("."))).toEqual([`recycling.${field}`]);
    }
  });

  it("refuses medians and p90s below 0.001x", () => {
    const r = ScenarioConfigWithMeta.safeParse({
      fundId: "f",
      buckets: [{ name: "a", capitalAllocation: 100, moicCalibration: { median: 1e-300, p90: 1e-300 } }],
    });
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(["buckets.0.moicCalibration.median", "buckets.0.moicCalibration.p90"]);
  });

  it("refuses, rather than loops over, a recycling config that bypassed the schema", () => {
    const bucket = { name: "a", capitalAllocation: 100, moicCalibration: { median: 1, p90: 2 } };
    expect(() => recyclingMultiple(bucket, { ...SLOW_RECYCLING, mode: "same-bucket" })).toThrow(RecyclingBoundsError);
    expect(() => recyclingMultiple(bucket, { ...HANG_BODY.config.recycling, enabled: true, mode: "same-bucket" })).toThrow(RecyclingBoundsError);
  });

  it("bounds key computation and generation over the whole accepted range (counted, not timed)", () => {
    const years = fc.double({ min: LIMITS.minYears, max: LIMITS.maxYears, noNaN: true });
    const moic = fc.double({ min: LIMITS.minMoic, max: LIMITS.maxMedian, noNaN: true });
    const arb = fc.record({
      numScenarios: fc.integer({ min: 1, max: 100_000 }),
      nBuckets: fc.integer({ min: 1, max: MAX_BUCKETS }),
      median: moic,
      spread: fc.double({ min: 1, max: 4.999, noNaN: true }),
      rate: fc.double({ min: 0, max: 1, noNaN: true }),
      hold: years,
      life: years,
      seed: fc.oneof(fc.string({ minLength: 1, maxLength: 256 }), fc.integer()),
    });
    fc.assert(
      fc.property(arb, (r) => {
        const parsed = ScenarioConfigWithMeta.safeParse({
          fundId: "bounded",
          numScenarios: r.numScenarios,
          buckets: Array.from({ length: r.nBuckets }, (_, i) => ({
            name: `b${i}`,
            capitalAllocation: 100 / r.nBuckets,
            moicCalibration: { median: r.median, p90: Math.min(LIMITS.maxP90, r.median * r.spread) },
          })),
          recycling: { enabled: true, reinvestmentRate: r.rate, avgHoldingPeriod: r.hold, fundLifetime: r.life },
          seed: r.seed,
        });
        if (!parsed.success) return; // allocation rounding can miss 100 ± 0.01 for some counts; bounds are what matter here
        const config = parsed.data;
        // The only input-dependent loop of key computation is the recycling loop: at most MAX_RECYCLING_CYCLES.
        expect(recyclingCycles(config.recycling)).toBeLessThanOrEqual(MAX_RECYCLING_CYCLES);
        expect(matrixKey(config)).toMatch(/^[0-9a-f]{64}$/);
        // Generation's loops are rows × cols (plus fixed-size tables per column): bounded by the schema.
        expect(config.numScenarios * config.buckets.length).toBeLessThanOrEqual(100_000 * MAX_BUCKETS);
        const small = generateScenarioMatrix({ ...config, numScenarios: 2 });
        expect(small.cells.length).toBe(2 * config.buckets.length);
        expect(small.cells.every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 200, seed: 13 },
    );
    expect(MAX_RECYCLING_CYCLES).toBe(199);
  });
});

describe("the requests that hung the process", () => {
  // A separate process bounded by SIGKILL: on the code before the fix these requests never answer.
  it("simulate (5e-324 and 1e-8 holding periods) and warm answer 400 naming the field", { timeout: 120_000 }, async () => {
    const requests = [
      { method: "POST", path: "/api/monte-carlo/simulate", body: HANG_BODY },
      { method: "POST", path: "/api/monte-carlo/simulate", body: { fundId: "slow", runs: 100, config: { recycling: SLOW_RECYCLING } } },
      {
        method: "POST",
        path: "/api/cache/warm",
        body: { fundIds: ["hang"], taxonomyVersion: "v1", priority: "high", configs: [{ numScenarios: 100, recycling: HANG_BODY.config.recycling }] },
      },
      { method: "GET", path: "/api/cache/warm/jobs" },
    ];
    const run = await runTsxChild("tests/helpers/request-child.ts", { REQUESTS: JSON.stringify(requests) }, 90_000);
    expect(run.timedOut, `the child hung (killed after 90 s): ${run.stderr}`).toBe(false);
    const results = JSON.parse(run.stdout.trim().split("\n").pop()!) as { status: number; body: { error?: { details: { path: string }[] }; jobs?: unknown[] } }[];
    expect(results.map((r) => r.status)).toEqual([400, 400, 400, 200]);
    expect(results[0].body.error!.details.map((d) => d.path)).toContain("config.recycling.avgHoldingPeriod");
    expect(results[1].body.error!.details.map((d) => d.path)).toContain("config.recycling.avgHoldingPeriod");
    expect(results[2].body.error!.details.map((d) => d.path).join(" ")).toContain("avgHoldingPeriod");
    expect(results[3].body.jobs).toEqual([]); // the refused warm scheduled nothing
  });
});
