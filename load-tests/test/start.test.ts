import test from "ava";
import { parseJobSpec } from "@corral/spec";
import { mountPointsUnder } from "../src/harness/leftovers.js";
import { reachedOverTime, summarizeRound } from "../src/harness/start-round.js";
import { startJobSource, startOptions } from "../src/scenarios/start.js";

test("start: options have defaults, take flag strings, and refuse an unknown runtime", (t) => {
  t.deepEqual(startOptions.parse({}), { replicas: 50, runtime: "host", borglets: 2, masters: 3, ram: "16M", timeoutS: 300 });
  t.is(startOptions.parse({ replicas: "200", runtime: "isolated" }).replicas, 200);
  t.false(startOptions.safeParse({ runtime: "docker" }).success);
  t.false(startOptions.safeParse({ ram: "lots" }).success);
  t.false(startOptions.safeParse({ replicas: "0" }).success);
});

test("start: the job is busybox httpd on its port, from the image when isolated, from a host directory otherwise", (t) => {
  const isolated = parseJobSpec(startJobSource("start_cold", { replicas: 50, runtime: "isolated", ram: "16M" }), { file: "start.borg" });
  t.is(isolated.image, "bench:1");
  t.is(isolated.binary, "/bin/busybox");
  t.deepEqual(isolated.args, ["httpd", "-f", "-p", "%port%", "-h", "/www"]);
  t.is(isolated.replicas, 50);
  t.is(isolated.requirements.ports, 1);
  t.is(isolated.requirements.ram, 16 * 1024 ** 2);

  const host = parseJobSpec(startJobSource("start_warm", { replicas: 3, runtime: "host", ram: "32M", hostWebDir: "/tmp/x/www" }), { file: "start.borg" });
  t.is(host.image, undefined);
  t.deepEqual(host.args.slice(-2), ["-h", "/tmp/x/www"]);
  t.throws(() => startJobSource("j", { replicas: 1, runtime: "host", ram: "16M" }), { message: /hostWebDir/ });
});

test("start: a round is summarized from per-task times; one task that never got there makes 'all' NaN", (t) => {
  const summary = summarizeRound({ running: [100, 300, 200], answering: [150, undefined, 250] });
  t.is(summary.all_running_s, 0.3);
  t.true(Number.isNaN(summary.all_answering_s));
  t.is(summary.start_ms.p50, 200);
  t.is(summary.start_ms.max, 300);
  t.is(summary.answer_ms.count, 2);
  t.true(Number.isNaN(summarizeRound({ running: [], answering: [] }).all_running_s));
});

test("start: tasks over time is a step line that ends at the count", (t) => {
  t.deepEqual(reachedOverTime([2000, undefined, 1000]), [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 2, y: 1 },
    { x: 2, y: 2 },
  ]);
});

test("leftover mounts: only those under the directory, unescaped, deepest first", (t) => {
  const mounts = [
    "overlay / overlay rw 0 0",
    "overlay /tmp/cell/borglets/b0/bundles/t-0/fs/rootfs overlay rw 0 0",
    "tmpfs /tmp/cell-other/x tmpfs rw 0 0",
    "overlay /tmp/cell/with\\040space overlay rw 0 0",
    "proc /tmp/cell/borglets/b0/bundles/t-0/fs/rootfs/proc proc rw 0 0",
    "",
  ].join("\n");
  t.deepEqual(mountPointsUnder(mounts, "/tmp/cell"), [
    "/tmp/cell/borglets/b0/bundles/t-0/fs/rootfs/proc",
    "/tmp/cell/borglets/b0/bundles/t-0/fs/rootfs",
    "/tmp/cell/with space",
  ]);
});
