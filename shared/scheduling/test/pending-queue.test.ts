import test from "ava";
import { pendingOrder } from "../src/pending-queue.js";

test("bands first, highest first; users take turns within a band", (t) => {
  const tasks = [
    { id: "a1", band: "batch", user: "a" },
    { id: "a2", band: "batch", user: "a" },
    { id: "a3", band: "batch", user: "a" },
    { id: "b1", band: "batch", user: "b" },
    { id: "p1", band: "production", user: "b" },
    { id: "e1", band: "best-effort", user: "c" },
    { id: "m1", band: "monitoring", user: "a" },
    { id: "c1", band: "batch", user: "c" },
  ] as const;
  t.deepEqual(
    pendingOrder(tasks).map((task) => task.id),
    ["m1", "p1", "a1", "b1", "c1", "a2", "a3", "e1"],
  );
});
