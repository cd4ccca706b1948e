// A private redis-server on its own port for fault tests: they stop and restart it mid-run without
// touching the shared Redis other suites use.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";

export const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitFor(port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((r) => {
      const c = net.connect({ host: "127.0.0.1", port }, () => (c.destroy(), r(true)));
      c.on("error", () => r(false));
    });
    if (open === up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis on ${port} did not come ${up ? "up" : "down"}`);
}

export interface PrivateRedis {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    await waitFor(port, true);
  };
  const stop = async () => {
    proc?.kill("SIGKILL");
    proc = undefined;
    await waitFor(port, false);
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, start, stop };
}
