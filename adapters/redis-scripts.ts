// Lua scripts, key layout and the script-backed HotStore shared by the ioredis (TCP) and Upstash (REST)
// adapters. Each store method is one script (or a bounded loop of them), so accounting, indexes and epochs
// change atomically with the entry. Ids only ever travel as ARGV, never inside Lua source.
// Run the Redis with `noeviction` or a `volatile-*` policy: accounting keys have no TTL and must never be
// evicted, and an entry evicted early stays counted by storage() until its own deadline prunes it.
import { createHash } from "node:crypto";
import type { CounterOp, EpochToken, HotStore, HotWriteOutcome, InvalidationScope } from "../core/cache/ports";

/**
 * Key suffixes under the store prefix P. The Lua preamble is generated from this object, so the TypeScript
 * helpers and the scripts cannot drift apart. Counters get their own `c:` namespace so that a logical
 * counter name can never collide with an entry or accounting key.
 */
export const HOT_KEY = {
  matrix: "m:",
  fundIndex: "fi:",
  funds: "funds",
  sizes: "a:size",
  fundOf: "a:fund",
  expiries: "a:exp",
  totals: "a:tot",
  fundTotals: "a:ft:",
  globalEpoch: "ep:g",
  fundEpoch: "ep:f:",
  counter: "c:",
} as const;

/** Full key names for one prefix (tests and tools inspect Redis with these). */
export function hotKeys(prefix: string) {
  return {
    matrix: (matrixKey: string) => `${prefix}${HOT_KEY.matrix}${matrixKey}`,
    fundIndex: (fundId: string) => `${prefix}${HOT_KEY.fundIndex}${fundId}`,
    funds: `${prefix}${HOT_KEY.funds}`,
    sizes: `${prefix}${HOT_KEY.sizes}`,
    fundOf: `${prefix}${HOT_KEY.fundOf}`,
    expiries: `${prefix}${HOT_KEY.expiries}`,
    totals: `${prefix}${HOT_KEY.totals}`,
    fundTotals: (fundId: string) => `${prefix}${HOT_KEY.fundTotals}${fundId}`,
    globalEpoch: `${prefix}${HOT_KEY.globalEpoch}`,
    fundEpoch: (fundId: string) => `${prefix}${HOT_KEY.fundEpoch}${fundId}`,
    counter: (name: string) => `${prefix}${HOT_KEY.counter}${name}`,
  } as const;
}

/** Default key prefix of both Redis adapters (one deployment, one namespace). */
export const DEFAULT_HOT_PREFIX = "smc:hot:";

/** Entries deleted per invalidation script, and expired entries pruned per write/storage script. */
export const INVALIDATE_CHUNK = 500;
export const PRUNE_LIMIT = 1000;

/** A script and its SHA-1, so callers can try EVALSHA before sending the source. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** Names a Lua source and computes its SHA-1 once, at module load. */
export function defineScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

// Every script gets ARGV[1] = prefix and ARGV[2] = now (ms, from the caller's clock: Upstash asks for
// deterministic scripts, so no TIME inside). Keys are derived from the prefix here; on Redis Cluster put a
// hash tag in the prefix so they share one slot.
const PREAMBLE = `
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local function k_matrix(mk) return P .. '${HOT_KEY.matrix}' .. mk end
local function k_index(f) return P .. '${HOT_KEY.fundIndex}' .. f end
local function k_ftot(f) return P .. '${HOT_KEY.fundTotals}' .. f end
local function k_fepoch(f) return P .. '${HOT_KEY.fundEpoch}' .. f end
local K_FUNDS = P .. '${HOT_KEY.funds}'
local K_SIZE = P .. '${HOT_KEY.sizes}'
local K_FUND = P .. '${HOT_KEY.fundOf}'
local K_EXP = P .. '${HOT_KEY.expiries}'
local K_TOT = P .. '${HOT_KEY.totals}'
local K_GEPOCH = P .. '${HOT_KEY.globalEpoch}'

-- forgets one entry's accounting and index membership (not its value); false when it had none
local function unaccount(mk)
  local size = redis.call('HGET', K_SIZE, mk)
  if not size then return false end
  size = tonumber(size)
  local fund = redis.call('HGET', K_FUND, mk)
  redis.call('HDEL', K_SIZE, mk)
  redis.call('HDEL', K_FUND, mk)
  redis.call('ZREM', K_EXP, mk)
  redis.call('HINCRBY', K_TOT, 'entries', -1)
  redis.call('HINCRBY', K_TOT, 'bytes', -size)
  if fund then
    local ft = k_ftot(fund)
    local left = redis.call('HINCRBY', ft, 'entries', -1)
    redis.call('HINCRBY', ft, 'bytes', -size)
    if left <= 0 then redis.call('DEL', ft) end
    local fi = k_index(fund)
    redis.call('SREM', fi, mk)
    if redis.call('SCARD', fi) == 0 then redis.call('SREM', K_FUNDS, fund) end
  end
  return true
end

-- expired entries leave the accounting lazily, at most PRUNE_LIMIT per call
local function prune()
  local expired = redis.call('ZRANGEBYSCORE', K_EXP, '-inf', NOW, 'LIMIT', 0, ${PRUNE_LIMIT})
  for _, mk in ipairs(expired) do unaccount(mk) end
  return #expired
end
`;

