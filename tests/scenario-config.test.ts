import { describe, expect, it } from "vitest";
import { DEFAULT_BUCKETS, DEFAULT_SEED, ScenarioConfig, ScenarioConfigWithMeta } from "../core/scenario";
import { configInput } from "./helpers/factories";

function issues(input: unknown): { path: string; message: string }[] {
  const r = ScenarioConfigWithMeta.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}
const bucket = (name: string, capitalAllocation: number, median = 1, p90 = 2) => ({
  name,
  capitalAllocation,
  moicCalibration: { median, p90 },
});

describe("scenario config validation", () => {
  it("accepts the sample config", () => {
    expect(issues(configInput())).toEqual([]);
  });

  it("uses the documented default buckets when buckets is empty or omitted", () => {
    const empty = ScenarioConfig.parse({ buckets: [] });
    const omitted = ScenarioConfig.parse({});
    expect(empty.buckets).toEqual(DEFAULT_BUCKETS);
    expect(omitted.buckets).toEqual(DEFAULT_BUCKETS);
    expect(DEFAULT_BUCKETS.map((b) => [b.name, b.capitalAllocation, b.moicCalibration.median, b.moicCalibration.p90])).toEqual([
      ["Seed", 40, 1.0, 3.0],
      ["Series A", 35, 1.5, 3.5],
      ["Series B", 25, 2.0, 4.0],
    ]);
  });

  it("defaults the seed to the documented string", () => {
    expect(ScenarioConfig.parse({}).seed).toBe(DEFAULT_SEED);
    expect(ScenarioConfig.parse({ seed: 42 }).seed).toBe("42");
  });

  it("requires allocations to sum to 100 within 0.01", () => {
    expect(issues(configInput({ buckets: [bucket("a", 60), bucket("b", 39.995)] }))).toEqual([]);
    expect(issues(configInput({ buckets: [bucket("a", 60), bucket("b", 39.98)] }))).toEqual([
      { path: "buckets", message: expect.stringContaining("sum to 100") },
    ]);
    expect(issues(configInput({ buckets: [bucket("a", 60), bucket("b", 40.02)] }))[0]?.path).toBe("buckets");
  });

  it("rejects a p90 below the median and a p90/median ratio of 5 or more, naming the field", () => {
    expect(issues(configInput({ buckets: [bucket("a", 100, 2, 1.99)] }))).toEqual([
      { path: "buckets.0.moicCalibration.p90", message: "p90 must be >= median" },
    ]);
    expect(issues(configInput({ buckets: [bucket("a", 100, 1, 5)] }))[0]?.path).toBe("buckets.0.moicCalibration.p90");
    expect(issues(configInput({ buckets: [bucket("a", 100, 1, 4.99)] }))).toEqual([]);
    expect(issues(configInput({ buckets: [bucket("a", 100, 1, 1)] }))).toEqual([]);
    expect(issues(configInput({ buckets: [bucket("a", 100, 0, 1)] }))[0]?.path).toBe("buckets.0.moicCalibration.median");
  });

  it("requires non-negative weights summing to 1 within 1e-6", () => {
    const w = (macro: number, systematic: number, idiosyncratic: number) =>
      issues(configInput({ correlationWeights: { macro, systematic, idiosyncratic } }));
    expect(w(0.2, 0.3, 0.5)).toEqual([]);
    expect(w(0.2, 0.3, 0.5 + 5e-7)).toEqual([]);
    expect(w(0.2, 0.3, 0.5 + 2e-6)[0]?.path).toBe("correlationWeights");
    expect(w(-0.1, 0.6, 0.5)[0]?.path).toBe("correlationWeights.macro");
  });

  it("limits numScenarios to integers from 1 to 100,000", () => {
    expect(issues(configInput({ numScenarios: 1 }))).toEqual([]);
    expect(issues(configInput({ numScenarios: 100_000 }))).toEqual([]);
    for (const n of [0, 100_001, 1.5, -3]) expect(issues(configInput({ numScenarios: n }))[0]?.path).toBe("numScenarios");
  });

  it("allows 1 to 50 buckets with unique non-empty names", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => bucket(`b${i}`, 100 / n));
    expect(issues(configInput({ buckets: many(50) }))).toEqual([]);
    expect(issues(configInput({ buckets: many(51) }))[0]?.path).toBe("buckets");
    expect(issues(configInput({ buckets: [bucket("a", 50), bucket("a", 50)] }))).toEqual([
      { path: "buckets.1.name", message: expect.stringContaining("duplicate") },
    ]);
    expect(issues(configInput({ buckets: [bucket("", 100)] }))[0]?.path).toBe("buckets.0.name");
    expect(issues(configInput({ buckets: [bucket("   ", 100)] }))[0]?.path).toBe("buckets.0.name");
  });

  it("needs only enabled:false for disabled recycling and all fields when enabled", () => {
    expect(issues(configInput({ recycling: { enabled: false } }))).toEqual([]);
    expect(issues(configInput({ recycling: { enabled: false, mode: "same-bucket" } }))).toEqual([]);
    expect(issues(configInput({ recycling: { enabled: true } as never })).map((i) => i.path)).toEqual([
      "recycling.reinvestmentRate",
      "recycling.avgHoldingPeriod",
      "recycling.fundLifetime",
    ]);
    expect(
      issues(configInput({ recycling: { enabled: true, mode: "same-bucket", reinvestmentRate: 1.5, avgHoldingPeriod: 4, fundLifetime: 10 } })),
    ).toEqual([{ path: "recycling.reinvestmentRate", message: expect.any(String) }]);
    expect(issues(configInput({ recycling: { enabled: true, mode: "other", reinvestmentRate: 0.5, avgHoldingPeriod: 4, fundLifetime: 10 } as never }))[0]?.path).toBe(
      "recycling.mode",
    );
  });

  it("restricts fund ids and taxonomy versions to safe characters", () => {
    expect(issues(configInput({ fundId: "fund_1.a:b-c" }))).toEqual([]);
    for (const bad of ["", "fund 1", "fund*", "a/b", "x".repeat(129), "{tag}"]) {
      expect(issues(configInput({ fundId: bad }))[0]?.path).toBe("fundId");
    }
    expect(issues(configInput({ taxonomyVersion: "v 2" }))[0]?.path).toBe("taxonomyVersion");
  });

  it("rejects wrong types and non-finite numbers with the field path", () => {
    expect(issues({ ...configInput(), numScenarios: "100" })[0]?.path).toBe("numScenarios");
    expect(issues(configInput({ buckets: [bucket("a", Number.NaN)] }))[0]?.path).toBe("buckets.0.capitalAllocation");
    expect(issues({ ...configInput(), correlationWeights: null })[0]?.path).toBe("correlationWeights");
  });
});
