import { mkdirSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { cellNameSchema, nodeNameSchema } from "@corral/contracts";
import { borgletCgroupPath, connectNats, createLogger, exitOnUncaught, loadFlags, METRICS_FLAG_OPTIONS, metricsFlagShape, onShutdown, parsedFlag, ServiceMetrics } from "@corral/kit";
import { parseCpu, parseDuration, parseSize } from "@corral/spec";
import { Borglet } from "./borglet.js";
import { countTasks, TaskUsageMetrics } from "./borglet-metrics.js";
import { hostCapacity } from "./capacity.js";
import { DEFAULT_STARTS_IN_FLIGHT } from "./spawner.js";
import { StartGate } from "./start-gate.js";
import { HollowFleet } from "./hollow-fleet.js";
import { hollowMachines } from "./hollow-machines.js";
import { AllocCgroups } from "./runtime/alloc-cgroups.js";
import { imageRoots } from "./runtime/image-roots.js";
import { checkIsolation } from "./runtime/isolation-check.js";

const flags = loadFlags(
  "corral-borglet",
  process.argv.slice(2),
  {
    cell: { type: "string", default: "local" },
    nats: { type: "string", default: "nats://127.0.0.1:4222" },
    name: { type: "string", default: hostname().toLowerCase().replace(/[^a-z0-9_-]/g, "-") },
    host: { type: "string", default: "127.0.0.1" },
    "data-dir": { type: "string", default: "/var/lib/corral/borglet" },
    ports: { type: "string", default: "20000-29999" },
    "binary-path": { type: "string", default: "" },
    heartbeat: { type: "string", default: "1s" },
    "log-max-size": { type: "string", default: "10M" },
    "host-volumes": { type: "string", default: "" },
    cpu: { type: "string" },
    ram: { type: "string" },
    disk: { type: "string" },
    "host-share": { type: "string", default: "1" },
    "starts-in-flight": { type: "string", default: String(DEFAULT_STARTS_IN_FLIGHT) },
    "container-starts": { type: "string", default: "auto" },
    attribute: { type: "string", multiple: true, default: [] },
    hollow: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    ...METRICS_FLAG_OPTIONS,
  },
  z.object({
    cell: cellNameSchema,
    nats: z.string().min(1),
    name: nodeNameSchema,
    host: z.string().min(1).max(255),
    dataDir: z.string().min(1),
    ports: z
      .string()
      .regex(/^\d+-\d+$/, "a range like 20000-20999")
      .transform((text) => text.split("-").map(Number) as [number, number])
      .refine(([low, high]) => low >= 1 && high <= 65535 && low <= high, "ports between 1 and 65535, low first"),
    binaryPath: z.string().transform((text) => text.split(":").filter((dir) => dir !== "")),
    heartbeat: parsedFlag(parseDuration).refine((ms) => ms >= 50 && ms <= 60_000, "between 50ms and 60s"),
    /** a task's stdout or stderr beyond this is rotated, one older file kept */
    logMaxSize: parsedFlag(parseSize).refine((bytes) => bytes >= 1024, "at least 1K"),
    /** directories under which jobs may mount host volumes, ':'-separated; empty: none */
    hostVolumes: z
      .string()
      .transform((text) => text.split(":").filter((dir) => dir !== ""))
      .refine((dirs) => dirs.every((dir) => dir.startsWith("/") && !dir.split("/").includes("..")), "absolute directories without '..', separated by ':'"),
    cpu: parsedFlag(parseCpu).optional(),
    ram: parsedFlag(parseSize).optional(),
    disk: parsedFlag(parseSize).optional(),
    /** borglets on this host: each offers this share of the detected cpu, ram and disk (not of --cpu/--ram/--disk, which say what this one offers) */
    hostShare: z.coerce.number({ error: "a whole number of borglets, like 3" }).int("a whole number of borglets, like 3").min(1, "at least 1 (this borglet alone)").max(1024, "at most 1024"),
    /** task spawns in flight at once; more wait in the start queue */
    startsInFlight: z.coerce.number({ error: "a whole number, like 16" }).int("a whole number, like 16").min(1, "at least 1").max(1024, "at most 1024"),
    /** containers started at once (auto: two per core of the host's share, at least 1); more wait their turn */
    containerStarts: z.union([
      z.literal("auto"),
      z.coerce.number({ error: "a whole number, like 2, or auto" }).int("a whole number, like 2, or auto").min(1, "at least 1").max(256, "at most 256"),
    ]),
    attribute: z
      .array(z.string().regex(/^[a-z0-9_.-]+=.*$/, "key=value"))
      .transform((pairs) => Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]))),
    /** simulate this many machines, named <name>-<i>, with no processes (scale tests) */
    hollow: z.coerce.number().int().min(0).max(200_000),
    seed: z.coerce.number().int(),
    ...metricsFlagShape,
  }),
);

