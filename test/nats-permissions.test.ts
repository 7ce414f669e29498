import test from "ava";
import { jetstream } from "@nats-io/jetstream";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { subjects } from "@corral/contracts";
import { connectNats, createLogger, newNatsSeed, natsPublicKeyOf, readNatsCredentials } from "@corral/kit";
import { eventually, startTestNats, testDir, type SecuredTestNats } from "@corral/testkit";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

// A real nats-server with the authorization config a cell's launcher writes: each client is
// let in by its own NKey and may use only its subjects.
const CELL = "perm";
let server: SecuredTestNats;
const connections: NatsConnection[] = [];
const log = createLogger("nats-permissions-test", CELL);

test.before(async () => {
  server = await startTestNats("nats-permissions", {
    clients: [
      { name: "master-0", grant: { role: "master", cell: CELL } },
      { name: "scheduler-0", grant: { role: "scheduler", cell: CELL } },
      { name: "gateway", grant: { role: "gateway", cells: [CELL] } },
      { name: "borglet-a", grant: { role: "borglet", cell: CELL, node: "a" } },
      { name: "borglet-b", grant: { role: "borglet", cell: CELL, node: "b" } },
      { name: "submit-alice", grant: { role: "submitter", cell: CELL, user: "alice" } },
      { name: "operator", grant: { role: "operator", cell: CELL } },
    ],
  });
});
test.after.always(async () => {
  for (const nc of connections) await nc.close().catch(() => {});
  await server?.stop();
});

async function as(client: string): Promise<NatsConnection> {
  const nc = await connectNats(server.url, client, log, { credentials: server.credentials(client) });
  connections.push(nc);
  return nc;
}

/** What `nc` is told the server refused (nats.js reports a permissions violation as a status error). */
function refusals(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const status of nc.status()) if (status.type === "error") seen.push(status.error.message);
  })();
  return seen;
}

/** Every message on `subject` that reaches `nc`. */
async function received(nc: NatsConnection, subject: string): Promise<Msg[]> {
  const messages: Msg[] = [];
  nc.subscribe(subject, { callback: (_error, message) => void messages.push(message) });
  await nc.flush();
  return messages;
}

test("a connection without credentials, or with a key the config does not list, is refused", async (t) => {
  const anonymous = await t.throwsAsync(connect({ servers: server.url, reconnect: false }));
  t.regex(anonymous?.message ?? "", /authorization/i);
  const dir = testDir("nats-stranger");
  const file = join(dir, "stranger.nk");
  const seed = newNatsSeed();
  writeFileSync(file, `${seed}\n`, { mode: 0o600 });
  const stranger = readNatsCredentials(file);
  t.is(stranger.publicKey, natsPublicKeyOf(seed));
  const refused = await t.throwsAsync(connect({ servers: server.url, reconnect: false, authenticator: stranger.authenticator }));
  t.regex(refused?.message ?? "", /authorization/i);
});

test("a borglet publishes only its own machine's heartbeats and events; a forged one never arrives", async (t) => {
  const master = await as("master-0");
  const heartbeatsOfB = await received(master, subjects.nodeHeartbeat(CELL, "b"));
  const heartbeatsOfA = await received(master, subjects.nodeHeartbeat(CELL, "a"));
  const eventsOfB = await received(master, subjects.nodeEvents(CELL, "b"));
  const a = await as("borglet-a");
  const told = refusals(a);
  a.publish(subjects.nodeHeartbeat(CELL, "b"), "forged");
  a.publish(subjects.nodeEvents(CELL, "b"), "forged");
  // Its own heartbeat, sent after on the same connection, arrives after the forged ones would have.
  a.publish(subjects.nodeHeartbeat(CELL, "a"), "own");
  await eventually("a's own heartbeat", () => (heartbeatsOfA.length === 1 ? true : undefined), 10_000);
  await master.flush();
  t.is(heartbeatsOfB.length, 0);
  t.is(eventsOfB.length, 0);
  await eventually("the server to tell a why", () => (told.some((m) => /permissions violation/i.test(m)) ? true : undefined), 10_000);
});

test("only masters send machines their leases: a borglet, the scheduler and the gateway cannot", async (t) => {
  const a = await as("borglet-a");
  const commands = await received(a, subjects.nodeCommands(CELL, "a"));
  for (const client of ["borglet-b", "scheduler-0", "gateway", "submit-alice"]) {
    const forger = await as(client);
    forger.publish(subjects.nodeCommands(CELL, "a"), `forged by ${client}`);
    await forger.flush();
  }
  const master = await as("master-0");
  master.publish(subjects.nodeCommands(CELL, "a"), "from the leader");
  await eventually("the leader's command", () => (commands.some((m) => m.string() === "from the leader") ? true : undefined), 10_000);
  t.deepEqual(
    commands.map((m) => m.string()),
    ["from the leader"],
  );
});

test("a borglet cannot listen to another machine's commands, nor anyone to another client's replies", async (t) => {
  const a = await as("borglet-a");
  const sub = a.subscribe(subjects.nodeCommands(CELL, "b"));
  const closed = await sub.closed;
  t.regex(closed instanceof Error ? closed.message : "subscription not refused", /permissions violation/i);
  const gateway = await as("gateway");
  const eavesdrop = gateway.subscribe("_INBOX.>");
  const why = await eavesdrop.closed;
  t.regex(why instanceof Error ? why.message : "subscription not refused", /permissions violation/i);
});

test("requests and replies work across clients: the scheduler asks the master, the gateway asks a borglet for logs", async (t) => {
  const master = await as("master-0");
  master.subscribe(subjects.schedWork(CELL), { callback: (_error, message) => void message.respond("work") });
  const a = await as("borglet-a");
  a.subscribe(subjects.nodeLogs(CELL, "a"), { callback: (_error, message) => void message.respond("logs of a") });
  await master.flush();
  await a.flush();
  const scheduler = await as("scheduler-0");
  t.is((await scheduler.request(subjects.schedWork(CELL), "", { timeout: 5000 })).string(), "work");
  const gateway = await as("gateway");
  t.is((await gateway.request(subjects.nodeLogs(CELL, "a"), "", { timeout: 5000 })).string(), "logs of a");
  const refused = await t.throwsAsync(scheduler.request(subjects.api(CELL, "submit"), "", { timeout: 2000 }));
  t.truthy(refused, "the scheduler may not call the API");
});

test("a producer on the submit stream publishes only under its own user", async (t) => {
  const operator = await as("operator");
  const jsm = await jetstream(operator).jetstreamManager();
  await jsm.streams.add({ name: "perm_submit", subjects: [subjects.submitStreamAll(CELL)] });
  const alice = await as("submit-alice");
  const own = await jetstream(alice).publish(subjects.submitStream(CELL, "alice"), "{}");
  t.is(own.stream, "perm_submit");
  await t.throwsAsync(jetstream(alice).publish(subjects.submitStream(CELL, "bob"), "{}", { timeout: 2000 }));
  t.is((await jsm.streams.info("perm_submit")).state.messages, 1, "only alice's own submission was stored");
});
