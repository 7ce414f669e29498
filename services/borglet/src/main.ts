import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { RUNTIMES_ATTRIBUTE, TASK_RUNTIMES, type RuntimeName } from "@corral/contracts";
import { borgletCgroupPath, flag, fromFlag, LeaderVerifier, parsedFlag, startService } from "@corral/kit";
import { parseCpu, parseDuration, parseSize } from "@corral/spec";
import { Borglet } from "./borglet.js";
import { HostRuntime } from "./host-runtime.js";
import { CONTAINER_ID_COUNT, ContainerIds, parseUidRange, rangesOverlap, TaskUids } from "./task-uids.js";
import { countTasks, TaskUsageMetrics } from "./borglet-metrics.js";
import { hostCapacity } from "./capacity.js";
import { DEFAULT_STARTS_IN_FLIGHT } from "./spawner.js";
import { StartGate } from "./start-gate.js";
import { HollowFleet } from "./hollow-fleet.js";
import { hollowMachines } from "./hollow-machines.js";
import { AllocCgroups } from "./runtime/alloc-cgroups.js";
import { imageRoots } from "./runtime/image-roots.js";
import { checkIsolation } from "./runtime/isolation-check.js";
import { detectCgroupVersion } from "./runtime/cgroups.js";
import { CAPABILITIES } from "./runtime/oci-config.js";
import { DEFAULT_SECCOMP_PROFILE, loadSeccompProfile, type OciSeccomp } from "./runtime/seccomp-profile.js";
import type { TaskPidsLimit } from "./task-pids-cgroup.js";

const USER_NAMESPACES_LIMIT = "/proc/sys/user/max_user_namespaces";
/** kernel.keys.maxkeys and maxbytes for uids other than root: room for thousands of containers per user (raiseKeyQuotas). */
const KEY_QUOTAS: ReadonlyArray<[string, number]> = [
  ["/proc/sys/kernel/keys/maxkeys", 20_000],
  ["/proc/sys/kernel/keys/maxbytes", 2_000_000],
];
const wholeNumber = (example: string) => z.coerce.number({ error: `a whole number, like ${example}` }).int(`a whole number, like ${example}`);
const directories = z.string().transform((text) => text.split(":").filter((dir) => dir !== ""));

