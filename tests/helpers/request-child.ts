// Child process that answers a list of requests with the local app (embedded stores) and prints the
// statuses and bodies as one JSON line. The parent kills it after a bound, so a request that blocks the
// event loop fails the parent's test instead of hanging the test runner (a synchronous loop cannot be
// interrupted in-process).
import { silentLog } from "../../core/shared/log";
import { createLocalApp } from "../../functions/local/app";
import { createRuntime } from "../../functions/shared/runtime";

interface ChildRequest { method: string; path: string; body?: unknown }
const requests = JSON.parse(process.env.REQUESTS ?? "[]") as ChildRequest[];
const rt = await createRuntime({ pgliteDir: "memory://", migrate: true, log: silentLog });
const app = createLocalApp({ runtime: rt, auth: { deployed: false, tokens: [] } } as never);
const results: { status: number; body: unknown }[] = [];
for (const r of requests) {
  const res = await app.request(r.path, {
    method: r.method,
    headers: { "content-type": "application/json", host: "127.0.0.1:3000" },
    ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON: keep the text */ }
  results.push({ status: res.status, body });
}
await rt.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
