import test from "ava";
import { decode, encode } from "@corral/contracts";
import { lostRunThatMayFinishIt } from "@corral/machines";
import { parseJobSpec } from "@corral/spec";
import { CellState } from "../src/state/cell-state.js";
import { jobRecord } from "./support/leader-harness.js";
import { decodeJobHead, decodeJobs, encodeJobHead, encodeTaskRecord, jobFields, taskField, taskFieldsPast, TASKS_PER_RECORD, type JobRecord } from "@corral/state";
import { stateOfRecords } from "../src/state/stored-fields.js";

function job(name: string, replicas: number): JobRecord {
  return jobRecord(parseJobSpec(`job: ${name}\nbinary: x\nreplicas: ${replicas}\nrequirements: { cpu: 0.5, ram: 1G, disk: 1G }\nargs: ["--port=%port%"]\n`, { file: "j.yaml" }));
}

test("indexes follow every transition: pending set, tasks per machine, usage", (t) => {
  const state = new CellState();
  state.addJob(job("web", 3));
  t.is(state.pendingCount, 3);
  const [first, second] = [state.task("0.web.alice.local")!, state.task("1.web.alice.local")!];
  state.transition(first, { type: "SCHEDULE", node: "n1", ports: [20000] });
  state.transition(second, { type: "SCHEDULE", node: "n1", ports: [20001] });
  t.is(state.pendingCount, 1);
  t.deepEqual(state.tasksOn("n1").map((ref) => ref.id).sort(), ["0.web.alice.local", "1.web.alice.local"]);
  const usage = state.usage("n1");
  t.is(usage.cpu, 1);
  t.is(usage.ram, 2 * 1024 ** 3);
  t.deepEqual([...usage.ports].sort(), [20000, 20001]);

  state.transition(first, { type: "LOST", reason: "machine lost", cause: "machine_lost" });
  t.is(state.pendingCount, 2);
  t.deepEqual(state.tasksOn("n1").map((ref) => ref.id), ["1.web.alice.local"]);
  t.deepEqual(state.pendingTasks().map((ref) => ref.id).sort(), ["0.web.alice.local", "2.web.alice.local"]);
  t.is(state.transition(first, { type: "STARTED", pid: 1 }), undefined, "an event that does not apply changes nothing");
  t.is(state.pendingCount, 2);
});

test("a resubmitted job replaces the old one in every index", (t) => {
  const state = new CellState();
  const old = job("web", 2);
  state.addJob(old);
  state.transition(state.task("0.web.alice.local")!, { type: "SCHEDULE", node: "n1", ports: [1] });
  state.addJob(job("web", 1));
  t.is(state.pendingCount, 1);
  t.deepEqual(state.tasksOn("n1"), []);
  t.is(state.task("1.web.alice.local"), undefined);
  t.deepEqual(state.takeDirtyJobs().map((j) => j.id), ["web.alice.local"]);
});

test("job records survive the Redis encoding, and an unknown version is refused", (t) => {
  const original = job("web", 2);
  const [decoded] = decodeJobs(new Map(jobFields(original)));
  t.deepEqual(decoded, original);
  const future = Buffer.from(encode({ version: 999, job: { ...original } }));
  t.throws(() => decodeJobHead(original.id, future), { message: /stored with task lifecycle version 999; this master understands versions 1, 2, 3, 4/ });
});

test("a task stored before reason codes (version 3) that lost its machine reads back with the code the late-exit rule needs", (t) => {
  const original = job("web", 2);
  original.tasks[0]!.lifecycle = { state: "pending", context: { ...original.tasks[0]!.lifecycle.context, restartPolicy: "never", incarnation: 1, reason: "machine lost" } };
  original.tasks[1]!.lifecycle = { state: "pending", context: { ...original.tasks[1]!.lifecycle.context, incarnation: 1, reason: "exited with code 1" } };
  const asVersion3 = new Map(jobFields(original).map(([field, bytes]) => [field, Buffer.from(encode({ ...(decode(bytes) as object), version: 3 }))]));
  const [decoded] = decodeJobs(asVersion3);
  t.is(decoded!.tasks[0]!.lifecycle.context.reasonCode, "machine_lost");
  t.is(decoded!.tasks[1]!.lifecycle.context.reasonCode, undefined, "only a machine loss is given a code: no rule reads the others' older text");
  t.is(lostRunThatMayFinishIt(decoded!.tasks[0]!.lifecycle.context), 0);
});

test("submission outcomes are forgotten after their retention, and the forgetting is committed", (t) => {
  const state = new CellState();
  state.recordSubmission({ id: "api.old", status: "accepted", job: "a.b.c", at: 1_000 });
  state.recordSubmission({ id: "stream-old", status: "accepted", job: "a.b.c", at: 1_000 });
  state.recordSubmission({ id: "api.new", status: "accepted", job: "a.b.c", at: 9_000 });
  t.is(state.takeDirtySubmissions().length, 3);
  const forgotten = state.forgetSubmissions((id) => (id.startsWith("api.") ? 5_000 : 1_000_000), 10_000);
  t.is(forgotten, 1);
  t.deepEqual([...state.submissions.keys()].sort(), ["api.new", "stream-old"]);
  t.deepEqual(state.takeForgottenSubmissions(), ["api.old"]);
  t.deepEqual(state.takeForgottenSubmissions(), [], "taken once");
});