const script = (name: string, body: string) => defineScript(name, PREAMBLE + body);

/** ARGV: P, now, matrixKey, fundId → {globalEpoch, fundEpoch, value|nil}. */
export const READ_SCRIPT = script(
  "read",
  `
local v = redis.call('GET', k_matrix(ARGV[3]))
local g = redis.call('GET', K_GEPOCH) or '0'
local f = redis.call('GET', k_fepoch(ARGV[4])) or '0'
return {g, f, v}
`,
);

/** ARGV: P, now, matrixKey, fundId, value, ttlMs, sizeBytes, epochToken → 'stored' | 'stale-epoch'. */
export const WRITE_SCRIPT = script(
  "write",
  `
local mk, fund, val = ARGV[3], ARGV[4], ARGV[5]
local ttl, size, token = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local g = redis.call('GET', K_GEPOCH) or '0'
local f = redis.call('GET', k_fepoch(fund)) or '0'
if token ~= (g .. ':' .. f) then return 'stale-epoch' end
prune()
-- an overwrite first forgets the old entry, so its size (and fund, if it moved) is accounted once
unaccount(mk)
local exp = NOW + ttl
-- PXAT with the same instant as the a:exp score: Redis expiry and accounting agree on the deadline
redis.call('SET', k_matrix(mk), val, 'PXAT', exp)
redis.call('HSET', K_SIZE, mk, size)
redis.call('HSET', K_FUND, mk, fund)
redis.call('ZADD', K_EXP, exp, mk)
redis.call('HINCRBY', K_TOT, 'entries', 1)
redis.call('HINCRBY', K_TOT, 'bytes', size)
redis.call('HINCRBY', k_ftot(fund), 'entries', 1)
redis.call('HINCRBY', k_ftot(fund), 'bytes', size)
redis.call('SADD', k_index(fund), mk)
redis.call('SADD', K_FUNDS, fund)
return 'stored'
`,
);

/** ARGV: P, now, matrixKey → 1 if a live entry was removed, else 0. */
export const REMOVE_SCRIPT = script(
  "remove",
  `
local n = redis.call('UNLINK', k_matrix(ARGV[3]))
unaccount(ARGV[3])
return n
`,
);

/** ARGV: P, now, fundId ('' = global) → the new epoch. */
export const BUMP_EPOCH_SCRIPT = script(
  "bump-epoch",
  `
if ARGV[3] == '' then return redis.call('INCR', K_GEPOCH) end
return redis.call('INCR', k_fepoch(ARGV[3]))
`,
);

/**
 * ARGV: P, now, matrixKey, dryRun('1'|'0') → live entries removed (or that would be). Bumps the entry's
 * fund epoch before deleting; an entry whose fund is unknown (absent or already pruned) bumps nothing.
 */
export const INVALIDATE_MATRIX_SCRIPT = script(
  "invalidate-matrix",
  `
local mk = ARGV[3]
if ARGV[4] == '1' then return redis.call('EXISTS', k_matrix(mk)) end
local fund = redis.call('HGET', K_FUND, mk)
-- An absent entry's fund is unknown here, yet a back-fill may be in flight for it: move the global
-- epoch then, so that write is rejected (other funds' in-flight writes merely skip caching once).
if fund then redis.call('INCR', k_fepoch(fund)) else redis.call('INCR', K_GEPOCH) end
local n = redis.call('UNLINK', k_matrix(mk))
unaccount(mk)
return n
`,
);

