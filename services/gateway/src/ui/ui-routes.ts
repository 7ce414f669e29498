import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { UiConfig } from "./ui-config.js";

/** services/gateway/ui: the gateway runs its sources (tsx), so the files sit two levels up from this one. */
const UI_DIR = new URL("../../ui/", import.meta.url);

/** Each of the page's files with its type: a browser refuses a script or style sheet served as anything else. */
const FILES = [
  { path: "/ui", file: "index.html", type: "text/html; charset=utf-8" },
  { path: "/ui/sigma.css", file: "sigma.css", type: "text/css; charset=utf-8" },
  { path: "/ui/sigma.js", file: "sigma.js", type: "text/javascript; charset=utf-8" },
] as const;

/**
 * Sigma, the web UI (ui/index.html, ui/sigma.css, ui/sigma.js), at `/ui`; `/` leads there.
 * The live updates it listens to are `GET /v1/stream` (live-stream.ts).
 */
export function registerUi(app: FastifyInstance, config: UiConfig): void {
  for (const { path, file, type } of FILES) {
    // Read once at start: a file missing from an install fails the gateway's start, not a browser's request.
    const body = readFileSync(new URL(file, UI_DIR));
    app.get(path, async (_request, reply) => reply.header("content-type", type).send(body));
  }
  app.get("/ui/config.json", async () => config);
  app.get("/", async (_request, reply) => reply.redirect("/ui"));
}