test("a record of version 1 (before preemption) is still read; one with a spec from a newer version is refused as incompatible", (t) => {
  const original = job("web", 1);
  const { constraints: _c, preferences: _p, ...olderSpec } = original.spec;
  const v1 = Buffer.from(encode({ version: 1, job: { ...original, spec: olderSpec, tasks: original.tasks.map(({ index, lifecycle, updatedAt }) => ({ index, lifecycle, updatedAt })) } }));
  const [decoded] = decodeJobs(new Map([[original.id, v1]]));
  t.deepEqual(decoded!.spec.constraints, [], "defaults fill the fields version 1 did not have");
  t.deepEqual(decoded!.tasks, original.tasks, "a record written before heads and tasks were split holds its tasks inline");
  const newer = Buffer.from(encode({ version: 2, job: { ...original, spec: { ...original.spec, gpus: 2 } } }));
  t.throws(() => decodeJobHead(original.id, newer), { message: /has a spec this version cannot read.*another Corral version/ });
});

test("a follower decoding a job again keeps the spec it validated while the stored spec is unchanged, and validates a changed one", (t) => {
  const original = job("web", 2);
  const first = decodeJobHead(original.id, encodeJobHead(original)).job;
  const again = decodeJobHead(original.id, encodeJobHead({ ...original, killed: true }), first.spec).job;
  t.is(again.spec, first.spec, "the same spec object: not validated again");
  t.true(again.killed, "the rest is the new record's");
  const scaled = decodeJobHead(original.id, encodeJobHead({ ...original, spec: { ...original.spec, replicas: 3 } }), again.spec).job;
  t.not(scaled.spec, again.spec);
  t.is(scaled.spec.replicas, 3);
  const broken = Buffer.from(encode({ version: 3, job: { ...original, spec: { ...original.spec, gpus: 2 } } }));
  t.throws(() => decodeJobHead(original.id, broken, scaled.spec), { message: /has a spec this version cannot read/ }, "a changed spec is validated even with a previous copy");
});

test("a task's change is committed as the one task record that holds it; a job replaced by one with fewer tasks deletes the records past them; the records read back as the state", (t) => {
  const state = new CellState();
  const stored = new Map<string, Buffer>();
  // What a commit writes, applied to a store as Redis would hold it.
  const commit = () => {
    const heads = state.takeDirtyJobs();
    const fields = new Set(state.takeDirtyTasks().map((ref) => taskField(ref.job.id, ref.task.index)));
    const deleted = state.takeShrunkJobs().flatMap(([id, previousCount]) => taskFieldsPast(id, state.jobs.get(id)!.tasks.length, previousCount));
    for (const changed of heads) stored.set(changed.id, encodeJobHead(changed));
    for (const field of fields) {
      const [, first] = /^tasks:(\d+)\./.exec(field)!;
      const [, bytes] = encodeTaskRecord(state.jobs.get("web.alice.local")!, Number(first) * TASKS_PER_RECORD);
      stored.set(field, bytes);
    }
    for (const field of deleted) stored.delete(field);
    return { heads: heads.map((changed) => changed.id), fields: [...fields].sort(), deleted };
  };
  state.addJob(job("web", TASKS_PER_RECORD + 8));
  t.deepEqual(commit(), { heads: ["web.alice.local"], fields: ["tasks:0.web.alice.local", "tasks:1.web.alice.local"], deleted: [] });
  state.transition(state.task(`${TASKS_PER_RECORD + 1}.web.alice.local`)!, { type: "SCHEDULE", node: "n1", ports: [7] });
  t.deepEqual(commit(), { heads: [], fields: ["tasks:1.web.alice.local"], deleted: [] }, "one task changed: its record written, not the job");
  t.deepEqual(decodeJobs(stored), [state.jobs.get("web.alice.local")]);
  state.addJob(job("web", 3));
  t.deepEqual(commit(), { heads: ["web.alice.local"], fields: ["tasks:0.web.alice.local"], deleted: ["tasks:1.web.alice.local"] });
  t.deepEqual([...stored.keys()].sort(), ["tasks:0.web.alice.local", "web.alice.local"]);
  const recovered = stateOfRecords(stored);
  t.deepEqual(recovered.jobs.get("web.alice.local"), state.jobs.get("web.alice.local"));
  t.is(recovered.pendingCount, 3);
  t.deepEqual(recovered.tasksOn("n1"), []);
});

test("stored records that miss a task record of a job are refused, naming the job and the tasks", (t) => {
  const records = new Map(jobFields(job("web", 3 * TASKS_PER_RECORD)));
  records.delete("tasks:1.web.alice.local");
  t.throws(() => decodeJobs(records), { message: new RegExp(`job web.alice.local has ${3 * TASKS_PER_RECORD} tasks but no record of task ${TASKS_PER_RECORD}`) });
  t.throws(() => stateOfRecords(records), { message: new RegExp(`task ${2 * TASKS_PER_RECORD}.web.alice.local is stored without its job or the tasks before it`) });
  const unreadable: string[] = [];
  t.deepEqual(decodeJobs(records, (field) => unreadable.push(field)), []);
  t.deepEqual(unreadable, ["web.alice.local"]);
  const lastMissing = new Map(jobFields(job("web", 3 * TASKS_PER_RECORD)));
  lastMissing.delete("tasks:2.web.alice.local");
  t.throws(() => stateOfRecords(lastMissing), { message: new RegExp(`job web.alice.local has ${3 * TASKS_PER_RECORD} tasks but records of ${2 * TASKS_PER_RECORD}`) });
});
