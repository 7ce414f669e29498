import test from "ava";
import fc from "fast-check";
import { heartbeatTaskSchema, submitPlan, taskIdSchema } from "../index.js";

// Messages check task ids with one regular expression (it is cheaper); it must accept exactly what names.ts's taskIdSchema does.
const inPlan = submitPlan.request.shape.placements.element.shape.taskId;
const inHeartbeat = heartbeatTaskSchema.shape.taskId;

test("messages accept exactly the task ids names.ts accepts", (t) => {
  const edges = ["0.a.b.c", "12.load_1.loadtest.local", "01.a.b.c", "x.a.b.c", "1.a.b", "1.a.b.c.d", "1.A.b.c", "1.-a.b.c", "1.a-.b.c", "1..b.c", "-1.a.b.c", "1.a.b.c\n", " 1.a.b.c", `1.${"a".repeat(63)}.b.c`, `1.${"a".repeat(64)}.b.c`];
  for (const id of edges) t.is(inPlan.safeParse(id).success, taskIdSchema.safeParse(id).success, JSON.stringify(id));
  const piece = fc.stringMatching(/^[a-z0-9_\-.A\d ]{0,6}$/);
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 6 }), (parts) => {
      const id = parts.join(".");
      const expected = taskIdSchema.safeParse(id).success;
      return inPlan.safeParse(id).success === expected && inHeartbeat.safeParse(id).success === expected;
    }),
    { numRuns: 5000 },
  );
  t.pass();
});
