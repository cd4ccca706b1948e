// Says, once per run, which real services the storage suites will use and which they skip.
import { assertReachableUnderCI, isCI, postgresTarget, redisTarget } from "./services";

export default async function setup(): Promise<void> {
  for (const t of [await postgresTarget(), await redisTarget()]) {
    assertReachableUnderCI(t);
    const line = t.available
      ? `[services] ${t.name} at ${t.url}: real-server suites run`
      : `[services] ${t.name} unreachable at ${t.url} (${t.reason}): SKIPPING its real-server suites; embedded ones still run${isCI ? "" : " (set CI=true to make this fatal)"}`;
    console.log(line);
  }
}