/** ARGV: P, now, fundId, matrixKey... → live entries removed among this chunk of the fund's index. */
export const DELETE_CHUNK_SCRIPT = script(
  "delete-chunk",
  `
local fund = ARGV[3]
local fi = k_index(fund)
local n = 0
for i = 4, #ARGV do
  local mk = ARGV[i]
  n = n + redis.call('UNLINK', k_matrix(mk))
  unaccount(mk)
  redis.call('SREM', fi, mk)
end
if redis.call('SCARD', fi) == 0 then redis.call('SREM', K_FUNDS, fund) end
return n
`,
);

/** ARGV: P, now, matrixKey... (distinct) → how many are live. */
export const COUNT_LIVE_SCRIPT = script(
  "count-live",
  `
local n = 0
for i = 3, #ARGV do n = n + redis.call('EXISTS', k_matrix(ARGV[i])) end
return n
`,
);

/** ARGV: P, now, fundId ('' = all) → {pruned, entries, bytes}; call again while pruned == PRUNE_LIMIT. */
export const STORAGE_SCRIPT = script(
  "storage",
  `
local pruned = prune()
local t = K_TOT
if ARGV[3] ~= '' then t = k_ftot(ARGV[3]) end
local v = redis.call('HMGET', t, 'entries', 'bytes')
return {pruned, tonumber(v[1] or '0'), tonumber(v[2] or '0')}
`,
);

/**
 * ARGV: P, now, then per op either
 *   'h'|'f', key, field, by, ttlSec   (HINCRBY / HINCRBYFLOAT)
 *   'z', key, member, score, keep, ttlSec
 * A ttlSec > 0 (re)sets the counter's expiry on every update.
 */
export const APPLY_SCRIPT = script(
  "apply",
  `
local i = 3
local n = 0
while i <= #ARGV do
  local op = ARGV[i]
  local k = P .. '${HOT_KEY.counter}' .. ARGV[i + 1]
  local ttl
  if op == 'h' then
    redis.call('HINCRBY', k, ARGV[i + 2], ARGV[i + 3])
    ttl = tonumber(ARGV[i + 4])
    i = i + 5
  elseif op == 'f' then
    redis.call('HINCRBYFLOAT', k, ARGV[i + 2], ARGV[i + 3])
    ttl = tonumber(ARGV[i + 4])
    i = i + 5
  elseif op == 'z' then
    redis.call('ZADD', k, ARGV[i + 3], ARGV[i + 2])
    redis.call('ZREMRANGEBYRANK', k, 0, -(tonumber(ARGV[i + 4]) + 1))
    ttl = tonumber(ARGV[i + 5])
    i = i + 6
  else
    return redis.error_reply('unknown counter op ' .. tostring(op))
  end
  if ttl > 0 then redis.call('EXPIRE', k, ttl) end
  n = n + 1
end
return n
`,
);

/** ARGV: P, now, key... → {{field, value, ...}, ...} (a missing hash is an empty list). */
export const READ_HASHES_SCRIPT = script(
  "read-hashes",
  `
local out = {}
for i = 3, #ARGV do out[#out + 1] = redis.call('HGETALL', P .. '${HOT_KEY.counter}' .. ARGV[i]) end
return out
`,
);

/** ARGV: P, now, key, n → {member, score, ...} highest first. */
export const READ_TOP_SCRIPT = script(
  "read-top",
  `
local n = tonumber(ARGV[4])
if n <= 0 then return {} end
return redis.call('ZREVRANGE', P .. '${HOT_KEY.counter}' .. ARGV[3], 0, n - 1, 'WITHSCORES')
`,
);

/** Every script the store runs (e.g. to SCRIPT LOAD them ahead of traffic). */
export const HOT_SCRIPTS = [
  READ_SCRIPT,
  WRITE_SCRIPT,
  REMOVE_SCRIPT,
  BUMP_EPOCH_SCRIPT,
  INVALIDATE_MATRIX_SCRIPT,
  DELETE_CHUNK_SCRIPT,
  COUNT_LIVE_SCRIPT,
  STORAGE_SCRIPT,
  APPLY_SCRIPT,
  READ_HASHES_SCRIPT,
  READ_TOP_SCRIPT,
] as const;

/** Arguments a driver can send: binary values travel as Buffers (ioredis) or base64 text (Upstash). */
export type ScriptArg = string | Buffer;

