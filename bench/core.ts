// Generator, codec and memory figures (one core: Node runs this on one thread).
import { execFileSync } from "node:child_process";
import { decodeMatrix, encodeMatrix } from "../core/codec";
import { generateScenarioMatrix, ScenarioConfig } from "../core/scenario";
import { median, timeIt } from "./util";

function shapeConfig(rows: number, cols: number) {
  return ScenarioConfig.parse({
    numScenarios: rows,
    buckets: Array.from({ length: cols }, (_, j) => ({
      name: `b${j}`,
      capitalAllocation: 100 / cols,
      moicCalibration: { median: 1 + (j % 5) * 0.3, p90: 3 + (j % 5) * 0.4 },
    })),
    seed: `bench-${rows}x${cols}`,
  });
}

export async function benchCore(): Promise<string[]> {
  const lines: string[] = [];
  lines.push("| shape | median ms | cells/s (millions) | goal |", "|---|---|---|---|");
  for (const [rows, cols, runs, goal] of [
    [10_000, 5, 60, "≤ 5 ms"],
    [100_000, 20, 9, ""],
    [100_000, 50, 7, "≤ 400 ms"],
  ] as const) {
    const cfg = shapeConfig(rows, cols);
    generateScenarioMatrix(cfg); // warm-up (JIT)
    const ms = median(await timeIt(runs, () => generateScenarioMatrix(cfg)));
    lines.push(`| ${rows.toLocaleString("en")} × ${cols} | ${ms.toFixed(2)} | ${((rows * cols) / ms / 1000).toFixed(1)} | ${goal} |`);
  }

  // Memory of one 100,000 × 50 generation in a fresh process: resident-set growth across the call. The
  // generator allocates monotonically (the encoded buffer, per-bucket tables, one row of normals) and
  // frees nothing before it returns, so the growth right after the call is its peak.
  const script = `
    import { generateScenarioMatrix, ScenarioConfig } from "./core/scenario/index.ts";
    const mk = (n) => ScenarioConfig.parse({ numScenarios: n, buckets: Array.from({ length: 50 }, (_, j) => ({ name: "b" + j, capitalAllocation: 2, moicCalibration: { median: 1.2, p90: 3.1 } })) });
    generateScenarioMatrix(mk(200)); // load and JIT with a small matrix first
    globalThis.gc();
    const before = process.memoryUsage();
    const m = generateScenarioMatrix(mk(100000));
    const after = process.memoryUsage();
    process.stdout.write(JSON.stringify({
      rss: after.rss - before.rss,
      heapAndBuffers: (after.heapUsed + after.arrayBuffers) - (before.heapUsed + before.arrayBuffers),
      matrixBytes: m.cells.byteLength,
    }));`;
  const out = JSON.parse(
    execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd() }).toString(),
  ) as { rss: number; heapAndBuffers: number; matrixBytes: number };
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  lines.push(
    "",
    `Memory of one 100,000 × 50 generation (fresh process, growth across the call): resident set +${mib(out.rss)} MiB, heap + ArrayBuffers +${mib(out.heapAndBuffers)} MiB, ` +
      `for a ${mib(out.matrixBytes)} MiB matrix = **${(Math.max(out.rss, out.heapAndBuffers) / out.matrixBytes).toFixed(2)}×** the matrix bytes (goal ≤ 2×).`,
  );

  // Codec throughput on a 100,000 × 50 matrix (20 MB).
  const m = generateScenarioMatrix(shapeConfig(100_000, 50));
  const enc = encodeMatrix(m.cells, m.rows, m.cols);
  const mb = enc.byteLength / 1e6;
  const encMs = median(await timeIt(15, () => encodeMatrix(m.cells, m.rows, m.cols)));
  const decMs = median(await timeIt(15, () => decodeMatrix(enc)));
  lines.push(
    "",
    `Codec on ${mb.toFixed(1)} MB (100,000 × 50): encode ${encMs.toFixed(2)} ms = **${(mb / (encMs / 1000)).toFixed(0)} MB/s**, decode (CRC-32 verified, zero-copy view) ${decMs.toFixed(2)} ms = **${(mb / (decMs / 1000)).toFixed(0)} MB/s** (goal ≥ 500 MB/s).`,
  );
  return lines;
}
