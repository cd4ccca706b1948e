import { defineConfig } from "vitest/config";

// Storage suites share the real PostgreSQL and Redis: each test file uses its own key prefix / schema,
// so files may run in parallel; two workers suit a 2-core machine.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    globalSetup: ["tests/helpers/global-setup.ts"],
  },
});