/** The few driver calls the scripted store needs; each adapter binds it to its client. */
export interface ScriptHost {
  evalsha(sha: string, args: readonly ScriptArg[]): Promise<unknown>;
  eval(source: string, args: readonly ScriptArg[]): Promise<unknown>;
  /** One SSCAN page of a set (never a keyspace SCAN). */
  sscan(key: string, cursor: string, count: number): Promise<{ cursor: string; members: string[] }>;
  /**
   * Optional plain-command read: GET the entry and MGET the two epochs in one pipelined round trip.
   * Faster than READ_SCRIPT for large values (a script copies the value into Lua and back).
   */
  readPipelined?(valueKey: string, epochKeys: readonly [string, string]): Promise<[unknown, unknown, unknown]>;
  /** A plain GET of one key (the hit path). */
  get(key: string): Promise<unknown>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How an adapter puts entry bytes into a script argument and gets them back from a reply. */
export interface ValueCodec {
  encode(value: Uint8Array): ScriptArg;
  decode(raw: unknown): Uint8Array;
}

/** A reply that does not have the shape the script returns: a driver or protocol bug, not a miss. */
export class HotStoreReplyError extends Error {
  override readonly name = "HotStoreReplyError";
  constructor(
    readonly script: string,
    readonly reply: unknown,
    options?: { cause?: unknown },
  ) {
    super(`unexpected reply from hot-store script "${script}": ${String(reply).slice(0, 200)}`, options);
  }
}

function isNoScript(e: unknown): boolean {
  return e instanceof Error && /NOSCRIPT/i.test(e.message);
}

/** EVALSHA first (the usual case: the script is cached server-side); EVAL once after a NOSCRIPT. */
export async function runScript(host: ScriptHost, s: LuaScript, args: readonly ScriptArg[]): Promise<unknown> {
  try {
    return await host.evalsha(s.sha, args);
  } catch (e) {
    if (!isNoScript(e)) throw e;
    return host.eval(s.source, args);
  }
}

/** Text of a bulk reply whichever way the driver hands it over (Buffer, string or integer). */
export function replyText(x: unknown): string {
  if (typeof x === "string") return x;
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("utf8");
  if (typeof x === "number" || typeof x === "bigint") return String(x);
  throw new TypeError(`not a text reply: ${typeof x}`);
}

function replyNumber(x: unknown): number {
  const n = typeof x === "number" ? x : Number(replyText(x));
  if (!Number.isFinite(n)) throw new TypeError(`not a numeric reply: ${String(x)}`);
  return n;
}

/** What the two Redis adapters hand the shared store besides their ScriptHost. */
export interface ScriptedHotStoreOptions {
  readonly prefix: string;
  /** Clock for expiry deadlines and pruning; it sets absolute Redis expiries, so it must track real time. */
  readonly now: () => number;
  readonly codec: ValueCodec;
}

function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

function encodeOps(ops: readonly CounterOp[]): string[] {
  const out: string[] = [];
  for (const o of ops) {
    const ttl = o.ttlSec > 0 ? String(Math.ceil(o.ttlSec)) : "0";
    if (o.op === "hincr") {
      if (!Number.isFinite(o.by)) throw new RangeError(`hincr by must be finite, got ${o.by}`);
      out.push(Number.isSafeInteger(o.by) ? "h" : "f", o.key, o.field, String(o.by), ttl);
    } else {
      if (!Number.isFinite(o.score)) throw new RangeError(`ztop score must be finite, got ${o.score}`);
      out.push("z", o.key, o.member, String(o.score), String(Math.max(0, Math.floor(o.keep))), ttl);
    }
  }
  return out;
}

/** The HotStore over any ScriptHost; `kind` says which transport the adapter uses. */
export function createScriptedHotStore(
  kind: "redis" | "upstash",
  host: ScriptHost,
  opts: ScriptedHotStoreOptions,
): HotStore {
  const { prefix, codec } = opts;
  const keys = hotKeys(prefix);
  const run = (s: LuaScript, ...rest: ScriptArg[]) => runScript(host, s, [prefix, String(Math.floor(opts.now())), ...rest]);
  const asArray = (s: LuaScript, r: unknown): unknown[] => {
    if (!Array.isArray(r)) throw new HotStoreReplyError(s.name, r);
    return r;
  };

  // Walks one fund index page by page (SSCAN over that set only). SSCAN may repeat a member, so pages are
  // de-duplicated before counting; deleting members already returned is the pattern SSCAN allows.
  async function forEachIndexPage(fundId: string, visit: (members: string[]) => Promise<void>): Promise<void> {
    const seen = new Set<string>();
    let cursor = "0";
    do {
      const page = await host.sscan(keys.fundIndex(fundId), cursor, INVALIDATE_CHUNK);
      cursor = page.cursor;
      const fresh = page.members.filter((m) => !seen.has(m));
      for (const m of fresh) seen.add(m);
      for (let i = 0; i < fresh.length; i += INVALIDATE_CHUNK) await visit(fresh.slice(i, i + INVALIDATE_CHUNK));
    } while (cursor !== "0");
  }

  async function clearFund(fundId: string, dryRun: boolean): Promise<number> {
    let n = 0;
    await forEachIndexPage(fundId, async (members) => {
      const s = dryRun ? COUNT_LIVE_SCRIPT : DELETE_CHUNK_SCRIPT;
      const r = dryRun ? await run(s, ...members) : await run(s, fundId, ...members);
      n += replyNumber(r);
    });
    return n;
  }

  async function allFunds(): Promise<string[]> {
    const funds = new Set<string>();
    let cursor = "0";
    do {
      const page = await host.sscan(keys.funds, cursor, INVALIDATE_CHUNK);
      cursor = page.cursor;
      for (const f of page.members) funds.add(f);
    } while (cursor !== "0");
    return [...funds];
  }

  return {
    kind,

    async peek(matrixKey) {
      const raw = await host.get(keys.matrix(matrixKey));
      return raw === null || raw === undefined ? null : codec.decode(raw);
    },

    async read(matrixKey, fundId) {
      // The epochs need not be read atomically with the value: they only guard a later write.
      const r = host.readPipelined
        ? await host.readPipelined(keys.matrix(matrixKey), [keys.globalEpoch, keys.fundEpoch(fundId)]).then(([v, g, f]) => [g ?? "0", f ?? "0", v])
        : asArray(READ_SCRIPT, await run(READ_SCRIPT, matrixKey, fundId));
      const epoch: EpochToken = `${replyText(r[0])}:${replyText(r[1])}`;
      const raw = r[2];
      return { value: raw === null || raw === undefined ? null : codec.decode(raw), epoch };
    },

    async write(entry) {
      const ttl = checkTtl(entry.ttlMs);
      const r = replyText(
        await run(
          WRITE_SCRIPT,
          entry.matrixKey,
          entry.fundId,
          codec.encode(entry.value),
          String(ttl),
          String(entry.value.byteLength),
          entry.epoch,
        ),
      );
      if (r !== "stored" && r !== "stale-epoch") throw new HotStoreReplyError(WRITE_SCRIPT.name, r);
      return r satisfies HotWriteOutcome;
    },

    async remove(matrixKey) {
      return replyNumber(await run(REMOVE_SCRIPT, matrixKey));
    },

    async invalidate(scope: InvalidationScope, { dryRun }) {
      switch (scope.kind) {
        case "matrix":
          return replyNumber(await run(INVALIDATE_MATRIX_SCRIPT, scope.matrixKey, dryRun ? "1" : "0"));
        case "fund":
          // the epoch moves first: a writer that read before this point is rejected from now on
          if (!dryRun) await run(BUMP_EPOCH_SCRIPT, scope.fundId);
          return clearFund(scope.fundId, dryRun);
        case "all": {
          if (!dryRun) await run(BUMP_EPOCH_SCRIPT, "");
          let n = 0;
          for (const fundId of await allFunds()) n += await clearFund(fundId, dryRun);
          return n;
        }
      }
    },

    async storage(fundId) {
      for (;;) {
        const r = asArray(STORAGE_SCRIPT, await run(STORAGE_SCRIPT, fundId ?? ""));
        if (replyNumber(r[0]) >= PRUNE_LIMIT) continue; // more expired entries than one script prunes
        return { entriesCount: Math.max(0, replyNumber(r[1])), totalSizeBytes: Math.max(0, replyNumber(r[2])) };
      }
    },

    async apply(ops) {
      if (ops.length === 0) return;
      await run(APPLY_SCRIPT, ...encodeOps(ops));
    },

    async readHashes(hashKeys) {
      if (hashKeys.length === 0) return [];
      const r = asArray(READ_HASHES_SCRIPT, await run(READ_HASHES_SCRIPT, ...hashKeys));
      return r.map((flat) => {
        const pairs = asArray(READ_HASHES_SCRIPT, flat);
        const out: Record<string, number> = {};
        for (let i = 0; i + 1 < pairs.length; i += 2) out[replyText(pairs[i])] = replyNumber(pairs[i + 1]);
        return out;
      });
    },

    async readTop(key, n) {
      const r = asArray(READ_TOP_SCRIPT, await run(READ_TOP_SCRIPT, key, String(Math.floor(n))));
      const out: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < r.length; i += 2) out.push({ member: replyText(r[i]), score: replyNumber(r[i + 1]) });
      return out;
    },

    ping: () => host.ping(),
    close: () => host.close(),
  };
}
