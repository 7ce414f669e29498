import test from "ava";
import { machineDigest, MachineDigests, type Heartbeat } from "../index.js";

const beat = (changes: Partial<Heartbeat> = {}): Heartbeat => ({
  node: "m1",
  host: "10.0.0.1",
  pid: 42,
  capacity: { cpu: 2, ram: 2 ** 30, disk: 2 ** 34 },
  attributes: { rack: "r1", arch: "x86_64" },
  portRange: [30_000, 30_100],
  startedAt: 1_700_000_000_000,
  seq: 1,
  epochSeen: 3,
  tasks: [],
  ...changes,
});

test("a machine's digest changes with its shape and epoch, not with what changes every beat", (t) => {
  const digest = machineDigest(beat());
  t.is(machineDigest(beat({ seq: 2, tasks: [{ taskId: "0.web.u.c", incarnation: 0, state: "running", ports: [] }] })), digest, "seq and tasks are not its shape");
  t.is(machineDigest(beat({ attributes: { arch: "x86_64", rack: "r1" } })), digest, "attribute order does not matter");
  for (const changed of [{ pid: 43 }, { epochSeen: 4 }, { startedAt: 1 }, { host: "10.0.0.2" }, { capacity: { cpu: 4, ram: 2 ** 30, disk: 2 ** 34 } }, { portRange: [30_000, 30_200] as [number, number] }, { attributes: { rack: "r2", arch: "x86_64" } }]) {
    t.not(machineDigest(beat(changed)), digest, JSON.stringify(changed));
  }
  // Values that would run together if simply joined stay apart.
  t.not(machineDigest(beat({ attributes: { a: "b=c" } })), machineDigest(beat({ attributes: { "a=b": "c" } })));
});

test("the digest cache answers as machineDigest does, and follows a machine whose shape changed", (t) => {
  const digests = new MachineDigests();
  t.is(digests.of(beat()), machineDigest(beat()));
  t.is(digests.of(beat({ seq: 9 })), machineDigest(beat()));
  t.is(digests.of(beat({ epochSeen: 7 })), machineDigest(beat({ epochSeen: 7 })));
  t.is(digests.of(beat({ node: "m2", pid: 1 })), machineDigest(beat({ node: "m2", pid: 1 })));
});
