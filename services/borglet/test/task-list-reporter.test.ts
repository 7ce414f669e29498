import test from "ava";
import { taskListDigest, type HeartbeatTask } from "@corral/contracts";
import { TaskListReporter } from "../src/task-list-reporter.js";

const running = (index: number): HeartbeatTask => ({ taskId: `${index}.web.alice.local`, incarnation: 0, state: "running", pid: 100 + index, ports: [] });

test("the list goes whole when it changed, when usage moved or a master asked, and every tenth heartbeat; its digest otherwise", (t) => {
  const reporter = new TaskListReporter();
  const list = [running(0), running(1)];
  t.deepEqual(reporter.next(list, false), { tasks: list }, "the first heartbeat lists them");
  t.deepEqual(reporter.next([...list], false), { tasksDigest: taskListDigest(list) }, "unchanged: the digest");
  const grown = [...list, running(2)];
  t.deepEqual(reporter.next(grown, false), { tasks: grown }, "a task came");
  t.true("tasksDigest" in reporter.next(grown, false));
  t.deepEqual(reporter.next(grown, true), { tasks: grown }, "usage moved");
  t.true("tasksDigest" in reporter.next(grown, false));
  reporter.wantFull();
  t.deepEqual(reporter.next(grown, false), { tasks: grown }, "asked for");
  const kinds: string[] = [];
  for (let i = 0; i < 10; i++) kinds.push("tasks" in reporter.next(grown, false) ? "full" : "digest");
  t.deepEqual(kinds, [...Array<string>(9).fill("digest"), "full"], "a full list at least every tenth heartbeat");
});
