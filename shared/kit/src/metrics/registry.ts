import { collectDefaultMetrics, Registry } from "prom-client";

export type { Registry };

/**
 * A process's own registry (not prom-client's global one, so nothing a library registers
 * there ends up on a service's page). Every series carries `service` and `cell`, as every
 * log line does; which process it came from is the scrape target's `instance`.
 */
export function createMetricsRegistry(service: string, cell: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, cell });
  return registry;
}

/**
 * Node's default process metrics (cpu, memory, event loop lag, GC, handles). They watch the
 * event loop and GC all the time, so only a process that exports its metrics turns them on.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}
