import test from "ava";
import {
  decode,
  FEDERATION_LABEL,
  federatedJobRecordSchema,
  federationOf,
  jobSpecSchema,
  REPLY_TYPE,
  seal,
  CorralError,
  type JobSpec,
  type JobView,
  type TaskState,
} from "@corral/contracts";
import { createLogger, type NatsConnection } from "@corral/kit";
import { recordOf, specOf } from "./support/federation-builders.js";
import { CellMonitor } from "../src/federation/cell-monitor.js";
import { federatedView, type MemberLookup } from "../src/federation/federated-view.js";
import { Federation } from "../src/federation/federation.js";
import { FederationStore } from "../src/federation/federation-store.js";
import { memberSpec, observeMember } from "../src/federation/member-jobs.js";
import { decide, type CellObservation } from "../src/federation/placement.js";
import { FederationReconciler } from "../src/federation/reconciler.js";
import { resolveJobReference } from "../src/requests.js";

/**
 * The federation's parts around placement.ts, each with fakes instead of NATS: job reference
 * resolution, member observation, the federated view, the KV store (over an in-memory KV)
 * and one reconciler pass (over a fake NATS connection). Tests marked `failing` show bugs
 * found in review: they pass while the bug is there; drop `.failing` with the fix.
 */

const log = createLogger("test", "federation");
log.level = "silent";

// ---- builders ---------------------------------------------------------------------

/** A cell's view of a member job, tasks in the states given. */
function viewOf(cell: string, spec: JobSpec, states: { state: TaskState; exitCode?: number; health?: "healthy" | "unhealthy" }[], more: Partial<JobView> = {}): JobView {
  const id = `${spec.name}.${spec.user!}.${cell}`;
  return {
    id,
    name: spec.name,
    kind: "job",
    labels: spec.labels,
    user: spec.user!,
    cell,
    priority: spec.priority,
    replicas: spec.replicas,
    binary: spec.binary,
    requirements: spec.requirements,
    killed: false,
    submittedAt: 0,
    summary: { pending: 0, assigned: 0, running: 0, terminating: 0, dead: 0 },
    tasks: states.map((task, index) => ({
      index,
      id: `${index}.${id}`,
      incarnation: 0,
      state: task.state,
      ports: [],
      restarts: 0,
      updatedAt: 0,
      ...(task.exitCode === undefined ? {} : { exitCode: task.exitCode }),
      ...(task.health === undefined ? {} : { health: task.health }),
    })),
    ...more,
  };
}

/** An in-memory stand-in for a JetStream KV bucket: revisions, create and compare-and-set update. */
class MemoryKv {
  private seq = 0;
  readonly entries = new Map<string, { value: string; revision: number }>();
  /** What the store's watch of `job.>` would have seen: id → revision. */
  readonly watched = new Map<string, number>();
  private saw(key: string): void {
    if (key.startsWith("job.")) this.watched.set(key.slice(4), this.seq);
  }
  async get(key: string) {
    const entry = this.entries.get(key);
    return entry === undefined ? null : { operation: "PUT", revision: entry.revision, string: () => entry.value };
  }
  async create(key: string, value: string) {
    if (this.entries.has(key)) throw new Error("wrong last sequence: key exists");
    this.entries.set(key, { value, revision: ++this.seq });
    this.saw(key);
    return this.seq;
  }
  async update(key: string, value: string, revision: number) {
    if (this.entries.get(key)?.revision !== revision) throw new Error(`wrong last sequence: ${this.entries.get(key)?.revision}`);
    this.entries.set(key, { value, revision: ++this.seq });
    this.saw(key);
    return this.seq;
  }
  async keys(filter: string) {
    const prefix = filter.replace(/>$/, "");
    const keys = [...this.entries.keys()].filter((key) => key.startsWith(prefix));
    return (async function* () {
      yield* keys;
    })();
  }
}

/** The real FederationStore over a MemoryKv (its constructor is private: it opens a bucket on NATS). */
function memoryStore(kv = new MemoryKv()): { store: FederationStore; kv: MemoryKv } {
  const store = Object.create(FederationStore.prototype) as FederationStore;
  Object.assign(store, { kv, log, known: kv.watched });
  return { store, kv };
}

