import test from "ava";
import { UsageMeter } from "../src/usage-meter.js";

const MIB = 1024 ** 2;

test("usage is cores since the last reading and bytes now; only a real move (or a long silence) is flagged", (t) => {
  const meter = new UsageMeter();
  t.is(meter.sample("a", { cpuSeconds: 10, ramBytes: 100 * MIB }, 0), undefined, "a rate needs two readings");
  t.false(meter.takeMoved());
  t.deepEqual(meter.sample("a", { cpuSeconds: 10.5, ramBytes: 100 * MIB }, 1000), { cpu: 0.5, ram: 100 * MIB });
  t.true(meter.takeMoved(), "the first numbers are news");
  t.false(meter.takeMoved(), "the flag resets");
  meter.sample("a", { cpuSeconds: 11.02, ramBytes: 104 * MIB }, 2000);
  t.false(meter.takeMoved(), "0.52 cores and 4M more: noise");
  meter.sample("a", { cpuSeconds: 12.02, ramBytes: 104 * MIB }, 3000);
  t.true(meter.takeMoved(), "0.5 → 1 core is a move");
  meter.sample("a", { cpuSeconds: 13.02, ramBytes: 300 * MIB }, 4000);
  t.true(meter.takeMoved(), "104M → 300M is a move");
  meter.sample("a", { cpuSeconds: 14.02, ramBytes: 300 * MIB }, 5000);
  t.false(meter.takeMoved());
  meter.sample("a", { cpuSeconds: 44.02, ramBytes: 300 * MIB }, 35_000);
  t.true(meter.takeMoved(), "after 30 s the leader hears the numbers again");
});
