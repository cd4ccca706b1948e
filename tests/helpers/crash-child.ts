// Child process that takes a generation lease and is killed mid-generation (the parent sends SIGKILL
// once it prints "generating"). Used to show a crashed generator never leaves its key stuck.
import { createDb } from "../../adapters/db";
import { createDrizzleDurableStore } from "../../adapters/durable-drizzle";
import { createRedisHotStore } from "../../adapters/hot-redis";
import { createMatrixCache } from "../../core/cache";
import { ScenarioConfigWithMeta } from "../../core/scenario";

const { DATABASE_URL, REDIS_URL, HOT_PREFIX, CONFIG, LEASE_MS } = process.env;
const db = createDb({ url: DATABASE_URL! });
const cache = createMatrixCache({
  hot: createRedisHotStore({ url: REDIS_URL!, prefix: HOT_PREFIX! }),
  durable: createDrizzleDurableStore(db.db),
  options: { leaseMs: Number(LEASE_MS) },
  generate: async () => {
    console.log("generating");
    await new Promise(() => {}); // never finishes: the parent kills this process here
    throw new Error("unreachable");
  },
});
await cache.get(ScenarioConfigWithMeta.parse(JSON.parse(CONFIG!)));
