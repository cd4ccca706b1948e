// Runs a tsx child script with a hard bound: SIGKILL after `timeoutMs`, reported as a timeout.
import { spawn } from "node:child_process";

export interface ChildRun { readonly code: number | null; readonly timedOut: boolean; readonly stdout: string; readonly stderr: string }

export function runTsxChild(script: string, env: Record<string, string | undefined>, timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: process.cwd(), env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr });
    });
  });
}
