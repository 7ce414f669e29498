import type { Logger } from "../logger.js";
import { ConnectionMetrics } from "./connection-metrics.js";
import { serveMetrics, type MetricsExporter } from "./exporter.js";
import { collectProcessMetrics, createMetricsRegistry, type Registry } from "./registry.js";

/** what the exporter listens on, from the shared flags */
export interface MetricsFlags {
  metricsPort: number;
  metricsHost: string;
}

/**
 * What every service starts with: its registry (where it adds metrics of its own), the
 * connection counters its NATS and Redis helpers take, and the exporter its flags ask for.
 */
export class ServiceMetrics {
  readonly registry: Registry;
  readonly connections: ConnectionMetrics;
  private exporter: MetricsExporter | undefined;

  constructor(service: string, cell: string) {
    this.registry = createMetricsRegistry(service, cell);
    this.connections = new ConnectionMetrics(this.registry);
  }

  /** Serves /metrics as the flags say (port 0: not at all); start it before connecting, so trouble connecting shows. */
  async serve(flags: MetricsFlags, log: Logger): Promise<void> {
    if (flags.metricsPort === 0) return;
    collectProcessMetrics(this.registry);
    this.exporter = await serveMetrics(this.registry, { host: flags.metricsHost, port: flags.metricsPort }, log);
    log.info({ metrics: this.exporter.url }, "metrics exported");
  }

  async close(): Promise<void> {
    await this.exporter?.close();
    this.exporter = undefined;
  }
}