const { flags, log, metrics, nc, onStop } = await startService({
  service: "borglet",
  summary: "The Corral borglet: the agent on each machine; it offers the machine to the cell, runs the tasks the leader places here as processes or containers, and reports them by heartbeat.",
  name: { help: "this machine's name in the cell", default: hostname().toLowerCase().replace(/[^a-z0-9_-]/g, "-"), defaultShown: "the host name" },
  flags: {
    host: flag("the address tasks here are reached at", z.string().min(1).max(255), { default: "127.0.0.1" }),
    dataDir: flag("where task sandboxes, logs and images are kept", z.string().min(1), { default: "/var/lib/corral/borglet" }),
    taskUids: flag(
      "the unprivileged uids (and gids) host tasks run as, one per user, as FROM-TO; 'none': tasks run as the borglet's own user (a borglet not run as root cannot switch)",
      parsedFlag((text): "none" | { from: number; to: number } => (text.trim() === "none" ? "none" : parseUidRange(text))),
      { default: "2000000-2099999" },
    ),
    runtimes: flag(
      "the runtimes this machine offers, comma-separated: host (a binary as a process) and isolated (an image in a container); the scheduler places only the tasks it can run here",
      z
        .string()
        .transform((text) => [...new Set(text.split(",").map((word) => word.trim()).filter((word) => word !== ""))])
        .refine((words) => words.length > 0 && words.every((word) => (TASK_RUNTIMES as readonly string[]).includes(word)), `one or more of ${TASK_RUNTIMES.join(", ")}, comma-separated, like isolated`)
        .transform((words) => words as RuntimeName[]),
      { default: "host,isolated" },
    ),
    containerUids: flag(
      "the host ids containers' user namespaces map, 65536 per user, as FROM-TO (a container's root is the first of its owner's block); 'none': containers' root is the machine's root",
      parsedFlag((text): "none" | { from: number; to: number } => (text.trim() === "none" ? "none" : parseUidRange(text))),
      { default: "100000000-1099999999" },
    ),
    ports: flag(
      "the ports this borglet hands to tasks, as low-high",
      z
        .string()
        .regex(/^\d+-\d+$/, "a range like 20000-20999")
        .transform((text) => text.split("-").map(Number) as [number, number])
        .refine(([low, high]) => low >= 1 && high <= 65535 && low <= high, "ports between 1 and 65535, low first"),
      { default: "20000-29999" },
    ),
    binaryPath: flag("directories searched for a task's binary, ':'-separated; empty: the PATH", directories, { default: "" }),
    heartbeat: flag("how often to report to the masters", parsedFlag(parseDuration).refine((ms) => ms >= 50 && ms <= 60_000, "between 50ms and 60s"), { default: "1s" }),
    logMaxSize: flag("a task's stdout or stderr beyond this is rotated, one older file kept", parsedFlag(parseSize).refine((bytes) => bytes >= 1024, "at least 1K"), { default: "10M" }),
    hostVolumes: flag(
      "directories under which jobs may mount host volumes, ':'-separated; empty: none",
      directories.refine((dirs) => dirs.every((dir) => dir.startsWith("/") && !dir.split("/").includes("..")), "absolute directories without '..', separated by ':'"),
      { default: "" },
    ),
    cpu: flag("the cpus offered; unset: the host's share", parsedFlag(parseCpu).optional()),
    ram: flag("the memory offered, like 8G; unset: the host's share", parsedFlag(parseSize).optional()),
    disk: flag("the disk offered, like 100G; unset: the host's share", parsedFlag(parseSize).optional()),
    hostShare: flag(
      "borglets on this host: each offers this share of the detected cpu, ram and disk (not of --cpu/--ram/--disk)",
      z.coerce.number({ error: "a whole number of borglets, like 3" }).int("a whole number of borglets, like 3").min(1, "at least 1 (this borglet alone)").max(1024, "at most 1024"),
      { default: "1" },
    ),
    startsInFlight: flag("task spawns in flight at once; more wait in the start queue", wholeNumber("16").min(1, "at least 1").max(1024, "at most 1024"), { default: String(DEFAULT_STARTS_IN_FLIGHT) }),
    containerStarts: flag(
      "containers started at once; auto: two per core of the host's share",
      z.union([z.literal("auto"), wholeNumber("2").min(1, "at least 1").max(256, "at most 256")], { error: "a whole number, like 2, or auto" }),
      { default: "auto" },
    ),
    attribute: flag(
      "a machine attribute, key=value, for constraints",
      z
        .array(z.string().regex(/^[a-z0-9_.-]+=.*$/, "key=value, like zone=eu-1"))
        .transform((pairs) => Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]))),
      { multiple: true },
    ),
    seccompProfile: flag(
      `the seccomp profile containers run under (Docker's form, as Debian's containers-common ships it); 'unconfined': none`,
      z.string().min(1),
      { default: DEFAULT_SECCOMP_PROFILE },
    ),
    taskPidsMax: flag(
      "the most processes and threads one host task may have at once (its own pids cgroup; a fork bomb stops there); 0: no limit. Needs root, as --task-uids does",
      wholeNumber("4096").min(0).max(4_194_304),
      { default: "4096" },
    ),
    leaderPublicKeyFile: flag(
      "the file (PEM) of the masters' public key: commands are obeyed only in a term it verifies; `corral cell credentials` makes it",
      z.string({ error: "required: the masters' public key file (`corral cell credentials` makes one)" }).min(1, "required: the masters' public key file (`corral cell credentials` makes one)"),
    ),
    hollow: flag("simulate this many machines, named <name>-<i>, with no processes (scale tests); 0: a real borglet", wholeNumber("1000").min(0).max(200_000), { default: "0" }),
    seed: flag("the seed of the hollow machines' shapes", wholeNumber("1"), { default: "1" }),
  },
  logFields: (flags) => ({ node: flags.name }),
  connectionName: (flags) => `${flags.name}@${flags.cell}`,
});
// Before anything runs: a borglet that cannot check the leader's term must not start.
const leader = fromFlag(() => LeaderVerifier.fromFile(flags.leaderPublicKeyFile), "corral-borglet");
if (flags.hollow > 0) {
  await runHollow();
} else {
  await runReal();
}

