import { z } from "zod";

/** The command-line flags every service takes for its exporter (see `loadFlags`). */
export const METRICS_FLAG_OPTIONS = {
  "metrics-port": { type: "string", default: "0" },
  "metrics-host": { type: "string", default: "127.0.0.1" },
} as const;

export const metricsFlagShape = {
  /** the port of the service's /metrics; 0: no exporter */
  metricsPort: z.coerce.number().int().min(0).max(65535),
  /** the address it listens on: loopback unless a Prometheus elsewhere must reach it */
  metricsHost: z.string().min(1),
};

export interface MetricsFlags {
  metricsPort: number;
  metricsHost: string;
}
