import { describe, expect, it } from "vitest";
import {
  DEFAULT_SETTINGS,
  STAGE_OVERRIDES,
  SettingsError,
  settingsFor,
  validateSettings,
  visibilityTimeoutSeconds,
  type StageSettings,
} from "../../stacks/settings";

/** DEFAULT_SETTINGS with one lane changed. */
function withLane(lane: "high" | "low", patch: Partial<StageSettings["generator"]["high"]>): StageSettings {
  return { ...DEFAULT_SETTINGS, generator: { ...DEFAULT_SETTINGS.generator, [lane]: { ...DEFAULT_SETTINGS.generator[lane], ...patch } } };
}

describe("stage settings", () => {
  it.each(["production", "staging", "ci", "alice"])("are valid for stage %s", (stage) => {
    expect(() => settingsFor(stage)).not.toThrow();
  });

  it("merges a stage's overrides over the defaults, leaving the rest", () => {
    const prod = settingsFor("production");

    expect(prod.generator.high.reservedConcurrency).toBe(STAGE_OVERRIDES.production.generator?.high?.reservedConcurrency);
    expect(prod.generator.high.batchSize).toBe(DEFAULT_SETTINGS.generator.high.batchSize);
    expect(settingsFor("some-personal-stage")).toEqual(DEFAULT_SETTINGS);
  });

  it("derives a visibility timeout of at least six times the generator timeout", () => {
    for (const stage of ["production", "ci"]) {
      const s = settingsFor(stage);
      for (const lane of ["high", "low"] as const) {
        expect(visibilityTimeoutSeconds(s, lane)).toBeGreaterThanOrEqual(6 * s.generator.timeoutSeconds);
      }
    }
  });

  it("rejects a low lane with as much concurrency as the high lane", () => {
    const s = withLane("low", { maximumConcurrency: DEFAULT_SETTINGS.generator.high.maximumConcurrency });

    expect(() => validateSettings("x", s)).toThrow(SettingsError);
    expect(() => validateSettings("x", s)).toThrow(/generator\.high\.maximumConcurrency: the high lane must get more/);
  });

  it("rejects reserved concurrency below the event source mapping's cap", () => {
    const s = withLane("high", { maximumConcurrency: 10, reservedConcurrency: 5 });

    expect(() => validateSettings("x", s)).toThrow(/generator\.high\.reservedConcurrency: must be at least maximumConcurrency/);
  });

  it("rejects a maximumConcurrency SQS does not accept", () => {
    expect(() => validateSettings("x", withLane("low", { maximumConcurrency: 1 }))).toThrow(/generator\.low\.maximumConcurrency: must be 2\.\.1000/);
  });

  it("rejects an API timeout at or beyond the HTTP API's 30 s", () => {
    const s = { ...DEFAULT_SETTINGS, api: { ...DEFAULT_SETTINGS.api, timeoutSeconds: 30 } };

    expect(() => validateSettings("x", s)).toThrow(/api\.timeoutSeconds/);
  });
});
