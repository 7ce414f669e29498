import test from "ava";
import { DEFAULT_SECCOMP_PROFILE, loadSeccompProfile } from "../src/runtime/seccomp-profile.js";
import { CAPABILITIES } from "../src/runtime/oci-config.js";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { shiftLayer, type CommandRunner, type IdShift } from "@corral/images";
import { CONTAINER_ID_COUNT, ContainerIds } from "../src/task-uids.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lease } from "@corral/contracts";
import { createLogger, removeEmptyCgroups } from "@corral/kit";
import { busyboxRoot } from "@corral/testkit";
import { taskPaths, type TaskExit } from "../src/host-task.js";
import { checkIsolation } from "../src/runtime/isolation-check.js";
import { IsolatedTask } from "../src/runtime/isolated-task.js";
import type { IsolatedRuntime, PreparedRoot } from "../src/runtime/isolated-runtime.js";
import { AllocCgroups } from "../src/runtime/alloc-cgroups.js";
import { Spawner } from "../src/spawner.js";
import { StartGate } from "../src/start-gate.js";

const MIB = 1024 ** 2;
const APPLETS = ["ps", "hostname", "cat", "sleep", "head", "tr", "echo", "ls", "wc", "true", "chroot", "grep", "id", "touch", "stat"];

/**
 * The test's image, a real root file system per task: a static busybox and its applets, with
 * a passwd and group of its own; `user:…` images say USER is that. In a user namespace it is
 * the copy shiftLayer makes, owned by the container's ids, as the layer store gives it.
 */
async function taskRoot(image: string, taskDir: string, run: CommandRunner, shift: IdShift | undefined): Promise<PreparedRoot> {
  const files = { "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n", "/etc/group": "root:x:0:\napp:x:1000:\nstaff:x:50:\n" };
  const built = busyboxRoot("isolated-task", { applets: APPLETS, files });
  const user = image.startsWith("user:") ? image.slice("user:".length) : undefined;
  let rootfs = built;
  if (shift !== undefined) {
    mkdirSync(taskDir, { recursive: true });
    rootfs = join(taskDir, "rootfs");
    await shiftLayer(built, rootfs, join(taskDir, "staging"), shift, run);
    rmSync(join(built, ".."), { recursive: true, force: true });
  }
  return { rootfs, env: ["PATH=/bin"], ...(user === undefined ? {} : { user }), release: async () => rmSync(join(rootfs, ".."), { recursive: true, force: true }) };
}