async function runHollow(): Promise<void> {
  const heapBefore = settledHeap();
  const fleet = new HollowFleet(
    nc,
    hollowMachines(flags.name, flags.hollow, flags.seed),
    { cell: flags.cell, host: flags.host, portRange: flags.ports, heartbeatMs: flags.heartbeat, leader },
    log,
  );
  fleet.start();
  // What one simulated machine costs, for the load tests (target: 10 KB).
  const bytesPerMachine = Math.round((settledHeap() - heapBefore) / flags.hollow);
  log.info({ machines: fleet.size, bytesPerMachine }, "hollow memory");
  onStop(() => fleet.stop());
  log.info({ machines: fleet.size }, "hollow borglet started");
}

function settledHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Who host tasks run as. Each user's own uid needs a borglet run as root, and a data
 * directory the tasks can reach their sandboxes through: both are checked here, at start,
 * rather than found out task by task.
 */
function taskUidsFor(dataDir: string): TaskUids | undefined {
  if (flags.taskUids === "none") {
    log.warn("--task-uids none: host tasks run as this borglet's own user");
    return undefined;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write(`corral-borglet: --task-uids ${flags.taskUids.from}-${flags.taskUids.to} needs the borglet to run as root (it switches each task to its owner's uid); run it as root, or give --task-uids none to run every task as this user\n`);
    process.exit(2);
  }
  requirePassable(dataDir, `tasks run as their owners' own uids must pass through it to reach their sandboxes in ${join(dataDir, "sandboxes")}`);
  return new TaskUids(dataDir, flags.taskUids);
}

/** Tasks run as unprivileged uids reach their files under the data directory only if every directory above lets others pass. */
function requirePassable(dataDir: string, why: string): void {
  for (let dir = dataDir; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      process.stderr.write(`corral-borglet: ${dir} is closed to others, but ${why}; chmod o+x ${dir}, or choose another --data-dir\n`);
      process.exit(2);
    }
    if (dirname(dir) === dir) break;
  }
}

/**
 * The host ids containers' user namespaces map, or why containers cannot run: a kernel that
 * allows no user namespaces is named rather than containers run as the machine's root.
 */
function containerIdsFor(dataDir: string): { ok: true; ids: ContainerIds | undefined } | { ok: false; problem: string } {
  if (flags.containerUids === "none") {
    log.warn("--container-uids none: a container's root is the machine's root");
    return { ok: true, ids: undefined };
  }
  if (flags.taskUids !== "none" && rangesOverlap(flags.containerUids, flags.taskUids)) {
    process.stderr.write(`corral-borglet: --container-uids ${flags.containerUids.from}-${flags.containerUids.to} overlaps --task-uids ${flags.taskUids.from}-${flags.taskUids.to}; a container's ids must not be a host task's, give ranges apart\n`);
    process.exit(2);
  }
  if (flags.containerUids.to - flags.containerUids.from + 1 < CONTAINER_ID_COUNT) {
    process.stderr.write(`corral-borglet: --container-uids ${flags.containerUids.from}-${flags.containerUids.to} is smaller than one user's block of ${CONTAINER_ID_COUNT} ids; widen it\n`);
    process.exit(2);
  }
  const allowed = existsSync(USER_NAMESPACES_LIMIT) ? Number(readFileSync(USER_NAMESPACES_LIMIT, "utf8").trim()) : 0;
  if (!(allowed > 0)) return { ok: false, problem: `this kernel allows no user namespaces (${USER_NAMESPACES_LIMIT} is ${allowed}); raise it, or give --container-uids none to run containers' root as the machine's root` };
  requirePassable(dataDir, `a container's root, an unprivileged uid here, must pass through it to reach its root file system in ${join(dataDir, "bundles")}`);
  raiseKeyQuotas();
  return { ok: true, ids: new ContainerIds(dataDir, flags.containerUids) };
}

