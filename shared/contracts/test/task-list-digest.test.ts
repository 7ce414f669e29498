import test from "ava";
import { heartbeat, taskListDigest, type DigestedTask } from "../index.js";

const task = (index: number, incarnation = 0, state: DigestedTask["state"] = "running"): DigestedTask => ({ taskId: `${index}.web.alice.local`, incarnation, state });

test("a task list's digest does not depend on the order, and changes with any task's run or state", (t) => {
  const list = [task(0), task(1), task(2)];
  t.is(taskListDigest(list), taskListDigest([task(2), task(0), task(1)]));
  const digests = new Set([
    taskListDigest(list),
    taskListDigest([task(0), task(1)]),
    taskListDigest([task(0), task(1), task(2, 1)]),
    taskListDigest([task(0), task(1), task(2, 0, "terminating")]),
    taskListDigest([task(0), task(1), task(3)]),
    taskListDigest([task(0), task(1), task(2), task(2)]),
    taskListDigest([]),
  ]);
  t.is(digests.size, 7, "each change gives another digest");
});

test("no two of 100,000 one-task lists share a digest", (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) seen.add(taskListDigest([task(i % 1000, Math.floor(i / 1000))]));
  t.is(seen.size, 100_000);
});

test("a heartbeat lists its tasks or gives their digest: with neither it is refused, naming tasks", (t) => {
  const base = { node: "n1", host: "h", pid: 1, capacity: { cpu: 1, ram: 1, disk: 1 }, attributes: {}, portRange: [1, 2], startedAt: 1, seq: 0, epochSeen: 0 };
  t.true(heartbeat.body.safeParse({ ...base, tasks: [] }).success);
  t.true(heartbeat.body.safeParse({ ...base, tasksDigest: taskListDigest([]) }).success);
  const neither = heartbeat.body.safeParse(base);
  t.false(neither.success);
  t.deepEqual(neither.error?.issues[0]?.path, ["tasks"]);
});
