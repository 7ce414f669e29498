import test from "ava";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode, listenersOf, REPLY_TYPE, seal } from "@corral/contracts";
import { TestCell, eventually } from "@corral/testkit";

let cell: TestCell;
let nc: NatsConnection;
test.before(async () => {
  cell = await TestCell.start("refusals", { borglets: 2 });
  // As the cell owner's tools: every listener is reachable, to be sent garbage.
  nc = await cell.connectAs("operator");
});
test.after.always(async () => {
  await nc?.drain().catch(() => {});
  await cell?.stop();
});

const GOOD_SPEC = `job fine = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
}`;

function malformedPayloads(cellName: string): [string, Uint8Array][] {
  return [
    ["random bytes", new Uint8Array([0xc1, 0xff, 0x00, 0x13, 0x37])],
    ["empty", new Uint8Array()],
    ["json text", new TextEncoder().encode('{"v":1}')],
    ["a bare number", encode(42)],
    ["an envelope without a body", encode({ v: 1, type: "x", id: "1", ts: 1, cell: cellName })],
    ["a wrong version", encode({ v: 9, type: "api.submit", id: "1", ts: 1, cell: cellName, body: {} })],
    ["another cell", seal("api.submit", "elsewhere", {})],
    ["a wrong type", seal("no.such.type", cellName, {})],
    ["a body of the wrong shape", seal("api.submit", cellName, { spec: { name: "BAD NAME" }, user: 5 })],
    ["a huge string", seal("node.heartbeat", cellName, { node: "x".repeat(100_000) })],
  ];
}

test.serial("malformed messages on every subject a service listens to are refused without crashing it", async (t) => {
  const cellName = cell.cell.cell;
  const listeners = listenersOf(cellName, "borglet-0");
  t.true(listeners.length >= 8);
  for (const listener of listeners) {
    for (const [label, payload] of malformedPayloads(cellName)) {
      if (listener.kind === "rpc") {
        const reply = await nc.request(listener.subject, payload, { timeout: 5000 });
        const envelope = decode(reply.data) as { type: string; body: { ok: boolean; error?: { code: string } } };
        t.is(envelope.type, REPLY_TYPE, `${listener.subject} ← ${label}`);
        t.false(envelope.body.ok, `${listener.subject} refused ${label}`);
        t.is(envelope.body.error?.code, "bad_request", `${listener.subject} ← ${label}`);
      } else {
        nc.publish(listener.subject, payload);
      }
    }
  }
  await nc.flush();
  // Every service is still there and the cell still works end to end.
  for (const p of cell.cell.processes) t.true(cell.alive(p.name), `${p.name} survived`);
  const nodes = await cell.nodes();
  t.is(nodes.filter((node) => node.state === "up").length, 2);
  const job = await cell.submit(GOOD_SPEC);
  await eventually("the job to run", async () => ((await cell.job(job.id)).summary.running === 1 ? true : undefined), 20_000);
  t.regex(cell.logOf("borglet-0"), /refused malformed message/);
});

test.serial("a bad spec over HTTP gets 400 naming the field, and changes nothing", async (t) => {
  const before = await cell.jobs();
  const cases: { body: unknown; field: RegExp; message: RegExp }[] = [
    { body: { source: GOOD_SPEC.replace("replicas = 1", "replicas = 0"), file: "bad.borg" }, field: /replicas/, message: /replicas/ },
    { body: { source: GOOD_SPEC.replace("ram = 10M", "ram = 10Q"), file: "bad.borg" }, field: /requirements\.ram/, message: /bad\.borg:4/ },
    { body: { source: "job: x\nbinary: [1, 2\n", file: "bad.yaml" }, field: /.*/, message: /bad\.yaml:\d+/ },
    { body: { source: GOOD_SPEC.replace("replicas = 1", "replicas = 1\n  colour = 'red'"), file: "bad.borg" }, field: /colour/, message: /colour/ },
    { body: { nonsense: true }, field: /body/, message: /body/ },
    { body: "this is not a spec", field: /.*/, message: /request\.borg:1/ },
    // Corral's own label keys: a job calling itself a federation's member would vanish from ps.
    { body: { source: GOOD_SPEC.replace("replicas = 1", "replicas = 1\n  labels = { 'corral/federation' = 'x.tester' }"), file: "bad.borg" }, field: /^labels\.corral\/federation$/, message: /Corral's own/ },
  ];
  for (const { body, field, message } of cases) {
    const result = await cell.http<{ error: { code: string; message: string; field?: string } }>("POST", "/v1/jobs", body);
    t.is(result.status, 400, JSON.stringify(body).slice(0, 80));
    t.is(result.body.error.code, "bad_request");
    t.regex(result.body.error.message, message);
    t.regex(result.body.error.field ?? "", field);
  }
  const invalidJson = await fetch(`${cell.gateway}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${cell.adminToken}` }, body: "{nope" });
  t.is(invalidJson.status, 400);
  t.deepEqual((await cell.jobs()).map((job) => job.id), before.map((job) => job.id), "no job was added");
  t.is((await cell.http("GET", "/v1/jobs/no_such_job")).status, 404);
  t.is((await cell.http("DELETE", "/v1/jobs/Bad Name")).status, 400);
});

test("exhaustion: specs nested too deep, bodies too large and clients too slow are refused, and the gateway goes on serving", async (t) => {
  const deepText = await cell.http<{ error: { code: string; message: string } }>("POST", "/v1/jobs", { source: `{"job": "deep", "args": ${"[".repeat(900_000)}}`, format: "json" });
  t.is(deepText.status, 400);
  t.regex(deepText.body.error.message, /nested more than 64 levels deep/);
  const deepSpec = await fetch(`${cell.gateway}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${cell.adminToken}` }, body: `{"spec": {"job": "deep", "args": ${"[".repeat(100_000)}1${"]".repeat(100_000)}}}` });
  t.is(deepSpec.status, 400);
  t.regex(((await deepSpec.json()) as { error: { message: string } }).error.message, /nested/);
  t.is((await cell.http("POST", "/v1/jobs", { source: "x".repeat(1_100_000) })).status, 413);
  t.is((await cell.http("GET", "/v1/healthz")).status, 200, "still serving");

  // A client that sends half a request and waits is cut off rather than holding its connection.
  const { connect: connectTcp } = await import("node:net");
  const url = new URL(cell.gateway);
  const socket = connectTcp(Number(url.port), url.hostname);
  t.teardown(() => socket.destroy());
  socket.write("POST /v1/jobs HTTP/1.1\r\nHost: x\r\n");
  const answer = await new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("close", () => resolve(text));
  });
  t.regex(answer, /^HTTP\/1\.1 408/);
});