/**
 * runc gives every container a session keyring of its own, owned by the container's root: with
 * user namespaces that is its user's uid here, and the kernel's default quota for a uid that is
 * not root (200 keys, 20,000 bytes) stops that user's containers at about 200 a machine
 * ("unable to create session key: disk quota exceeded"). Raised here, as Docker's and LXD's
 * guides for user namespaces advise; never lowered.
 */
function raiseKeyQuotas(): void {
  for (const [file, wanted] of KEY_QUOTAS) {
    const current = Number(readFileSync(file, "utf8").trim());
    if (!(current < wanted)) continue;
    try {
      writeFileSync(file, String(wanted));
      log.info({ sysctl: file, from: current, to: wanted }, "raised the kernel's key quota for unprivileged uids: each container holds a key of its user's uid");
    } catch (error) {
      log.warn({ sysctl: file, current, wanted, err: error }, "could not raise the kernel's key quota: one user's containers beyond it will fail to start (disk quota exceeded)");
    }
  }
}

/** util-linux's setpriv, from the system's own directories: host tasks start through it with no_new_privs. */
function setprivPath(): string {
  const found = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => existsSync(path));
  if (found === undefined) {
    process.stderr.write("corral-borglet: setpriv was not found in /usr/bin or /bin; host tasks start through it (no_new_privs). Install util-linux\n");
    process.exit(2);
  }
  return found;
}

/**
 * The pids limit of each host task: a cgroup of its own needs root and a pids controller.
 * Without them the borglet says so and runs tasks unlimited, as before; asked for a limit
 * it cannot give as root, it stops rather than run without.
 */
function pidsLimitFor(cgroupParent: string): TaskPidsLimit | undefined {
  if (flags.taskPidsMax === 0) {
    log.warn("--task-pids-max 0: host tasks may fork without limit");
    return undefined;
  }
  if (process.getuid?.() !== 0) {
    log.warn({ taskPidsMax: flags.taskPidsMax }, "host tasks have no pids limit: making their cgroups needs a borglet run as root");
    return undefined;
  }
  const version = detectCgroupVersion();
  const controller = version === 2 ? existsSync("/sys/fs/cgroup/cgroup.controllers") && readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("pids") : version === 1 && existsSync("/sys/fs/cgroup/pids");
  if (version === undefined || !controller) {
    process.stderr.write(`corral-borglet: --task-pids-max ${flags.taskPidsMax} needs the pids cgroup controller, which this machine does not offer; enable it, or give --task-pids-max 0 to run host tasks without a limit\n`);
    process.exit(2);
  }
  return { version, parent: cgroupParent, max: flags.taskPidsMax };
}

/** The seccomp filter for containers, or why there is none: a profile that cannot be read keeps containers from running, never runs them unfiltered. */
function seccompOf(): { ok: true; profile: OciSeccomp | undefined } | { ok: false; problem: string } {
  if (flags.seccompProfile === "unconfined") {
    log.warn("--seccomp-profile unconfined: containers may make any system call");
    return { ok: true, profile: undefined };
  }
  try {
    return { ok: true, profile: loadSeccompProfile(flags.seccompProfile, CAPABILITIES) };
  } catch (error) {
    return { ok: false, problem: `${(error as Error).message}; install Debian's golang-github-containers-common for the default profile, or give --seccomp-profile` };
  }
}

