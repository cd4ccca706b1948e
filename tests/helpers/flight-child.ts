// Child process for the cross-process single-flight test: N concurrent gets of one config against
// the shared PostgreSQL and Redis; prints one JSON line with its generations and result hashes.
import { createHash } from "node:crypto";
import { createDb } from "../../adapters/db";
import { createDrizzleDurableStore } from "../../adapters/durable-drizzle";
import { createRedisHotStore } from "../../adapters/hot-redis";
import { createMatrixCache } from "../../core/cache";
import { generateScenarioMatrix, ScenarioConfigWithMeta } from "../../core/scenario";

const { DATABASE_URL, REDIS_URL, HOT_PREFIX, CONFIG, CALLERS, START_AT } = process.env;
const db = createDb({ url: DATABASE_URL! });
const hot = createRedisHotStore({ url: REDIS_URL!, prefix: HOT_PREFIX! });
let generations = 0;
const cache = createMatrixCache({
  hot,
  durable: createDrizzleDurableStore(db.db),
  options: { pollIntervalMs: 10 },
  generate: async (c) => {
    generations++;
    await new Promise((r) => setTimeout(r, 300)); // hold the lease while the other process arrives
    return generateScenarioMatrix(c);
  },
});
const cfg = ScenarioConfigWithMeta.parse(JSON.parse(CONFIG!));
// Both processes start their callers at the same wall-clock instant.
await new Promise((r) => setTimeout(r, Math.max(0, Number(START_AT) - Date.now())));
const results = await Promise.all(Array.from({ length: Number(CALLERS) }, () => cache.get(cfg)));
console.log(
  JSON.stringify({
    generations,
    tiers: results.map((r) => r.tier),
    hashes: results.map((r) => createHash("sha256").update(new Uint8Array(r.matrix.data.buffer, r.matrix.data.byteOffset, r.matrix.data.byteLength)).digest("hex")),
  }),
);
await hot.close();
await db.close();
