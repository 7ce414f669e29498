import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../logger.js";

export interface MetricsExporter {
  /** where Prometheus scrapes it, e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the registry's text format on `GET /metrics` and nothing else. Port 0 takes any
 * free port (tests); a port that cannot be had is an error, not a silent lack of metrics.
 */
export async function serveMetrics(registry: Registry, where: { host: string; port: number }, log: Logger): Promise<MetricsExporter> {
  const server = createServer((request, response) => void answer(registry, request, response, log));
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(new Error(`cannot serve metrics on ${where.host}:${where.port}: ${error.message}`));
    server.once("error", failed);
    server.listen({ host: where.host, port: where.port }, () => {
      server.off("error", failed);
      resolve();
    });
  });
  server.on("error", (error) => log.warn({ err: error.message }, "metrics server error"));
  const { port } = server.address() as AddressInfo;
  const host = where.host.includes(":") ? `[${where.host}]` : where.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection would otherwise hold the close for seconds.
        server.closeAllConnections();
      }),
  };
}

async function answer(registry: Registry, request: IncomingMessage, response: ServerResponse, log: Logger): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  if (path !== "/metrics") {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are at /metrics\n");
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" }).end("method not allowed\n");
    return;
  }
  try {
    const text = await registry.metrics();
    response.writeHead(200, { "content-type": registry.contentType }).end(request.method === "HEAD" ? undefined : text);
  } catch (error) {
    // A collect callback that throws must not take the service down: the scrape fails instead.
    log.warn({ err: (error as Error).message }, "could not collect metrics");
    response.writeHead(500, { "content-type": "text/plain" }).end(`could not collect metrics: ${(error as Error).message}\n`);
  }
}
