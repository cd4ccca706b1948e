// `npm run bench`: runs every benchmark side by side in one process and writes BENCHMARKS.md with the
// machine and the date. Benchmarks are not tests: nothing here asserts a time.
import { execSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { benchCore } from "./core";
import { benchCache } from "./cache";

type Section = { title: string; intro?: string; run: () => Promise<string[]> };

const optional = async (path: string, exportName: string): Promise<(() => Promise<string[]>) | undefined> => {
  try {
    const mod = (await import(path)) as Record<string, unknown>;
    return mod[exportName] as () => Promise<string[]>;
  } catch (e) {
    console.warn(`bench: ${path} not loaded: ${(e as Error).message}`);
    return undefined;
  }
};

async function main(): Promise<void> {
  const sections: Section[] = [
    {
      title: "Generator and codec (issue 3)",
      intro: "One core (Node runs the generator on one thread). Median of repeated runs after a JIT warm-up.",
      run: benchCore,
    },
    {
      title: "Two-tier get-or-generate on real Redis and PostgreSQL (issue 4)",
      intro:
        "Hot hit through get-or-generate vs a bare ioredis GET of the same entry bytes, measured interleaved. Durable hit = hot miss + PostgreSQL read + hot back-fill. Miss = lease + generation + durable write + hot write. Hot cap raised to 64 MiB for the 8 MB matrix so its hot hit can be measured.",
      run: benchCache,
    },
  ];
  for (const [title, path, name] of [
    ["Statistics (issue 6)", "./stats", "benchStats"],
    ["Invalidation (issue 7)", "./invalidation", "benchInvalidation"],
    ["Warming (issue 8)", "./warming", "benchWarming"],
  ] as const) {
    const run = await optional(path, name);
    if (run) sections.push({ title, run });
  }

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const date = new Date().toISOString().slice(0, 10);
  const out: string[] = [
    "# Benchmarks",
    "",
    `Written by \`npm run bench\` on ${date}: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
      `${safe("redis-server --version").split(" ").slice(0, 3).join(" ")}, ${safe("psql --version")}.`,
    "Figures are medians unless marked; ratios are measured side by side in the same run.",
  ];
  for (const s of sections) {
    console.log(`bench: ${s.title}`);
    out.push("", `## ${s.title}`, "");
    if (s.intro) out.push(s.intro, "");
    try {
      out.push(...(await s.run()));
    } catch (e) {
      out.push(`(failed: ${(e as Error).message})`);
      console.error(e);
    }
  }
  writeFileSync("BENCHMARKS.md", `${out.join("\n")}\n`);
  console.log(out.join("\n"));
  process.exit(0);
}

function safe(cmd: string): string {
  try {
    return execSync(cmd, { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return `${cmd.split(" ")[0]} unavailable`;
  }
}

void main();
