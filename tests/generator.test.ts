import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeMatrix } from "../core/codec";
import { generateScenarioMatrix, lnUpperTail, paretoLogParams, recyclingMultiple, ScenarioConfig } from "../core/scenario";
import { column, normalQuantile, pearson, quantileSorted } from "./helpers/stats";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const calibrationCases = [
  { name: "default buckets", buckets: [] },
  {
    name: "wide tails and a degenerate bucket",
    buckets: [
      { name: "tail", capitalAllocation: 30, moicCalibration: { median: 0.8, p90: 3.9 } },
      { name: "flat", capitalAllocation: 30, moicCalibration: { median: 2, p90: 2 } },
      { name: "growth", capitalAllocation: 40, moicCalibration: { median: 3, p90: 14.5 } },
    ],
  },
];

describe("generator calibration (100,000 scenarios)", () => {
  for (const c of calibrationCases) {
    it(`hits every bucket's median and p90 within 2%: ${c.name}`, () => {
      const cfg = ScenarioConfig.parse({ numScenarios: 100_000, buckets: c.buckets, seed: `calib-${c.name}` });
      const m = generateScenarioMatrix(cfg);
      cfg.buckets.forEach((b, j) => {
        const sorted = column(m.cells, m.cols, j).sort();
        const median = quantileSorted(sorted, 0.5);
        const p90 = quantileSorted(sorted, 0.9);
        expect(Math.abs(median / b.moicCalibration.median - 1)).toBeLessThan(0.02);
        expect(Math.abs(p90 / b.moicCalibration.p90 - 1)).toBeLessThan(0.02);
      });
    });
  }

  for (const macro of [0, 0.3, 0.8]) {
    it(`correlates two buckets' normal scores at the macro weight (${macro}) within 0.02`, () => {
      const cfg = ScenarioConfig.parse({
        numScenarios: 100_000,
        correlationWeights: { macro, systematic: (1 - macro) / 2, idiosyncratic: (1 - macro) / 2 },
        seed: `corr-${macro}`,
      });
      const m = generateScenarioMatrix(cfg);
      // Invert each Pareto marginal back to its normal score: z = Φ⁻¹(1 − (x_m/x)^α).
      const scores = [0, 1].map((j) => {
        const b = cfg.buckets[j].moicCalibration;
        const { a, b: slope } = paretoLogParams(b.median, b.p90);
        return column(m.cells, m.cols, j).map((x) => {
          const lnTail = (Math.log(x) - a) / slope; // ln Φ(−z)
          return -normalQuantile(Math.exp(lnTail));
        });
      });
      expect(Math.abs(pearson(scores[0], scores[1]) - macro)).toBeLessThan(0.02);
    });
  }
});

describe("generator determinism", () => {
  const cfg = ScenarioConfig.parse({ numScenarios: 5000, seed: "determinism" });

  it("gives byte-identical output for the same config across runs", () => {
    expect(sha(generateScenarioMatrix(cfg).bytes)).toBe(sha(generateScenarioMatrix(cfg).bytes));
  });

  it("gives byte-identical output in another process", () => {
    const script = `
      import { createHash } from "node:crypto";
      import { generateScenarioMatrix, ScenarioConfig } from "./core/scenario/index.ts";
      const m = generateScenarioMatrix(ScenarioConfig.parse(${JSON.stringify({ numScenarios: 5000, seed: "determinism" })}));
      process.stdout.write(createHash("sha256").update(m.bytes).digest("hex"));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd() });
    expect(out.toString()).toBe(sha(generateScenarioMatrix(cfg).bytes));
  });

  it("matches the golden bytes of the default config (any machine, any Node with V8's fdlibm)", () => {
    // If this changes, the generator's output changed: bump GENERATOR_VERSION.
    const m = generateScenarioMatrix(ScenarioConfig.parse({ numScenarios: 1000 }));
    expect(sha(m.bytes)).toBe(GOLDEN_DEFAULT_1000);
  });

  it("gives different bytes for a different seed", () => {
    const other = ScenarioConfig.parse({ numScenarios: 5000, seed: "determinism-2" });
    expect(sha(generateScenarioMatrix(other).bytes)).not.toBe(sha(generateScenarioMatrix(cfg).bytes));
  });

  it("emits valid codec bytes whose cells are the returned view", () => {
    const m = generateScenarioMatrix(cfg);
    const d = decodeMatrix(m.bytes);
    expect([d.rows, d.cols]).toEqual([5000, 3]);
    expect(Array.from(d.data.slice(0, 10))).toEqual(Array.from(m.cells.slice(0, 10)));
    expect(d.data.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
  });
});

describe("recycling", () => {
  const recycling = { enabled: true as const, mode: "same-bucket" as const, reinvestmentRate: 0.5, avgHoldingPeriod: 3, fundLifetime: 10 };

  it("computes the documented geometric multiple", () => {
    const seed = { name: "s", capitalAllocation: 100, moicCalibration: { median: 2, p90: 4 } };
    const low = { name: "l", capitalAllocation: 100, moicCalibration: { median: 0.5, p90: 1 } };
    // k = floor(10/3) − 1 = 2 cycles; q = 0.5 × min(1, median)
    expect(recyclingMultiple(seed, recycling)).toBeCloseTo(1 + 0.5 + 0.25, 12);
    expect(recyclingMultiple(low, recycling)).toBeCloseTo(1 + 0.25 + 0.0625, 12);
    expect(recyclingMultiple(seed, { enabled: false })).toBe(1);
    expect(recyclingMultiple(seed, { ...recycling, avgHoldingPeriod: 6 })).toBe(1);
  });

  it("scales each bucket's cells by its multiple and returns the multiples as metadata", () => {
    const base = ScenarioConfig.parse({ numScenarios: 2000, seed: "r" });
    const rec = ScenarioConfig.parse({ numScenarios: 2000, seed: "r", recycling });
    const a = generateScenarioMatrix(base);
    const b = generateScenarioMatrix(rec);
    expect(b.recyclingMultiples).toEqual(rec.buckets.map((x) => recyclingMultiple(x, recycling)));
    for (let i = 0; i < 300; i++) {
      const mult = b.recyclingMultiples[i % 3];
      expect(b.cells[i] / a.cells[i]).toBeCloseTo(mult, 5);
    }
  });
});

describe("ln Φ(−z)", () => {
  it("matches known tail probabilities", () => {
    expect(Math.exp(lnUpperTail(0))).toBeCloseTo(0.5, 7);
    expect(Math.exp(lnUpperTail(1.6448536269514722))).toBeCloseTo(0.05, 7);
    expect(lnUpperTail(10) / Math.log(7.619853024160527e-24)).toBeCloseTo(1, 6);
    expect(Math.exp(lnUpperTail(-3))).toBeCloseTo(0.9986501019683699, 7);
  });
});

const GOLDEN_DEFAULT_1000 = "16c9e4d97333a927a3e02151d4f58adaa5f7d2b7a07bcbf4334ef381fe69e095";
