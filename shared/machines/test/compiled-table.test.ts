import { deepStrictEqual } from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { RESTART_POLICIES } from "@corral/contracts";
import { applyTaskEvent, applyTaskEventWithXstate, newTask, type TaskLifecycleEvent } from "../index.js";

const eventArbitrary: fc.Arbitrary<TaskLifecycleEvent> = fc.oneof(
  fc.record({ type: fc.constant("SCHEDULE" as const), node: fc.constantFrom("n1", "n2"), ports: fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant("SCHEDULE" as const), node: fc.constantFrom("n1", "n2"), ports: fc.constant<number[]>([]), alloc: fc.constantFrom("0.slots.alice.local", "1.slots.alice.local") }),
  fc.record({ type: fc.constant("STARTED" as const), pid: fc.integer({ min: 1, max: 1 << 22 }) }),
  fc.oneof(
    fc.record({ type: fc.constant("EXITED" as const), exitCode: fc.integer({ min: 0, max: 255 }), ranForMs: fc.constantFrom(5, 600_000) }),
    fc.record({ type: fc.constant("EXITED" as const), signal: fc.constant("SIGKILL"), oom: fc.constant(true) }),
    fc.record({ type: fc.constant("EXITED" as const), signal: fc.constantFrom("SIGTERM", "SIGKILL", "SIGSEGV") }),
    fc.constant({ type: "EXITED" as const }),
  ),
  fc.record({ type: fc.constant("FAILED" as const), message: fc.string({ maxLength: 20 }) }),
  fc.oneof(
    fc.record({ type: fc.constant("EXITED_AFTER_LOSS" as const), incarnation: fc.integer({ min: 0, max: 4 }), exitCode: fc.constantFrom(0, 1) }),
    fc.record({ type: fc.constant("EXITED_AFTER_LOSS" as const), incarnation: fc.integer({ min: 0, max: 4 }), signal: fc.constant("SIGTERM") }),
  ),
  fc.record({ type: fc.constant("LOST" as const), reason: fc.constantFrom("machine lost", "task vanished from its machine"), cause: fc.constantFrom("machine_lost" as const, "vanished" as const, "evicted" as const) }),
  fc.record({ type: fc.constant("KILL" as const), reason: fc.constantFrom("killed by user", "preempted") }),
  fc.record({ type: fc.constant("PREEMPT" as const), by: fc.constantFrom("0.urgent.alice.local", "3.prod.bob.local") }),
  fc.record({ type: fc.constant("REPLACE" as const), revision: fc.integer({ min: 2, max: 5 }) }),
);

test("the compiled table and xstate agree on every step of random event sequences", (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...RESTART_POLICIES), fc.array(eventArbitrary, { maxLength: 20 }), (policy, events) => {
      let current = newTask(policy);
      for (const event of events) {
        const fast = applyTaskEvent(current, event);
        const reference = applyTaskEventWithXstate(current, event);
        // Throws, so fast-check shrinks a disagreement to the shortest sequence that shows it.
        deepStrictEqual(fast, reference, `${current.state} + ${JSON.stringify(event)}`);
        if (fast !== undefined) current = fast;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass("2000 random sequences agreed");
});