const support = checkIsolation();
/** this test's own cgroup, as a borglet has its own */
const CGROUP_PARENT = `/corral/isolated-test-${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), "corral-isolated-"));
// A container's root, an unprivileged uid here, passes through it to its root file system.
chmodSync(dataDir, 0o711);
/** Four users' blocks of container ids. */
const CONTAINER_UIDS = { from: 100_000_000, to: 100_000_000 + 4 * CONTAINER_ID_COUNT - 1 };
const runtime: IsolatedRuntime | undefined = support.ok
  ? {
      runc: support.runc,
      runcRoot: join(dataDir, "runc"),
      hostVolumeDirs: [join(dataDir, "shared")],
      cgroupVersion: support.cgroupVersion,
      cgroupParent: CGROUP_PARENT,
      allocCgroups: new AllocCgroups(support.cgroupVersion, CGROUP_PARENT),
      prepareRoot: taskRoot,
      starts: new StartGate(2),
      seccomp: loadSeccompProfile(DEFAULT_SECCOMP_PROFILE, CAPABILITIES),
      containerIds: new ContainerIds(dataDir, CONTAINER_UIDS),
    }
  : undefined;
/** runc is started through a spawn helper, as in the borglet */
const spawner = new Spawner(createLogger("borglet-test", "test"));
spawner.start();

test.after.always(() => {
  spawner.stop();
  rmSync(dataDir, { recursive: true, force: true });
  // The test's own cgroup, as runc leaves a borglet's (the allocs' are removed by their last task).
  removeEmptyCgroups([CGROUP_PARENT]);
});

let nextIndex = 0;
function lease(script: string, ramMiB = 32, extra: Partial<Lease> = {}): Lease {
  return {
    taskId: `${nextIndex++}.box.alice.local`,
    incarnation: 0,
    image: "box:1",
    binary: "sh",
    args: ["-c", script],
    env: { GREETING: "hello" },
    ports: [],
    requirements: { cpu: 0.1, ram: ramMiB * MIB, disk: 0, ports: 0 },
    priority: "batch",
    gracePeriodMs: 500,
    ...extra,
  };
}

/** Runs a task to its end; resolves with what happened and its stdout. */
function runToEnd(spec: Lease, during?: (task: IsolatedTask) => void): Promise<{ started?: number; failed?: string; exit?: TaskExit; stdout: string }> {
  if (runtime === undefined) throw new Error(`isolation unavailable: ${support.ok ? "" : support.problem}`);
  const paths = taskPaths(dataDir, spec.taskId);
  return new Promise((resolve) => {
    const outcome: { started?: number; failed?: string; exit?: TaskExit } = {};
    const stdout = () => (existsSync(paths.stdout) ? readFileSync(paths.stdout, "utf8") : "");
    const task = new IsolatedTask(spec, "127.0.0.1", "node-a", dataDir, runtime, paths, spawner, {
      started: (pid) => {
        outcome.started = pid;
        during?.(task);
      },
      failed: (message) => resolve({ ...outcome, failed: message, stdout: stdout() }),
      exited: (exit) => resolve({ ...outcome, exit, stdout: stdout() }),
    });
    void task.start();
  });
}

test("the machine can run isolated tasks (root, runc, cgroups, overlayfs)", (t) => {
  t.true(support.ok, support.ok ? "" : support.problem);
});

test("a task sees only its own processes, its task name as hostname, and its environment", async (t) => {
  const result = await runToEnd(lease("hostname; ps -o pid,comm | wc -l; echo $GREETING $CORRAL_TASK; cat /proc/1/cmdline | tr '\\000' ' '"));
  t.is(result.exit?.exitCode, 0, result.failed ?? result.stdout);
  const [hostname, processCount, environment, init] = result.stdout.trim().split("\n");
  t.regex(hostname!, /^\d+\.box\.alice\.local$/);
  // ps's header, the shell, ps and wc: nothing of the host's hundreds of processes.
  t.true(Number(processCount) <= 4, `saw ${processCount} lines of ps`);
  t.regex(environment!, /^hello \d+\.box\.alice\.local$/);
  t.regex(init!, /^\/bin\/sh -c /, "the task is pid 1 of its own pid namespace");
});

test("a container runs under the seccomp profile, with no new privileges and few capabilities", async (t) => {
  // Which calls the filter refuses is checked on the profile itself (seccomp-profile.test.ts):
  // Docker's profile answers EPERM where a missing capability would too, so from inside, the
  // filter shows as the process's seccomp mode.
  const result = await runToEnd(lease("chroot / true 2>&1; grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs|CapEff):' /proc/self/status"));
  t.is(result.exit?.exitCode, 0, result.failed ?? result.stdout);
  t.regex(result.stdout, /Operation not permitted/, "chroot refused");
  t.regex(result.stdout, /^Seccomp:\s+2$/m, "in seccomp filter mode");
  t.regex(result.stdout, /^NoNewPrivs:\s+1$/m);
  t.regex(result.stdout, /^CapEff:\s+0000000020000420$/m, "only CAP_KILL, CAP_NET_BIND_SERVICE and CAP_AUDIT_WRITE");
});

test("a container runs as the image's USER, looked up in the image's own files; a name it does not have fails the task, naming it", async (t) => {
  for (const [user, expected] of [["app", "1000 1000"], ["1000:staff", "1000 50"], ["4242", "4242 0"], ["app:50", "1000 50"]] as const) {
    const result = await runToEnd(lease("echo $(id -u) $(id -g)", 32, { image: `user:${user}` }));
    t.is(result.stdout.trim(), expected, `USER ${user}: ${result.failed ?? ""}`);
  }
  const root = await runToEnd(lease("id -u"));
  t.is(root.stdout.trim(), "0", "no USER: root");
  const missing = await runToEnd(lease("true", 32, { image: "user:nobody-here" }));
  t.regex(missing.failed ?? "", /image user:nobody-here: the image's USER 'nobody-here' names 'nobody-here', which is not in the image's \/etc\/passwd/);
  const badGroup = await runToEnd(lease("true", 32, { image: "user:app:wheel" }));
  t.regex(badGroup.failed ?? "", /names group 'wheel', which is not in the image's \/etc\/group/);
});

/** The host ids a running process has: its real uid and gid, as the machine sees them. */
function hostIdsOf(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) };
}

/** Runs `script` after the test has looked at the container's process from the machine; resolves with what it saw and the task's stdout. */
async function seenFromMachine(spec: Lease): Promise<{ ids?: { uid: number; gid: number }; stdout: string; failed?: string }> {
  let ids: { uid: number; gid: number } | undefined;
  const gated = { ...spec, args: ["-c", `while [ ! -e /tmp/looked ]; do sleep 0.05; done; ${spec.args[1]}`] };
  const result = await runToEnd(gated, (task) => {
    ids = hostIdsOf(task.pid!);
    // The container's /tmp, written from the machine through the kernel's view of its root.
    writeFileSync(`/proc/${task.pid!}/root/tmp/looked`, "");
  });
  return { ...(ids === undefined ? {} : { ids }), stdout: result.stdout, ...(result.failed === undefined ? {} : { failed: result.failed }) };
}

test("a container's root is an unprivileged uid on the machine, in a user namespace of its owner's own 65536 ids; it still owns its root file system", async (t) => {
  const alice = await seenFromMachine(lease("id -u; cat /proc/self/uid_map; touch /etc/written && echo wrote; stat -c %u /etc/written"));
  const aliceBlock = runtime!.containerIds!.of("alice").uid;
  t.deepEqual(alice.ids, { uid: aliceBlock, gid: aliceBlock }, alice.failed);
  t.true(aliceBlock >= CONTAINER_UIDS.from && aliceBlock !== 0);
  const [uid, map, wrote, owner] = alice.stdout.trim().split("\n");
  t.is(uid, "0", "root inside");
  t.deepEqual(map!.trim().split(/\s+/).map(Number), [0, aliceBlock, CONTAINER_ID_COUNT]);
  t.is(wrote, "wrote", "root inside may change its own image");
  t.is(owner, "0");
  // Another user's containers map other ids: they cannot touch each other's files or processes.
  const bob = await seenFromMachine(lease("id -u", 32, { taskId: `${nextIndex++}.box.bob.local` }));
  t.is(bob.stdout.trim(), "0");
  t.true(bob.ids !== undefined && bob.ids.uid >= aliceBlock + CONTAINER_ID_COUNT, `bob's block (${bob.ids?.uid}) is apart from alice's (${aliceBlock})`);
  // The image's USER is mapped the same way: uid 1000 inside is the block's 1000th id outside.
  const app = await seenFromMachine(lease("id -u", 32, { image: "user:app" }));
  t.deepEqual(app.ids, { uid: aliceBlock + 1000, gid: aliceBlock + 1000 });
});

test("a USER beyond the namespace's ids fails the task naming it; an admin's run-as-root job has no user namespace", async (t) => {
  const beyond = await runToEnd(lease("true", 32, { image: "user:70000" }));
  t.regex(beyond.failed ?? `it ran: ${beyond.stdout}`, /the image's USER '70000' is 70000:0, beyond the ids a container's user namespace maps \(0-65535\)/);
  const asRoot = await seenFromMachine(lease("cat /proc/self/uid_map", 32, { runAsRoot: true }));
  t.deepEqual(asRoot.ids, { uid: 0, gid: 0 });
  t.deepEqual(asRoot.stdout.trim().split(/\s+/).map(Number), [0, 0, 4294967295]);
});

test("a task over its memory limit is killed by the kernel and reported as OOM", async (t) => {
  // Holds a 100M string in a 32M container.
  const result = await runToEnd(lease("x=$(head -c 100000000 /dev/zero | tr '\\000' a); echo survived", 32));
  t.true(result.exit?.oom, JSON.stringify(result));
  t.is(result.exit?.signal, "SIGKILL");
  t.is(result.exit?.oomOfAlloc, undefined, "its own limit");
  t.false(result.stdout.includes("survived"));
});

test("stop: SIGTERM to the task, then SIGKILL after the grace period when it ignores it", async (t) => {
  const started = Date.now();
  const result = await runToEnd(lease("trap '' TERM; echo ready; while true; do sleep 1; done"), (task) => setTimeout(() => task.stop(300, true), 300));
  t.is(result.exit?.signal, "SIGKILL");
  t.true(result.exit?.revoked);
  t.true(Date.now() - started >= 600, "the grace period was given");
});

test("a binary the image does not have fails the task, naming the image and where it looked", async (t) => {
  const result = await runToEnd(lease("", 32, { binary: "nginx" }));
  t.is(result.started, undefined);
  t.regex(result.failed ?? "", /binary 'nginx' not found in image box:1 \(looked in \/bin\/nginx\)/);
});

test("an exec check that times out is killed inside the container too, not only its runc exec", async (t) => {
  let checked: { timedOut: { exitCode: number | null }; left: string } | undefined;
  const result = await runToEnd(lease("sleep 30", 32, { gracePeriodMs: 100 }), (task) => {
    void (async () => {
      const timedOut = await task.exec(["sh", "-c", "sleep 100"], 300);
      const left = (await task.exec(["ps", "-o", "args"], 5000)).output;
      checked = { timedOut, left };
      task.stop(100, true);
    })();
  });
  t.truthy(result.exit);
  t.is(checked?.timedOut.exitCode, null, "a timeout is no answer");
  t.false(checked?.left.includes("sleep 100"), checked?.left);
});

test("a stop that arrives while the image is being prepared: the container never starts, and the stop is reported", async (t) => {
  const spec = lease("trap '' TERM; while true; do sleep 1; done");
  const started = Date.now();
  let startedPid: number | undefined;
  const result = await new Promise<{ exit?: TaskExit }>((resolve) => {
    const task = new IsolatedTask(spec, "127.0.0.1", "node-a", dataDir, runtime!, taskPaths(dataDir, spec.taskId), spawner, {
      started: (pid) => {
        startedPid = pid;
      },
      failed: () => resolve({}),
      exited: (exit) => resolve({ exit }),
    });
    void task.start();
    task.stop(300, true); // before runc has even been started
  });
  t.true(result.exit?.revoked);
  t.is(startedPid, undefined);
  t.true(Date.now() - started < 15_000);
});

test("a host volume under --host-volumes is mounted (read-only when asked); one outside is refused, naming the allowed directories", async (t) => {
  const shared = join(dataDir, "shared", "site");
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, "index.html"), "from the host\n");
  const mounted = await runToEnd(lease("cat /www/index.html; echo x > /www/new 2>/dev/null || echo read-only", 32, { volumes: [{ host: shared, path: "/www", readOnly: true }] }));
  t.is(mounted.stdout, "from the host\nread-only\n");
  const refused = await runToEnd(lease("true", 32, { volumes: [{ host: "/etc", path: "/host-etc", readOnly: false }] }));
  t.regex(refused.failed ?? "", /host directory \/etc is not under the directories node-a lets jobs mount \(--host-volumes: .*shared\)/);
  // A way out of the allowed directory, by a link or by '..', is judged by where it leads.
  symlinkSync("/etc", join(dataDir, "shared", "etc-link"));
  for (const sneaky of [join(dataDir, "shared", "etc-link"), `${join(dataDir, "shared")}/../../../etc`]) {
    const escaped = await runToEnd(lease("cat /host-etc/hostname", 32, { volumes: [{ host: sneaky, path: "/host-etc", readOnly: true }] }));
    t.regex(escaped.failed ?? `it ran: ${escaped.stdout}`, /\(it leads to \/etc\) is not under the directories/);
  }
});

/** Where the kernel says a process's memory is accounted (cgroup v1's memory hierarchy, or v2's one). */
function memoryCgroupOf(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  return (/^\d+:memory:(.*)$/m.exec(lines) ?? /^0::(.*)$/m.exec(lines))![1]!;
}

function memoryLimitOf(path: string): number {
  return support.ok && support.cgroupVersion === 2
    ? Number(readFileSync(join("/sys/fs/cgroup", path, "memory.max"), "utf8"))
    : Number(readFileSync(join("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes"), "utf8"));
}

test("tasks of one alloc run inside the alloc's cgroup, which holds its reservation; the last one out removes it", async (t) => {
  const allocs = runtime!.allocCgroups;
  const alloc = "0.slots.alice.local";
  const inAlloc = { alloc, allocSize: { cpu: 0.5, ram: 96 * MIB, disk: 0 } };
  const parent = allocs.pathOf(alloc);
  const seen: { task: string; taskLimit: number; parentLimit: number }[] = [];
  const during = (task: IsolatedTask) => {
    const path = memoryCgroupOf(task.pid!);
    seen.push({ task: path, taskLimit: memoryLimitOf(path), parentLimit: memoryLimitOf(path.slice(0, path.lastIndexOf("/"))) });
  };
  const [first, second] = await Promise.all([
    runToEnd(lease("sleep 1", 32, inAlloc), during),
    runToEnd(lease("sleep 1", 48, inAlloc), during),
  ]);
  t.is(first.exit?.exitCode, 0, first.failed);
  t.is(second.exit?.exitCode, 0, second.failed);
  t.is(seen.length, 2);
  for (const { task, taskLimit, parentLimit } of seen) {
    t.true(task.startsWith(`${parent}/`), `${task} is inside ${parent}`);
    t.is(parentLimit, 96 * MIB, "the alloc's cgroup caps its tasks together at the alloc's ram");
    t.true(taskLimit === 32 * MIB || taskLimit === 48 * MIB, "each task keeps its own limit too");
  }
  const hierarchy = support.ok && support.cgroupVersion === 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
  t.false(existsSync(join(hierarchy, parent)), "removed once its last task is gone");
});

test("the alloc's memory binds its tasks together: a task within its own limit but over the alloc's is OOM-killed", async (t) => {
  // Admission never lets tasks ask for more than their alloc; this shows the kernel enforces the alloc itself.
  const inAlloc = { alloc: "1.slots.alice.local", allocSize: { cpu: 0.5, ram: 32 * MIB, disk: 0 } };
  const result = await runToEnd(lease("x=$(head -c 60000000 /dev/zero | tr '\\000' a); echo survived", 128, inAlloc));
  t.true(result.exit?.oom, JSON.stringify(result));
  t.true(result.exit?.oomOfAlloc, "the alloc's limit, not the task's own, was gone over");
  t.false(result.stdout.includes("survived"));
});
