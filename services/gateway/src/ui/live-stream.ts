import type { FastifyInstance } from "fastify";
import { subjects } from "@corral/contracts";
import type { NatsConnection } from "@corral/kit";

/** A comment line now and then keeps proxies and browsers from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * `GET /v1/stream`: server-sent events for the UI (and anyone): one `tasks` event per
 * batch of committed task changes in any of `cells`, with the batch's size and its cell;
 * clients fetch what they show.
 */
export function registerLiveStream(app: FastifyInstance, nc: NatsConnection, cells: readonly string[]): void {
  // Open streams never end by themselves: closing the gateway ends them, or it would wait forever.
  const open = new Set<() => void>();
  app.addHook("onClose", async () => {
    for (const end of open) end();
  });
  app.get("/v1/stream", (request, reply) => {
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    out.write("retry: 2000\n\n");
    const subscriptions = cells.map((cell) =>
      nc.subscribe(subjects.taskEvents(cell), {
        callback: (error, message) => {
          if (error !== null) return;
          // The batch itself stays on NATS: its size is enough to tell a client to look again.
          out.write(`event: tasks\ndata: ${JSON.stringify({ cell, bytes: message.data.length })}\n\n`);
        },
      }),
    );
    const keepalive = setInterval(() => out.write(": keepalive\n\n"), KEEPALIVE_MS);
    const end = () => {
      if (!open.delete(end)) return;
      clearInterval(keepalive);
      for (const subscription of subscriptions) subscription.unsubscribe();
      out.end();
    };
    open.add(end);
    request.raw.on("close", end);
  });
}