const log = createLogger("borglet", flags.cell, { node: flags.name });
exitOnUncaught(log);
const metrics = new ServiceMetrics("borglet", flags.cell);
await metrics.serve(flags, log);
if (flags.hollow > 0) {
  await runHollow();
} else {
  await runReal();
}

async function runHollow(): Promise<void> {
  const nc = await connectNats(flags.nats, `${flags.name}@${flags.cell}`, log, metrics.connections);
  const heapBefore = settledHeap();
  const fleet = new HollowFleet(
    nc,
    hollowMachines(flags.name, flags.hollow, flags.seed),
    { cell: flags.cell, host: flags.host, portRange: flags.ports, heartbeatMs: flags.heartbeat },
    log,
  );
  fleet.start();
  // What one simulated machine costs, for the load tests (target: 10 KB).
  const bytesPerMachine = Math.round((settledHeap() - heapBefore) / flags.hollow);
  log.info({ machines: fleet.size, bytesPerMachine }, "hollow memory");
  onShutdown(log, async () => {
    fleet.stop();
    await nc.drain().catch(() => {});
    await metrics.close();
  });
  log.info({ machines: fleet.size }, "hollow borglet started");
}

function settledHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function runReal(): Promise<void> {
  const dataDir = resolve(flags.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const detected = hostCapacity(dataDir, flags.hostShare);
  const nc = await connectNats(flags.nats, `${flags.name}@${flags.cell}`, log, metrics.connections);
  const support = checkIsolation();
  // Jobs without an image run either way; with one, a missing piece is named in the task's failure.
  if (!support.ok) log.warn({ problem: support.problem }, "isolated runtime unavailable: jobs with an image will fail here");
  // Many borglets may share a host (local cells, tests): each makes its tasks' cgroups under its own.
  const cgroupParent = borgletCgroupPath(flags.name, dataDir);
  const isolation = support.ok
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
        },
      }
    : { ok: false as const, problem: support.problem };
  const borglet = new Borglet(
    nc,
    {
      cell: flags.cell,
      name: flags.name,
      host: flags.host,
      dataDir,
      capacity: { cpu: flags.cpu ?? detected.cpu, ram: flags.ram ?? detected.ram, disk: flags.disk ?? detected.disk },
      attributes: flags.attribute,
      portRange: flags.ports,
      binaryPath: flags.binaryPath,
      heartbeatMs: flags.heartbeat,
      startsInFlight: flags.startsInFlight,
      logMaxBytes: flags.logMaxSize,
      isolation,
    },
    log,
    new TaskUsageMetrics(metrics.registry),
  );
  countTasks(metrics.registry, () => borglet.taskStates());
  borglet.start();

  // Tasks outlive their borglet (Borg keeps them running while the agent restarts).
  onShutdown(log, async () => {
    borglet.stop();
    await nc.drain().catch(() => {});
    await metrics.close();
  });
  log.info({ dataDir, ports: flags.ports, capacity: { cpu: flags.cpu ?? detected.cpu, ram: flags.ram ?? detected.ram, disk: flags.disk ?? detected.disk }, hostShare: flags.hostShare, isolation: support.ok ? `cgroup v${support.cgroupVersion}` : "unavailable" }, "borglet started");
}