/** A Federation over a store, without NATS; `nc` answers what a test needs. */
function federationOver(store: FederationStore, cells: string[], nc: Partial<NatsConnection> = {}): Federation {
  const federation = Object.create(Federation.prototype) as Federation;
  Object.assign(federation, { nc, store, log, options: { name: "gw", cells, cellDownAfterMs: 10_000, reconcileEveryMs: 1000, leaseTtlMs: 3000 } });
  return federation;
}

type Handler = (cell: string, verb: string, body: Record<string, unknown>) => { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** A NatsConnection whose requests are answered by `handler`, sealed as a cell's leader seals its replies. */
function fakeNats(handler: Handler, sent: string[] = []): NatsConnection {
  return {
    request: async (subject: string, payload: Uint8Array) => {
      const [, cell, , verb] = subject.split(".") as [string, string, string, string];
      const body = (decode(payload) as { body: Record<string, unknown> }).body;
      sent.push(`${cell} ${verb}${body["replicas"] === undefined ? "" : ` ${String(body["replicas"])}`}`);
      return { data: seal(REPLY_TYPE, cell, handler(cell, verb, body)) };
    },
  } as unknown as NatsConnection;
}

// ---- job references (requests.ts) ---------------------------------------------------------

test("job references: web.alice is the federated job, web.alice.b b's job, web the federated job if there is one, else the home cell's", async (t) => {
  const federated = async (id: string) => id === "web.alice";
  t.deepEqual(await resolveJobReference("web.alice", "bob", "a", federated), { kind: "federated", id: "web.alice" });
  t.deepEqual(await resolveJobReference("web.alice.b", "bob", "a", federated), { kind: "cell", id: "web.alice.b", cell: "b" });
  t.deepEqual(await resolveJobReference("web", "alice", "a", federated), { kind: "federated", id: "web.alice" });
  t.deepEqual(await resolveJobReference("api", "alice", "a", federated), { kind: "cell", id: "api.alice.a", cell: "a" });
  t.deepEqual(await resolveJobReference("web", "bob", "a", federated), { kind: "cell", id: "web.bob.a", cell: "a" }, "another user's federated job is not yours");
});

test("job references: bad names are refused naming the field 'job'", async (t) => {
  const never = async () => false;
  for (const bad of ["Web", "web.Alice", "web.alice.b.c", "", "web..b"]) {
    const error = await t.throwsAsync(resolveJobReference(bad, "alice", "a", never), undefined, bad);
    t.is((error as CorralError).field, "job", bad);
  }
});

// ---- member observation (member-jobs.ts) --------------------------------------------------

test("observeMember: running counts healthy running tasks below replicas; terminating and live count every task", (t) => {
  const spec = { ...specOf({ cells: ["a"], policy: "pin" }, 4), labels: { [FEDERATION_LABEL]: "web.alice" } };
  const view = viewOf("a", spec, [
    { state: "running", health: "healthy" },
    { state: "running", health: "unhealthy" },
    { state: "pending" },
    { state: "running" },
    { state: "running" }, // index 4 ≥ replicas: a scale down's, not counted
    { state: "terminating" },
    { state: "dead" },
  ]);
  t.deepEqual(observeMember(view, "web.alice"), { replicas: 4, running: 2, finished: 0, terminating: 1, live: 6, killed: false, ours: true });
  t.false(observeMember({ ...view, labels: {} }, "web.alice").ours);
  t.false(observeMember(view, "web.bob").ours);
});

test("observeMember: a counts-only view (no tasks, the leader's withinReplicas) gives the same observation", (t) => {
  const spec = { ...specOf({ cells: ["a"], policy: "pin" }, 4), labels: { [FEDERATION_LABEL]: "web.alice" } };
  const view = viewOf("a", spec, [{ state: "running" }, { state: "dead" }, { state: "running" }, { state: "pending" }, { state: "terminating" }]);
  // As the leader counts them: the summary over every task, and running and dead below the replicas.
  const counts = { ...view, tasks: [], summary: { pending: 1, assigned: 0, running: 2, terminating: 1, dead: 1 }, withinReplicas: { running: 2, dead: 1 } };
  t.deepEqual(observeMember(counts, "web.alice"), observeMember(view, "web.alice"));
  t.deepEqual(observeMember({ ...counts, killed: true }, "web.alice"), observeMember({ ...view, killed: true }, "web.alice"), "a killed member's dead tasks are not finished work");
});

test("memberSpec: the member runs in its cell with its share, labelled with the federated job", (t) => {
  const record = recordOf(specOf({ cells: ["a", "b"], policy: "spread", weights: [2, 1], spillAfterMs: 5000, maxDisruption: 2 }, 6, { labels: { tier: "web" } }));
  const spec = memberSpec(record, "b", 2);
  t.deepEqual(spec.runtime, { cell: "b" });
  t.is(spec.replicas, 2);
  t.deepEqual(spec.labels, { tier: "web", [FEDERATION_LABEL]: "web.alice" });
  t.true(jobSpecSchema.safeParse(spec).success, "a valid single-cell spec");
});

test("a killed job's name is refused until every member has stopped, so old members are never taken for the new job's; once stopped it may be submitted again", async (t) => {
  const { store } = memoryStore();
  const federation = federationOver(store, ["a"]);
  const record = { ...recordOf(specOf({ cells: ["a"], policy: "pin" }, 2)), killed: true };
  await store.create(record);
  const again = specOf({ cells: ["a"], policy: "pin" }, 3, { binary: "/bin/new-server" });
  const refused = await federation.submit(again, "alice", "req-2").catch((error: CorralError) => error);
  t.true(refused instanceof CorralError && refused.code === "conflict" && /still stopping/.test(refused.message), String(refused));
  // The reconciler saw every member dead and said so: the name is free again, as a new generation.
  await store.modify(record.id, (current) => ({ ...current, stoppedAt: 5 }));
  const accepted = await federation.submit(again, "alice", "req-3").catch((error: CorralError) => error);
  t.false(accepted instanceof Error, String(accepted));
  const stored = await store.get(record.id);
  t.is(stored?.value.generation, record.generation + 1);
  t.is(stored?.value.spec.binary, "/bin/new-server");
});

test("a member whose tasks finished (restart on-failure, exit 0) counts as done: nothing is run again in the next cell", (t) => {
  const spec = specOf({ cells: ["a", "b"], policy: "fill", spillAfterMs: 1000 }, 2, { restart: "on-failure" });
  const record = { ...recordOf(spec), shortSince: { a: 0 } };
  const done = viewOf("a", memberSpec(record, "a", 2), [
    { state: "dead", exitCode: 0 },
    { state: "dead", exitCode: 0 },
  ]);
  const seen = new Map<string, CellObservation>([
    ["a", { reachable: true, down: false, member: observeMember(done, record.id) }],
    ["b", { reachable: true, down: false }],
  ]);
  const { actions } = decide(record, federationOf(spec)!, seen, 60_000);
  t.deepEqual(actions, [], "both tasks completed; nothing is to be run again");
});

// ---- federated view (federated-view.ts) ---------------------------------------------------

test("federatedView: every member's tasks below its replicas, each with its cell; per cell home, assigned, running", (t) => {
  const record = recordOf(specOf({ cells: ["a", "b", "c"], policy: "spread" }, 3));
  const a = viewOf("a", memberSpec(record, "a", 1), [{ state: "running" }, { state: "terminating" }], { replicas: 1 });
  const members = new Map<string, MemberLookup>([
    ["a", { reachable: true, view: a }],
    ["b", { reachable: true, view: undefined }],
    ["c", { reachable: false }],
  ]);
  const view = federatedView(record, members);
  t.deepEqual(view.tasks.map((task) => [task.cell, task.index, task.state]), [["a", 0, "running"]]);
  t.deepEqual(view.cells.map((cell) => [cell.cell, cell.home, cell.assigned, cell.running, cell.reachable]), [
    ["a", 1, 1, 1, true],
    ["b", 1, 1, 0, true],
    ["c", 1, 1, 0, false],
  ]);
  t.is(view.summary.running, 1);
});

test("the federated view leaves out the tasks of a job of the same name that is not a member (no federation label)", (t) => {
  const record = recordOf(specOf({ cells: ["a", "b"], policy: "spread" }, 2));
  const foreign = viewOf("b", specOf({ cell: "b" }, 5), [{ state: "running" }, { state: "running" }, { state: "running" }, { state: "running" }, { state: "running" }]);
  const view = federatedView(record, new Map<string, MemberLookup>([["b", { reachable: true, view: foreign }]]));
  t.is(view.tasks.length, 0, `${view.tasks.length} tasks of alice's own web.alice.b shown as the federated job's`);
});

// ---- records in KV (federation-store.ts, contracts/federation.ts) -------------------------------

test("store: compare-and-set: a write naming an old revision is refused; modify retries from a fresh read", async (t) => {
  const { store } = memoryStore();
  const record = recordOf(specOf({ cells: ["a"], policy: "pin" }, 1));
  const revision = (await store.create(record))!;
  t.is(await store.create(record), undefined, "created once");
  t.truthy(await store.update({ ...record, killed: true }, revision));
  t.is(await store.update(record, revision), undefined, "the revision read is stale");
  const modified = await store.modify(record.id, (current) => ({ ...current, generation: current.generation + 1 }));
  t.is(modified?.generation, 1);
  t.true((await store.get(record.id))!.value.killed, "the other write was kept");
});

test("store: the reconciler lease is held by one gateway until it lapses, then taken over", async (t) => {
  const { store } = memoryStore();
  t.true(await store.holdLease("gw-1", 3000, 1000));
  t.false(await store.holdLease("gw-2", 3000, 2000));
  t.true(await store.holdLease("gw-1", 3000, 2500), "renewed by its holder");
  t.is(await store.leaseHolder(3000), "gw-1");
  t.true(await store.holdLease("gw-2", 3000, 5501), "lapsed: taken over");
  t.false(await store.holdLease("gw-1", 3000, 5600));
});

test("store: a record that does not parse is not trusted, nor taken for a free name; a list skips it", async (t) => {
  const { store, kv } = memoryStore();
  await kv.create("job.web.alice", JSON.stringify({ id: "web.alice", killed: "yes" }));
  await kv.create("job.api.alice", "{not json");
  await t.throwsAsync(store.get("web.alice"), { message: /federated job record of web\.alice cannot be read/ });
  t.deepEqual(await store.list(), []);
});

test("a record whose id, name, user and spec disagree is refused by the schema, and one under another job's key is not read", async (t) => {
  const record = recordOf(specOf({ cells: ["a"], policy: "pin" }, 1));
  const forged = { ...record, id: "api.bob", spec: { ...record.spec, name: "other", user: "carol" } };
  t.false(federatedJobRecordSchema.safeParse(forged).success, "id api.bob, name web, user alice, spec other/carol");
  const { store, kv } = memoryStore();
  await kv.create("job.web.alice", JSON.stringify(forged));
  await t.throwsAsync(store.get("web.alice"), { message: /cannot be read/ }, "job.web.alice holds the record of api.bob");
});

test("a federated job over 16 cells with long names is recorded readable: its events are cut to the schema's bound", async (t) => {
  const cells = Array.from({ length: 16 }, (_, i) => `cell-${String(i).padStart(2, "0")}-${"x".repeat(24)}`);
  const { store } = memoryStore();
  const federation = federationOver(store, cells, fakeNats(() => ({ ok: true, result: { jobs: [] } })));
  const spec = specOf({ cells, policy: "spread" }, 16);
  const first = await federation.submit(spec, "alice", "req-1").catch((error: CorralError) => error);
  t.false(first instanceof Error, `submit: ${(first as Error).message}`);
});

test("a killed federated job no longer claims the short name: `corral kill web` reaches the live web.alice.<home>", async (t) => {
  const { store } = memoryStore();
  const record = { ...recordOf(specOf({ cells: ["a", "b"], policy: "spread" }, 2)), killed: true };
  await store.create(record);
  const federation = federationOver(store, ["a", "b"]);
  // What referencedJob() (routes/route-context.ts) does for DELETE /v1/jobs/web as alice.
  const found = await resolveJobReference("web", "alice", "a", (id) => federation.exists(id));
  t.deepEqual(found, { kind: "cell", id: "web.alice.a", cell: "a" });
});

// ---- one reconciler pass (reconciler.ts) ---------------------------------------------------

test("reconciler: a pass places a new federated job: the record is written first, then each cell asked for its share", async (t) => {
  const { store } = memoryStore();
  const record = recordOf(specOf({ cells: ["a", "b"], policy: "spread", weights: [2, 1] }, 3));
  await store.create(record);
  const sent: string[] = [];
  const nc = fakeNats((cell, verb, body) => {
    if (verb === "status") return { ok: false, error: { code: "not_found", message: "no job" } };
    const spec = (body as { spec: JobSpec }).spec;
    return { ok: true, result: { job: viewOf(cell, { ...spec, user: "alice" }, []) } };
  }, sent);
  const monitor = new CellMonitor(nc, ["a", "b"], 10_000, log);
  const reconciler = new FederationReconciler(nc, store, monitor, "gw-1", log, { everyMs: 1000, leaseTtlMs: 3000 });
  await reconciler.pass();
  t.deepEqual(sent.filter((line) => !line.endsWith("status")).sort(), ["a submit", "b submit"]);
  const written = (await store.get(record.id))!.value;
  t.deepEqual(written.submits, { a: 1, b: 1 });
  t.true(reconciler.isLeading);
});

test("reconciler: a cell refusing for quota is recorded as refused, naming the cell", async (t) => {
  const { store } = memoryStore();
  const record = recordOf(specOf({ cells: ["a", "b"], policy: "fill" }, 2));
  await store.create(record);
  const nc = fakeNats((cell, verb, body) => {
    if (verb === "status") return { ok: false, error: { code: "not_found", message: "no job" } };
    if (cell === "a") return { ok: false, error: { code: "quota_exceeded", message: "job web would take alice past the production quota" } };
    return { ok: true, result: { job: viewOf(cell, { ...(body as { spec: JobSpec }).spec, user: "alice" }, []) } };
  });
  const reconciler = new FederationReconciler(nc, store, new CellMonitor(nc, ["a", "b"], 10_000, log), "gw-1", log, { everyMs: 1000, leaseTtlMs: 3000 });
  await reconciler.pass();
  t.regex((await store.get(record.id))!.value.refused["a"]?.message ?? "", /production quota/);
  await reconciler.pass();
  t.deepEqual((await store.get(record.id))!.value.assigned, { a: 2, b: 2 }, "the next pass sends a's share to b");
});

test("one cell answering an error other than `unavailable` (a deposed leader's not_leader) is unknown this pass; the other cells still get their shares", async (t) => {
  const { store } = memoryStore();
  const record = recordOf(specOf({ cells: ["x", "a"], policy: "spread" }, 2));
  await store.create(record);
  const sent: string[] = [];
  const nc = fakeNats((cell, verb, body) => {
    if (cell === "x") return { ok: false, error: { code: "not_leader", message: "not the leader of x" } };
    if (verb === "status") return { ok: false, error: { code: "not_found", message: "no job" } };
    return { ok: true, result: { job: viewOf(cell, { ...(body as { spec: JobSpec }).spec, user: "alice" }, []) } };
  }, sent);
  const reconciler = new FederationReconciler(nc, store, new CellMonitor(nc, ["x", "a"], 10_000, log), "gw-1", log, { everyMs: 1000, leaseTtlMs: 3000 });
  await t.notThrowsAsync(reconciler.pass(), "x should count as unreachable for this pass");
  t.true(sent.includes("a submit"), `sent: ${sent.join(", ")}`);
});

test("a retried submission (same Idempotency-Key) of a spec without a user is answered again; another spec under that key is refused", async (t) => {
  const { store } = memoryStore();
  const federation = federationOver(store, ["a", "b"], fakeNats(() => ({ ok: true, result: { jobs: [] } })));
  const { user: _user, ...withoutUser } = specOf({ cells: ["a", "b"] }, 2);
  const first = await federation.submit(withoutUser as JobSpec, "alice", "key-1");
  const again = await federation.submit(withoutUser as JobSpec, "alice", "key-1");
  t.is(again.id, first.id);
  t.is((await store.get("web.alice"))?.value.generation, 0, "applied once");
  const other = await federation.submit({ ...(withoutUser as JobSpec), replicas: 3 }, "alice", "key-1").catch((error: CorralError) => error);
  t.true(other instanceof CorralError && other.code === "conflict" && other.field === "Idempotency-Key", String(other));
});

test("a federated spec whose member jobs no cell could take (the member label past the label limit) is refused at submission, naming the field", async (t) => {
  const { store } = memoryStore();
  const federation = federationOver(store, ["a"], fakeNats(() => ({ ok: true, result: { jobs: [] } })));
  const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, "v"]));
  const refused = await federation.submit(specOf({ cells: ["a"] }, 1, { labels }), "alice", "key-2").catch((error: CorralError) => error);
  t.true(refused instanceof CorralError && refused.code === "bad_request" && /labels/.test(`${refused.field} ${refused.message}`), String(refused));
  t.is(await store.get("web.alice"), undefined, "nothing recorded");
});
