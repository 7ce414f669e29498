import test from "ava";
import fc from "fast-check";
import type { JobView } from "@corral/contracts";
import type { TaskLifecycleEvent } from "@corral/machines";
import { jobCounts, jobView } from "../src/jobs/views.js";
import { addSpec, GIB, harness } from "./support/leader-harness.js";

/**
 * jobCounts is what a federation's reconciler reads every pass instead of the whole view:
 * it must say exactly what counting the full view's tasks says.
 */
function countedFromTasks(view: JobView): { running: number; dead: number } {
  const below = view.tasks.filter((task) => task.index < view.replicas);
  return {
    running: below.filter((task) => task.state === "running" && task.health !== "unhealthy").length,
    dead: below.filter((task) => task.state === "dead").length,
  };
}

const EVENTS: TaskLifecycleEvent[] = [
  { type: "SCHEDULE", node: "n1", ports: [] },
  { type: "STARTED", pid: 7 },
  { type: "EXITED", exitCode: 0 },
  { type: "EXITED", exitCode: 1 },
  { type: "LOST", reason: "machine lost", cause: "machine_lost" },
  { type: "KILL", reason: "killed" },
  { type: "FAILED", message: "no binary" },
];

test("counts only: the same summary, and the same running and dead below the replicas, as counting the full view's tasks; no task list", (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.boolean(),
      fc.constantFrom("always", "on-failure", "never"),
      fc.array(fc.tuple(fc.nat(7), fc.nat(EVENTS.length - 1), fc.constantFrom(undefined, "healthy", "unhealthy")), { maxLength: 60 }),
      fc.nat(8),
      (replicas, checked, restart, steps, scaledTo) => {
        const { state } = harness([{ name: "n1", cpu: 64, ramGiB: 64, ports: [100, 200] }]);
        const job = addSpec(state, {
          name: "web",
          replicas,
          restart: restart as "always",
          requirements: { cpu: 0.1, ram: GIB / 16, disk: 0, ports: 0 },
          ...(checked ? { health: { check: { type: "exec" as const, command: ["/bin/true"] }, intervalMs: 1000, timeoutMs: 500, failures: 3 } } : {}),
        });
        for (const [index, event, health] of steps) {
          const task = job.tasks[index % job.tasks.length]!;
          state.transition({ job, task, id: `${task.index}.${job.id}` }, EVENTS[event]!);
          if (health === undefined) delete task.health;
          else task.health = health;
        }
        // A scale down leaves tasks above the replicas until they are gone.
        if (scaledTo > 0 && scaledTo < replicas) job.spec.replicas = scaledTo;
        const full = jobView(job, state);
        const counts = jobCounts(job);
        return (
          counts.tasks.length === 0 &&
          JSON.stringify(counts.summary) === JSON.stringify(full.summary) &&
          JSON.stringify(counts.withinReplicas) === JSON.stringify(countedFromTasks(full)) &&
          counts.replicas === full.replicas &&
          counts.killed === full.killed &&
          JSON.stringify(counts.labels) === JSON.stringify(full.labels)
        );
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
