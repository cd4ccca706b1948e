// Prints `loadConfig()` of a fresh process as one JSON line: `{ ok, config }` or `{ ok: false, name,
// message }`. tests/infra/config.test.ts runs it with a controlled environment because SST's `Resource`
// reads the process environment once, on first access, and keeps it for the life of the process.
import { loadConfig } from "../../../functions/shared/config";

try {
  process.stdout.write(`${JSON.stringify({ ok: true, config: loadConfig() })}\n`);
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  process.stdout.write(`${JSON.stringify({ ok: false, name: err.name, message: err.message })}\n`);
}
