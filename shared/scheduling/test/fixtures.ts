import type { MachineOffer, TaskRequest } from "../src/model.js";

const GIB = 1024 ** 3;

export function machine(name: string, overrides: Partial<MachineOffer> = {}): MachineOffer {
  const capacity = overrides.capacity ?? { cpu: 8, ram: 32 * GIB, disk: 100 * GIB };
  return {
    name,
    capacity,
    free: overrides.free ?? { ...capacity },
    attributes: overrides.attributes ?? {},
    portRange: overrides.portRange ?? [20000, 20009],
    usedPorts: overrides.usedPorts ?? [],
    ...(overrides.jobTasks === undefined ? {} : { jobTasks: overrides.jobTasks }),
    ...(overrides.reclaimable === undefined ? {} : { reclaimable: overrides.reclaimable }),
  };
}

export function task(id: string, overrides: Partial<TaskRequest> = {}): TaskRequest {
  return {
    taskId: id,
    incarnation: 0,
    job: overrides.job ?? "web.alice.local",
    user: "alice",
    band: "production",
    requirements: { cpu: 1, ram: 1 * GIB, disk: 0, ports: 0 },
    constraints: [],
    preferences: [],
    ...overrides,
  };
}

export function replicas(count: number, overrides: Partial<TaskRequest> = {}): TaskRequest[] {
  return Array.from({ length: count }, (_, index) => task(`${index}.${overrides.job ?? "web.alice.local"}`, overrides));
}

export { GIB };
