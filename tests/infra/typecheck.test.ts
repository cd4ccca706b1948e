import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, assertPlatformInstalled, infraSkipReason } from "./helpers/platform";

// The infrastructure type-check (`npm run typecheck:infra`) only protects anything if it fails on wrong
// SST options. These tests run the real tsc over the real stacks, and over a copy with known mistakes.

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const FIXTURE = join(ROOT, "tests", "infra", "fixtures", "wrong-options.ts");
/** One tsc run over the platform types takes 6–12 s on two cores. */
const TSC_TIMEOUT_MS = 180_000;

interface TscResult {
  readonly code: number;
  readonly output: string;
}

/** Runs tsc on `project` from `cwd` (diagnostics name files relative to it). */
function tsc(project: string, cwd: string): Promise<TscResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, "-p", project, "--pretty", "false"], { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** `file(line,col): error TSxxxx: …` diagnostics as sorted, unique `file:line` keys. */
function errorLines(output: string): string[] {
  const lines = [...output.matchAll(/^(.+?)\((\d+),\d+\): error TS\d+:/gm)].map((m) => `${m[1].replaceAll("\\", "/")}:${m[2]}`);
  return [...new Set(lines)].sort();
}

/** 1-based numbers of the lines of `text` that contain `marker`. */
function linesWith(text: string, marker: string): number[] {
  return text.split("\n").flatMap((line, i) => (line.includes(marker) ? [i + 1] : []));
}

const skip = infraSkipReason("infrastructure type-check tests");

describe.skipIf(skip !== undefined)("infrastructure type-check (tsconfig.infra.json)", () => {
  let work: string;

  beforeAll(() => {
    assertPlatformInstalled();
    work = mkdtempSync(join(tmpdir(), "infra-typecheck-"));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(
    "passes on the real sst.config.ts and stacks",
    async () => {
      const result = await tsc(join(ROOT, "tsconfig.infra.json"), ROOT);

      expect(result.output).toBe("");
      expect(result.code).toBe(0);
    },
    TSC_TIMEOUT_MS,
  );

  it(
    "fails on exactly the wrong SST options, in the fixture and in a mutated copy of the stacks",
    async () => {
      // Prepare: a copy of the config and stacks, with one real option misspelt, next to the fixture.
      copyFileSync(join(ROOT, "sst.config.ts"), join(work, "sst.config.ts"));
      mkdirSync(join(work, "stacks"));
      for (const f of readdirSync(join(ROOT, "stacks")).filter((n) => n.endsWith(".ts"))) {
        copyFileSync(join(ROOT, "stacks", f), join(work, "stacks", f));
      }
      const generator = readFileSync(join(work, "stacks", "generator.ts"), "utf8");
      const mutatedLines = linesWith(generator, "partialResponses: true");
      expect(mutatedLines, "stacks/generator.ts must set `partialResponses: true` once").toHaveLength(1);
      writeFileSync(join(work, "stacks", "generator.ts"), generator.replace("partialResponses: true", "partialResponse: true"));
      mkdirSync(join(work, "fixtures"));
      copyFileSync(FIXTURE, join(work, "fixtures", "wrong-options.ts"));
      // sst.config.ts references ./.sst/platform/config.d.ts; the copy sees the installed platform.
      symlinkSync(join(ROOT, ".sst"), join(work, ".sst"), "dir");
      writeFileSync(
        join(work, "tsconfig.json"),
        JSON.stringify({
          extends: join(ROOT, "tsconfig.infra.json"),
          include: ["sst.config.ts", "stacks/**/*.ts", "fixtures/wrong-options.ts"],
        }),
      );
      const expected = [
        ...mutatedLines.map((n) => `stacks/generator.ts:${n}`),
        ...linesWith(readFileSync(FIXTURE, "utf8"), "// MUST FAIL:").map((n) => `fixtures/wrong-options.ts:${n}`),
      ].sort();

      // Act
      const result = await tsc(join(work, "tsconfig.json"), work);

      // Assert: it fails, on every marked line and nowhere else.
      expect(result.code).not.toBe(0);
      expect(expected.length).toBeGreaterThanOrEqual(6);
      expect(errorLines(result.output)).toEqual(expected);
      expect(result.output).toMatch(/'partialResponse' does not exist/);
      expect(result.output).toMatch(/'memorySize' does not exist/);
    },
    TSC_TIMEOUT_MS,
  );
});
