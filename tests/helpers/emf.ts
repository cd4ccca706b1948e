// Captures what a piece of code writes to stdout and checks CloudWatch Embedded Metric Format documents
// against the specification (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
// CloudWatch_Embedded_Metric_Format_Specification.html), so suites assert the emitted JSON itself.
import { vi } from "vitest";

export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit?: string; readonly StorageResolution?: number }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/** Units CloudWatch accepts in a MetricDefinition. */
export const EMF_UNITS = new Set([
  "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
  "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
  "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
  "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]);

/** Runs `f` with process.stdout captured (Powertools Metrics writes EMF there); returns the lines written. */
export async function captureStdout<T>(f: () => T | Promise<T>): Promise<{ result: T; lines: string[] }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  });
  try {
    const result = await f();
    return { result, lines: chunks.join("").split("\n").filter((l) => l.trim() !== "") };
  } finally {
    spy.mockRestore();
  }
}

/** The EMF documents among captured lines (JSON objects with an `_aws` member). */
export function emfDocuments(lines: readonly string[]): EmfDocument[] {
  return lines.flatMap((l) => {
    try {
      const v = JSON.parse(l) as unknown;
      return v && typeof v === "object" && "_aws" in v ? [v as EmfDocument] : [];
    } catch {
      return [];
    }
  });
}

/** Every way `doc` breaks the EMF specification; empty when valid. */
export function emfViolations(doc: unknown): string[] {
  const out: string[] = [];
  if (!doc || typeof doc !== "object") return ["not an object"];
  const root = doc as Record<string, unknown>;
  const aws = root._aws as Record<string, unknown> | undefined;
  if (!aws || typeof aws !== "object") return ["no _aws object"];
  if (typeof aws.Timestamp !== "number" || !Number.isInteger(aws.Timestamp) || aws.Timestamp < 0) {
    out.push("_aws.Timestamp must be a non-negative integer of milliseconds since the epoch");
  }
  if (!Array.isArray(aws.CloudWatchMetrics)) return [...out, "_aws.CloudWatchMetrics must be an array"];
  for (const [d, directive] of (aws.CloudWatchMetrics as Record<string, unknown>[]).entries()) {
    const at = `CloudWatchMetrics[${d}]`;
    const ns = directive.Namespace;
    if (typeof ns !== "string" || ns.length < 1 || ns.length > 1024 || ns.startsWith("AWS/")) out.push(`${at}.Namespace invalid`);
    if (!Array.isArray(directive.Dimensions)) out.push(`${at}.Dimensions must be an array of dimension sets`);
    else
      for (const set of directive.Dimensions as unknown[]) {
        if (!Array.isArray(set)) {
          out.push(`${at}: a dimension set must be an array`);
          continue;
        }
        if (set.length > 30) out.push(`${at}: a dimension set has more than 30 dimensions`);
        for (const name of set) {
          if (typeof name !== "string") out.push(`${at}: dimension names must be strings`);
          else if (typeof root[name] !== "string") out.push(`${at}: dimension ${name} must be a string member of the root`);
          else if ((root[name] as string).length < 1 || (root[name] as string).length > 1024) out.push(`${at}: dimension ${name} value length must be 1..1024`);
        }
      }
    if (!Array.isArray(directive.Metrics)) {
      out.push(`${at}.Metrics must be an array`);
      continue;
    }
    if (directive.Metrics.length > 100) out.push(`${at}: more than 100 metrics`);
    for (const m of directive.Metrics as Record<string, unknown>[]) {
      const name = m.Name;
      if (typeof name !== "string" || name.length < 1 || name.length > 1024) {
        out.push(`${at}: metric Name must be a 1..1024 character string`);
        continue;
      }
      if (m.Unit !== undefined && !EMF_UNITS.has(m.Unit as string)) out.push(`${at}: metric ${name} has unit ${String(m.Unit)}`);
      if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60) out.push(`${at}: metric ${name} storage resolution`);
      const v = root[name];
      const numbers = Array.isArray(v) ? v : [v];
      if (numbers.length === 0 || numbers.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
        out.push(`${name} must be a number or an array of numbers`);
      }
      if (Array.isArray(v) && v.length > 100) out.push(`${name} has more than 100 values`);
    }
  }
  return out;
}
