// Starts the real `npm start` entry point as a child process on a free port and talks HTTP to it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LocalServer {
  readonly url: string;
  readonly output: () => string;
  /** sends the signal and resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startLocalServer(env: Record<string, string | undefined> = {}): Promise<LocalServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "smc-e2e-"));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "functions/local/server.ts"], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      PORT: "0",
      PGLITE_DIR: join(dataDir, "not-yet-created", "pglite"), // a fresh clone has no .data/ either
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      UPSTASH_REDIS_REST_URL: undefined,
      UPSTASH_REDIS_REST_TOKEN: undefined,
      API_TOKENS: undefined,
      AWS_LAMBDA_FUNCTION_NAME: undefined,
      LOG_LEVEL: "WARN",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 45_000);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
  return {
    url,
    output: () => out,
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
