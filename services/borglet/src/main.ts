import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { cellNameSchema, nodeNameSchema } from "@corral/contracts";
import { connectNats, createLogger, exitOnUncaught, loadFlags, onShutdown, parsedFlag } from "@corral/kit";
import { parseCpu, parseDuration, parseSize } from "@corral/spec";
import { Borglet } from "./borglet.js";
import { hostCapacity } from "./capacity.js";
import { HollowFleet } from "./hollow-fleet.js";
import { hollowMachines } from "./hollow-machines.js";

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
    cpu: { type: "string" },
    ram: { type: "string" },
    disk: { type: "string" },
    attribute: { type: "string", multiple: true, default: [] },
    hollow: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
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
    cpu: parsedFlag(parseCpu).optional(),
    ram: parsedFlag(parseSize).optional(),
    disk: parsedFlag(parseSize).optional(),
    attribute: z
      .array(z.string().regex(/^[a-z0-9_.-]+=.*$/, "key=value"))
      .transform((pairs) => Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]))),
    /** simulate this many machines, named <name>-<i>, with no processes (scale tests) */
    hollow: z.coerce.number().int().min(0).max(200_000),
    seed: z.coerce.number().int(),
  }),
);

const log = createLogger("borglet", flags.cell, { node: flags.name });
exitOnUncaught(log);
if (flags.hollow > 0) {
  await runHollow();
} else {
  await runReal();
}

async function runHollow(): Promise<void> {
  const nc = await connectNats(flags.nats, `${flags.name}@${flags.cell}`, log);
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
  const detected = hostCapacity(dataDir);
  const nc = await connectNats(flags.nats, `${flags.name}@${flags.cell}`, log);
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
    },
    log,
  );
  borglet.start();

  // Tasks outlive their borglet (Borg keeps them running while the agent restarts).
  onShutdown(log, async () => {
    borglet.stop();
    await nc.drain().catch(() => {});
  });
  log.info({ dataDir, ports: flags.ports }, "borglet started");
}
