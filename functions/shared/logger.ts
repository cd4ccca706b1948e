// Binds core's Log port to Powertools Logger: one JSON object per line, with service and level.
import { Logger } from "@aws-lambda-powertools/logger";
import type { Log } from "../../core/shared/log";

export function createLog(serviceName: string, level = process.env.LOG_LEVEL ?? "INFO"): Log {
  const logger = new Logger({ serviceName, logLevel: level as "INFO" });
  return {
    debug: (m, d) => logger.debug(m, d ?? {}),
    info: (m, d) => logger.info(m, d ?? {}),
    warn: (m, d) => logger.warn(m, d ?? {}),
    error: (m, d) => logger.error(m, d ?? {}),
  };
}