async function runReal(): Promise<void> {
  const dataDir = resolve(flags.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const detected = hostCapacity(dataDir, flags.hostShare);
  const support = checkIsolation();
  // Jobs without an image run either way; with one, a missing piece is named in the task's failure.
  if (!support.ok) log.warn({ problem: support.problem }, "isolated runtime unavailable: jobs with an image will fail here");
  // Many borglets may share a host (local cells, tests): each makes its tasks' cgroups under its own.
  const cgroupParent = borgletCgroupPath(flags.name, dataDir);
  const seccomp = seccompOf();
  if (support.ok && !seccomp.ok) log.warn({ problem: seccomp.problem }, "isolated runtime unavailable: jobs with an image will fail here");
  const containerIds = support.ok ? containerIdsFor(dataDir) : { ok: true as const, ids: undefined };
  if (!containerIds.ok) log.warn({ problem: containerIds.problem }, "isolated runtime unavailable: jobs with an image will fail here");
  const isolation = support.ok && seccomp.ok && containerIds.ok
    ? {
        ok: true as const,
        runtime: {
          runc: support.runc,
          runcRoot: join(dataDir, "runc"),
          hostVolumeDirs: flags.hostVolumes,
          cgroupVersion: support.cgroupVersion,
          cgroupParent,
          allocCgroups: new AllocCgroups(support.cgroupVersion, cgroupParent),
          prepareRoot: imageRoots(nc, flags.cell, dataDir, log),
          // Two per core: part of each start waits (the mount, runc's handshake with its init), not computes.
          starts: new StartGate(flags.containerStarts === "auto" ? Math.max(1, Math.round((2 * availableParallelism()) / flags.hostShare)) : flags.containerStarts),
          seccomp: seccomp.profile,
          containerIds: containerIds.ids,
        },
      }
    : { ok: false as const, problem: !support.ok ? support.problem : !seccomp.ok ? seccomp.problem : (containerIds as { problem: string }).problem };
  const taskUids = taskUidsFor(dataDir);
  const pidsLimit = pidsLimitFor(cgroupParent);
  const runtime = new HostRuntime(
    {
      name: flags.name,
      host: flags.host,
      dataDir,
      binaryPath: flags.binaryPath,
      startsInFlight: flags.startsInFlight,
      logMaxBytes: flags.logMaxSize,
      isolation,
      ...(taskUids === undefined ? {} : { taskUids }),
      ...(pidsLimit === undefined ? {} : { pidsLimit }),
      setpriv: setprivPath(),
      runtimes: flags.runtimes,
    },
    log,
  );
  const borglet = new Borglet(
    nc,
    {
      cell: flags.cell,
      name: flags.name,
      host: flags.host,
      capacity: { cpu: flags.cpu ?? detected.cpu, ram: flags.ram ?? detected.ram, disk: flags.disk ?? detected.disk },
      // The scheduler reads what runs here from an attribute of its own, which the borglet sets.
      attributes: { ...flags.attribute, [RUNTIMES_ATTRIBUTE]: flags.runtimes.join(",") },
      portRange: flags.ports,
      heartbeatMs: flags.heartbeat,
      leader,
    },
    runtime,
    log,
    new TaskUsageMetrics(metrics.registry),
  );
  countTasks(metrics.registry, () => borglet.taskStates());
  borglet.start();

  // Tasks outlive their borglet (Borg keeps them running while the agent restarts).
  onStop(() => borglet.stop());
  log.info({ dataDir, ports: flags.ports, capacity: { cpu: flags.cpu ?? detected.cpu, ram: flags.ram ?? detected.ram, disk: flags.disk ?? detected.disk }, hostShare: flags.hostShare, isolation: support.ok ? `cgroup v${support.cgroupVersion}` : "unavailable" }, "borglet started");
}
