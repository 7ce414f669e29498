import { pickWeighted, seededRandom } from "@corral/kit";
import { pendingOrder } from "./pending-queue.js";
import type { MachineOffer, TaskRequest } from "./model.js";
import { taskId, type PriorityBand } from "@corral/contracts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;


/** Machine shapes of a trace-like cell, including the high-memory and high-cpu ones that strand resources. */
const SHAPES: readonly (readonly [{ shape: string; cpu: number; ram: number }, number])[] = [
  [{ shape: "small", cpu: 8, ram: 32 * GIB }, 0.3],
  [{ shape: "medium", cpu: 16, ram: 64 * GIB }, 0.4],
  [{ shape: "large", cpu: 32, ram: 128 * GIB }, 0.15],
  [{ shape: "highmem", cpu: 16, ram: 256 * GIB }, 0.1],
  [{ shape: "highcpu", cpu: 48, ram: 96 * GIB }, 0.05],
];

/** M machines with mixed shapes and attributes: 40 a rack, 5 racks a power domain, some arm64, half with ssd. */
export function syntheticMachines(count: number, seed: number): MachineOffer[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const shape = pickWeighted(random, SHAPES);
    const rack = Math.floor(i / 40);
    const capacity = { cpu: shape.cpu, ram: shape.ram, disk: 2000 * GIB };
    const attributes: Record<string, string> = {
      shape: shape.shape,
      rack: `r${rack}`,
      power: `p${Math.floor(rack / 5)}`,
      arch: random() < 0.85 ? "x86_64" : "arm64",
    };
    if (random() < 0.5) attributes["ssd"] = "yes";
    return { name: `m${i}`, capacity, free: { ...capacity }, attributes, portRange: [20000, 20099], usedPorts: [] };
  });
}

const BAND_SHARES: readonly (readonly [PriorityBand, number])[] = [
  ["monitoring", 0.02],
  ["production", 0.38],
  ["batch", 0.45],
  ["best-effort", 0.15],
];

/**
 * T tasks from a seeded trace-like mix: jobs of exponentially distributed size, many small
 * tasks and a few large, some ram-heavy and some cpu-heavy, all four bands, 10% with hard
 * constraints, some with preferences, spread or a per-machine limit. In band order, users
 * taking turns within a band (the pending queue's order).
 */
export function syntheticTasks(count: number, seed: number, users = 50): TaskRequest[] {
  const random = seededRandom(seed * 7919 + 1);
  const tasks: TaskRequest[] = [];
  let job = 0;
  while (tasks.length < count) {
    const replicas = Math.min(count - tasks.length, Math.max(1, Math.round(-Math.log(1 - random()) * 10)));
    const kind = pickWeighted(random, [["small", 0.7], ["medium", 0.15], ["large", 0.05], ["ram-heavy", 0.05], ["cpu-heavy", 0.05]] as const);
    const cpu = { small: 0.05 + random() * 0.45, medium: 1 + random(), large: 2 + random() * 6, "ram-heavy": 0.5 + random(), "cpu-heavy": 4 + random() * 4 }[kind];
    const ram = {
      small: 64 * MIB + random() * 960 * MIB,
      medium: 2 * GIB + random() * 2 * GIB,
      large: 4 * GIB + random() * 12 * GIB,
      "ram-heavy": 16 * GIB + random() * 16 * GIB,
      "cpu-heavy": 1 * GIB + random() * GIB,
    }[kind];
    const band = pickWeighted(random, BAND_SHARES);
    const name = `job${job}.user${Math.floor(random() * users)}.cell`;
    const user = name.split(".")[1]!;
    const roll = random();
    const request: Omit<TaskRequest, "taskId"> = {
      incarnation: 0,
      job: name,
      user,
      band,
      requirements: { cpu: Math.round(cpu * 100) / 100, ram: Math.round(ram), disk: GIB, ports: random() < 0.3 ? 1 : 0 },
      constraints:
        roll < 0.05
          ? [{ attribute: "arch", op: "==", values: ["x86_64"] }]
          : roll < 0.08
            ? [{ attribute: "ssd", op: "exists", values: [] }]
            : roll < 0.1
              ? [{ attribute: "shape", op: "in", values: ["large", "highmem", "highcpu"] }]
              : [],
      preferences: random() < 0.05 ? [{ attribute: "ssd", op: "exists", values: [], weight: 10 }] : [],
      ...(band === "production" && random() < 0.2 ? { spread: { across: "rack" as const, maxSkew: 1 } } : {}),
      ...(random() < 0.05 ? { maxPerMachine: 1 } : {}),
    };
    for (let index = 0; index < replicas; index++) tasks.push({ ...request, taskId: taskId(index, name) });
    job += 1;
  }
  return pendingOrder(tasks);
}

/** Borg's bucketing experiment: requests rounded up to the next power of two (cpu in cores, ram in bytes). */
export function bucketed(task: TaskRequest): TaskRequest {
  const up = (value: number) => Math.pow(2, Math.ceil(Math.log2(value)));
  return { ...task, requirements: { ...task.requirements, cpu: up(task.requirements.cpu), ram: up(task.requirements.ram) } };
}
