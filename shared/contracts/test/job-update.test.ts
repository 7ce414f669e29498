import test from "ava";
import { classifyUpdate, updatePolicySchema } from "../index.js";

const base = { name: "web", binary: "/bin/web", args: ["-p", "1"], env: { A: "1" }, replicas: 3, priority: "batch", labels: { tier: "web" }, requirements: { cpu: 1, ram: 10, disk: 0, ports: 1 } };

test("what an update changes: fields a running task holds replace it; the others apply in place; none is none", (t) => {
  t.deepEqual(classifyUpdate(base, { ...base }), { fields: [], kind: "none" });
  t.deepEqual(classifyUpdate(base, { ...base, labels: { tier: "web", env: "prod" }, replicas: 5, priority: "production" }), { fields: ["labels", "priority", "replicas"], kind: "in-place" });
  t.deepEqual(classifyUpdate(base, { ...base, env: { A: "2" } }), { fields: ["env"], kind: "replace" });
  t.deepEqual(classifyUpdate(base, { ...base, env: { A: "2" }, replicas: 4 }), { fields: ["env", "replicas"], kind: "replace" });
  t.deepEqual(classifyUpdate(base, { ...base, requirements: { ram: 10, cpu: 2, disk: 0, ports: 1 } }), { fields: ["requirements"], kind: "replace" });
  // Key order is not a change.
  t.is(classifyUpdate(base, { ...base, requirements: { ports: 1, disk: 0, ram: 10, cpu: 1 } }).kind, "none");
  t.deepEqual(classifyUpdate(base, { ...base, update: { maxParallel: 2 } }), { fields: ["update"], kind: "in-place" });
});

test("the update policy: defaults, and deadlines that could never be met are refused naming the field", (t) => {
  t.deepEqual(updatePolicySchema.parse({}), { maxParallel: 1, minHealthyTimeMs: 10_000, healthyDeadlineMs: 300_000, progressDeadlineMs: 600_000, autoRevert: true, drainMs: 0, canary: 0, autoPromote: false });
  const short = updatePolicySchema.safeParse({ minHealthyTimeMs: 60_000, healthyDeadlineMs: 30_000 });
  t.false(short.success);
  t.deepEqual(short.error?.issues[0]?.path, ["healthyDeadlineMs"]);
  const progress = updatePolicySchema.safeParse({ healthyDeadlineMs: 60_000, progressDeadlineMs: 30_000 });
  t.deepEqual(progress.error?.issues[0]?.path, ["progressDeadlineMs"]);
  t.false(updatePolicySchema.safeParse({ maxParallel: 0 }).success);
});
