import test from "ava";
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { registerUi } from "../src/ui/ui-routes.js";

/** The UI's static files as the gateway serves them, without a cell: the routes need none. */
async function gateway(config = { home: "a", cells: ["a", "b"], federated: true }) {
  const app = Fastify({ logger: false });
  registerUi(app, config);
  await app.ready();
  return app;
}

const UI_FILE = (name: string) => readFileSync(new URL(`../ui/${name}`, import.meta.url), "utf8");

test("/ui serves the page, its style sheet and its script, each with the type a browser needs", async (t) => {
  const app = await gateway();
  const page = await app.inject({ method: "GET", url: "/ui" });
  t.is(page.statusCode, 200);
  t.is(page.headers["content-type"], "text/html; charset=utf-8");
  t.is(page.body, UI_FILE("index.html"));
  t.regex(page.body, /<link rel="stylesheet" href="\/ui\/sigma\.css">/);
  t.regex(page.body, /<script type="module" src="\/ui\/sigma\.js"><\/script>/);
  for (const [url, type, file] of [
    ["/ui/sigma.css", "text/css; charset=utf-8", "sigma.css"],
    ["/ui/sigma.js", "text/javascript; charset=utf-8", "sigma.js"],
  ] as const) {
    const reply = await app.inject({ method: "GET", url });
    t.is(reply.statusCode, 200, url);
    t.is(reply.headers["content-type"], type, url);
    t.is(reply.body, UI_FILE(file), url);
  }
  await app.close();
});

test("the page learns its cells from /ui/config.json, not from its HTML", async (t) => {
  const federated = await gateway();
  t.deepEqual((await federated.inject({ method: "GET", url: "/ui/config.json" })).json(), { home: "a", cells: ["a", "b"], federated: true });
  const single = await gateway({ home: "local", cells: ["local"], federated: false });
  const config = await single.inject({ method: "GET", url: "/ui/config.json" });
  t.regex(config.headers["content-type"] as string, /^application\/json/);
  t.deepEqual(config.json(), { home: "local", cells: ["local"], federated: false });
  // The same page behind every gateway: nothing of a cell's is in it.
  t.is((await single.inject({ method: "GET", url: "/ui" })).body, (await federated.inject({ method: "GET", url: "/ui" })).body);
  await Promise.all([federated.close(), single.close()]);
});

test("/ leads to /ui", async (t) => {
  const app = await gateway();
  const reply = await app.inject({ method: "GET", url: "/" });
  t.is(reply.statusCode, 302);
  t.is(reply.headers.location, "/ui");
  await app.close();
});

test("every element the script looks up is in the page", (t) => {
  const page = UI_FILE("index.html");
  const script = UI_FILE("sigma.js");
  const ids = [...script.matchAll(/byId\("([^"]+)"\)/g)].map((match) => match[1]!);
  const selectors = [...script.matchAll(/one\("#([\w-]+) tbody"\)/g)].map((match) => match[1]!);
  t.true(ids.length > 5 && selectors.length >= 4, "the script's look-ups were found");
  for (const id of [...ids, ...selectors]) t.regex(page, new RegExp(`id="${id}"`), `#${id}`);
});
