import type { Logger } from "./logger.js";

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits. A second signal, or a stop that takes
 * longer than `timeoutMs`, exits at once: a stuck dependency must not keep a service alive.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, timeoutMs = 10_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}

/**
 * A timeout of the NATS client's own that nothing awaited: under heavy load the client
 * leaves one now and then (seen on a gateway of a four-host cell, about one load run in
 * five; its caller could not be found, the stack being only the client's timer). The call
 * that set it has had its own answer or error by then, so it is logged, not fatal.
 */
function isOrphanedNatsTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === "TimeoutError" && /@nats-io[\\/]nats-core/.test(error.stack ?? "");
}

/** Logs and exits on what nothing else caught: a service in an unknown state must not limp on. */
export function exitOnUncaught(log: Logger): void {
  const fatal = (error: unknown, origin: string) => {
    if (origin === "unhandledRejection" && isOrphanedNatsTimeout(error)) {
      log.error({ err: error, origin }, "a NATS client timeout nothing awaited; going on");
      return;
    }
    log.fatal({ err: error, origin }, origin === "unhandledRejection" ? "unhandled rejection" : "uncaught exception");
    process.exit(1);
  };
  // Where it came from matters: a throw nothing caught, or a rejection nothing handled.
  process.on("uncaughtException", (error, origin) => fatal(error, origin));
  process.on("unhandledRejection", (error) => fatal(error, "unhandledRejection"));
}
