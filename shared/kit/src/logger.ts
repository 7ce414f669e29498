import { pino, type Logger } from "pino";

export type { Logger };

/**
 * pino JSON logs, one line per event, always carrying `service` and `cell`; callers add
 * `job` and `task` with `log.child({ job, task })` where a line concerns one.
 */
export function createLogger(service: string, cell: string, fields: Record<string, unknown> = {}, level = process.env["CORRAL_LOG_LEVEL"] ?? "info"): Logger {
  return pino({
    base: { service, cell, pid: process.pid, ...fields },
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
