import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateScenarioMatrix, matrixKey, ScenarioConfigWithMeta, type ScenarioConfigWithMetaInput } from "../core/scenario";
import { config, configInput } from "./helpers/factories";

const bytesHash = (c: ScenarioConfigWithMeta) =>
  createHash("sha256").update(generateScenarioMatrix(c).bytes).digest("hex");

// Random configs small enough to generate quickly.
const calibration = fc
  .record({ median: fc.double({ min: 0.2, max: 5, noNaN: true }), ratio: fc.double({ min: 1, max: 4.9, noNaN: true }) })
  .map(({ median, ratio }) => ({ median, p90: median * ratio }));
const configArb = fc
  .record({
    numScenarios: fc.integer({ min: 1, max: 40 }),
    calibrations: fc.array(calibration, { minLength: 1, maxLength: 5 }),
    macro: fc.integer({ min: 0, max: 10 }),
    systematic: fc.integer({ min: 0, max: 10 }),
    seed: fc.string({ minLength: 1, maxLength: 12 }),
    recycling: fc.option(
      fc.record({
        reinvestmentRate: fc.double({ min: 0, max: 1, noNaN: true }),
        avgHoldingPeriod: fc.double({ min: 1, max: 8, noNaN: true }),
        fundLifetime: fc.double({ min: 5, max: 15, noNaN: true }),
      }),
    ),
  })
  .filter((r) => r.macro + r.systematic <= 10)
  .map((r): ScenarioConfigWithMetaInput => ({
    fundId: "fund-k",
    taxonomyVersion: "v1",
    numScenarios: r.numScenarios,
    buckets: r.calibrations.map((c, i) => ({
      name: `b${i}`,
      capitalAllocation: 100 / r.calibrations.length,
      moicCalibration: c,
    })),
    correlationWeights: { macro: r.macro / 10, systematic: r.systematic / 10, idiosyncratic: (10 - r.macro - r.systematic) / 10 },
    recycling: r.recycling ? { enabled: true, mode: "same-bucket", ...r.recycling } : { enabled: false },
    seed: r.seed,
  }));

/** Changes that must not change the bytes (and so must not change the key). */
const sameBytesVariant = fc.constantFrom(
  "rename-buckets",
  "shift-allocations",
  "reorder-object-keys",
  "disabled-recycling-details",
  "seed-as-number-string",
);
/** Changes that change the bytes (and so must change the key). */
const differentVariant = fc.constantFrom("numScenarios", "swap-buckets", "median", "p90", "weights", "seed", "enable-recycling");

function applySame(input: ScenarioConfigWithMetaInput, v: string): ScenarioConfigWithMetaInput {
  const c = structuredClone(input);
  const buckets = c.buckets!;
  switch (v) {
    case "rename-buckets":
      buckets.forEach((b, i) => (b.name = `renamed-${i}`));
      return c;
    case "shift-allocations":
      if (buckets.length > 1) {
        buckets[0].capitalAllocation += 0.5;
        buckets[1].capitalAllocation -= 0.5;
      }
      return c;
    case "reorder-object-keys":
      return JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(c).reverse())));
    case "disabled-recycling-details":
      if (c.recycling?.enabled === false) c.recycling = { enabled: false, mode: "same-bucket" };
      return c;
    default:
      return c;
  }
}

function applyDifferent(input: ScenarioConfigWithMetaInput, v: string): ScenarioConfigWithMetaInput {
  const c = structuredClone(input);
  const buckets = c.buckets!;
  switch (v) {
    case "numScenarios":
      c.numScenarios = c.numScenarios! + 1;
      return c;
    case "swap-buckets":
      buckets.push(buckets.length === 1 ? { ...buckets[0], name: "x", capitalAllocation: 0, moicCalibration: { median: 9, p90: 10 } } : buckets.shift()!);
      return c;
    case "median":
      buckets[0].moicCalibration = { median: buckets[0].moicCalibration.median * 1.01, p90: buckets[0].moicCalibration.p90 * 1.01 };
      return c;
    case "p90":
      buckets[0].moicCalibration = { ...buckets[0].moicCalibration, p90: buckets[0].moicCalibration.p90 * 1.02 };
      return c;
    case "weights": {
      const w = c.correlationWeights!;
      c.correlationWeights = w.macro >= 0.1 ? { ...w, macro: w.macro - 0.1, idiosyncratic: w.idiosyncratic + 0.1 } : { ...w, macro: w.macro + 0.1, idiosyncratic: w.idiosyncratic - 0.1 };
      if (c.correlationWeights.idiosyncratic < 0) c.correlationWeights = { macro: 0.5, systematic: 0.5, idiosyncratic: 0 };
      return c;
    }
    case "seed":
      c.seed = `${c.seed}!`;
      return c;
    case "enable-recycling":
      // multiple > 1 whenever a median is positive and there is at least one cycle
      // four cycles at a rate the input does not use: the multiple differs from the input's
      c.recycling = {
        enabled: true,
        mode: "same-bucket",
        reinvestmentRate: input.recycling?.enabled && input.recycling.reinvestmentRate > 0.5 ? 0.1 : 0.9,
        avgHoldingPeriod: 2,
        fundLifetime: 10,
      };
      return c;
    default:
      throw new Error(v);
  }
}

describe("matrixKey", () => {
  it("is a SHA-256 hex digest", () => {
    expect(matrixKey(config())).toMatch(/^[0-9a-f]{64}$/);
  });

  it("ignores object key order and number formatting", () => {
    const a = configInput();
    const b = JSON.parse(JSON.stringify(a).replace('"median":1.5', '"median":1.50').replace('"capitalAllocation":40', '"capitalAllocation":4e1'));
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a).reverse())));
    const key = matrixKey(ScenarioConfigWithMeta.parse(a));
    expect(matrixKey(ScenarioConfigWithMeta.parse(b))).toBe(key);
    expect(matrixKey(ScenarioConfigWithMeta.parse(reordered))).toBe(key);
  });

  it("depends on the fund and the taxonomy version", () => {
    expect(matrixKey(config({ fundId: "fund-2" }))).not.toBe(matrixKey(config()));
    expect(matrixKey(config({ taxonomyVersion: "v2" }))).not.toBe(matrixKey(config()));
  });

  it("depends on the seed and on bucket order (the old defects)", () => {
    expect(matrixKey(config({ seed: "other" }))).not.toBe(matrixKey(config()));
    const reversed = configInput();
    reversed.buckets = [...reversed.buckets!].reverse();
    expect(matrixKey(ScenarioConfigWithMeta.parse(reversed))).not.toBe(matrixKey(config()));
  });

  it("ignores disabled-recycling details", () => {
    expect(matrixKey(config({ recycling: { enabled: false, mode: "same-bucket" } }))).toBe(matrixKey(config()));
  });

  it("same key if and only if same bytes, over many random configs", () => {
    fc.assert(
      fc.property(configArb, fc.boolean(), sameBytesVariant, differentVariant, (input, same, sv, dv) => {
        const other = same ? applySame(input, sv) : applyDifferent(input, dv);
        const a = ScenarioConfigWithMeta.parse(input);
        const b = ScenarioConfigWithMeta.parse(other);
        const sameKey = matrixKey(a) === matrixKey(b);
        const sameBytes = bytesHash(a) === bytesHash(b);
        expect(sameKey).toBe(sameBytes);
        expect(sameKey).toBe(same); // and the variant did what it meant to
      }),
      { numRuns: 400, seed: 20261126 },
    );
  });
});
