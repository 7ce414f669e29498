import test from "ava";
import { StartGate } from "../src/start-gate.js";

test("a start gate lets in at most its limit, the rest in the order they came, each as one leaves", async (t) => {
  const gate = new StartGate(2);
  const inside: number[] = [];
  const leaves = new Map<number, () => void>();
  const entered = [1, 2, 3, 4].map((n) =>
    gate.enter().then((leave) => {
      inside.push(n);
      leaves.set(n, leave);
    }),
  );
  await Promise.all(entered.slice(0, 2));
  await Promise.resolve();
  t.deepEqual(inside, [1, 2]);
  t.is(gate.queued, 2);
  leaves.get(2)!();
  leaves.get(2)!(); // a second leave lets nobody else in
  await entered[2];
  await Promise.resolve();
  t.deepEqual(inside, [1, 2, 3], "only one more came in");
  t.is(gate.queued, 1);
  leaves.get(1)!();
  await entered[3];
  t.deepEqual(inside, [1, 2, 3, 4]);
});

test("a start gate refuses a limit below 1 or not whole", (t) => {
  t.throws(() => new StartGate(0), { instanceOf: RangeError });
  t.throws(() => new StartGate(1.5), { instanceOf: RangeError });
});
