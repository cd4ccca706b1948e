// Shared by the infrastructure suites: where the SST platform is, and whether the suites may skip.
// `npm run sst:install` unpacks the platform into .sst/platform; CI runs it before the tests.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isCI } from "../../helpers/services";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const PLATFORM_DIR = join(ROOT, ".sst", "platform");

/** True when `sst install` has unpacked the platform (its config.d.ts is what the stacks compile against). */
export const platformInstalled = existsSync(join(PLATFORM_DIR, "config.d.ts"));

/**
 * Why an infrastructure suite is skipped, or undefined when it must run. Under CI=true it always runs, so
 * a missing platform fails loudly instead of passing silently.
 */
export function infraSkipReason(suite: string): string | undefined {
  if (platformInstalled || isCI) return undefined;
  const reason = `[infra] SKIPPING ${suite}: .sst/platform is missing (run \`npm run sst:install\`; under CI=true this fails instead)`;
  console.log(reason);
  return reason;
}

/** Throws a clear error when the platform is missing (reached only under CI, where skipping is not allowed). */
export function assertPlatformInstalled(): void {
  if (!platformInstalled) {
    throw new Error(".sst/platform is missing: CI must run `npm run sst:install` before the tests (see .ci/run)");
  }
}
