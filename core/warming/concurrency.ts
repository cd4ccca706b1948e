// Bounded-concurrency map: used wherever many independent I/O calls must not all be in flight at once.

/** Maps `items` with at most `limit` calls of `f` in flight; results are in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    // each worker claims the next index synchronously, so no index is taken twice
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
