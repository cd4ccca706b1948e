// Builders for configs used across suites.
import { ScenarioConfigWithMeta, type ScenarioConfigWithMetaInput } from "../../core/scenario";

export function configInput(overrides: Partial<ScenarioConfigWithMetaInput> = {}): ScenarioConfigWithMetaInput {
  return {
    fundId: "fund-1",
    taxonomyVersion: "v1",
    numScenarios: 200,
    buckets: [
      { name: "Seed", capitalAllocation: 40, moicCalibration: { median: 1.0, p90: 3.0 } },
      { name: "Series A", capitalAllocation: 35, moicCalibration: { median: 1.5, p90: 3.5 } },
      { name: "Series B", capitalAllocation: 25, moicCalibration: { median: 2.0, p90: 4.0 } },
    ],
    correlationWeights: { macro: 0.3, systematic: 0.3, idiosyncratic: 0.4 },
    recycling: { enabled: false },
    seed: "test-seed",
    ...overrides,
  };
}

export function config(overrides: Partial<ScenarioConfigWithMetaInput> = {}): ScenarioConfigWithMeta {
  return ScenarioConfigWithMeta.parse(configInput(overrides));
}
