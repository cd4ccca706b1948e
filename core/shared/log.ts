// The logging port core code writes to; functions/ binds it to Powertools Logger (structured JSON).
export interface Log {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** A log that drops everything (tests that do not look at logs). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** Milliseconds since the epoch; injected so tests can move time. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

/** A log whose every line carries `keys` (e.g. the request id). */
export function withKeys(log: Log, keys: Record<string, unknown>): Log {
  return {
    debug: (m, d) => log.debug(m, { ...keys, ...d }),
    info: (m, d) => log.info(m, { ...keys, ...d }),
    warn: (m, d) => log.warn(m, { ...keys, ...d }),
    error: (m, d) => log.error(m, { ...keys, ...d }),
  };
}
