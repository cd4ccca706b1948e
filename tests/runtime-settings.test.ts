import { describe, expect, it } from "vitest";
import { cacheOptionsFromEnv } from "../functions/shared/runtime";

describe("cache tuning from the environment", () => {
  it("reads TTL, size cap, timeout and lease settings in their documented units", () => {
    expect(cacheOptionsFromEnv({ HOT_TTL_SECONDS: "3600", HOT_MAX_ENTRY_BYTES: "2048", HOT_TIMEOUT_MS: "100", LEASE_SECONDS: "30", LEASE_WAIT_SECONDS: "90" })).toEqual({
      hotTtlMs: 3_600_000,
      hotMaxEntryBytes: 2048,
      hotTimeoutMs: 100,
      leaseMs: 30_000,
      waitTimeoutMs: 90_000,
    });
  });

  it("leaves unset values to the defaults and refuses nonsense", () => {
    expect(cacheOptionsFromEnv({})).toEqual({});
    expect(() => cacheOptionsFromEnv({ HOT_TTL_SECONDS: "-5" })).toThrow(/HOT_TTL_SECONDS/);
    expect(() => cacheOptionsFromEnv({ LEASE_SECONDS: "soon" })).toThrow(/LEASE_SECONDS/);
  });
});
