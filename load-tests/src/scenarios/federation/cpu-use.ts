import { sleep } from "@corral/kit";
import type { LoadFederation } from "../../harness/load-federation.js";
import { machineBusySeconds } from "../../harness/machine-cpu.js";
import { sumOf } from "../../harness/stats.js";

/** A moment of a run: when, our processes' cpu, and the whole machine's. */
export interface CpuMark {
  at: number;
  ours: Record<string, number>;
  machine: number;
}

export function cpuMark(fed: LoadFederation): CpuMark {
  return { at: performance.now(), ours: fed.cpuSecondsByProcess(), machine: machineBusySeconds() };
}

/** Cores that processes other than this run's used between two marks (other engineers' tests on a shared machine). */
export function otherCores(from: CpuMark, to: CpuMark): number {
  const ours = Object.entries(to.ours).reduce((total, [name, seconds]) => total + seconds - (from.ours[name] ?? 0), 0);
  return Math.round(((to.machine - from.machine - ours) / ((to.at - from.at) / 1000)) * 100) / 100;
}

/** CPU seconds by kind of process between two snapshots of `cpuSecondsByProcess`. */
export function cpuByRole(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const roles: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(after)) {
    const role = name === "load-generator" ? name : name.startsWith("gateway") ? name : name.includes("master") ? "masters" : name.includes("scheduler") ? "schedulers" : name.includes("hollow") ? "hollow borglets" : "nats and redis";
    roles[role] = Math.round(((roles[role] ?? 0) + seconds - (before[name] ?? 0)) * 100) / 100;
  }
  return roles;
}

/** Cores the federation uses at rest, with no job, over `idleS` seconds; NaN when not measured. */
export async function measureIdleCores(fed: LoadFederation, idleS: number): Promise<number> {
  await sleep(2000); // the start-up's tail (compiling, first heartbeats) out of the idle measurement
  const cpuIdleFrom = fed.cpuSecondsByProcess();
  const idleFrom = performance.now();
  await sleep(idleS * 1000);
  const cpuAtStart = fed.cpuSecondsByProcess();
  return idleS === 0 ? Number.NaN : (sumOf(cpuAtStart) - sumOf(cpuIdleFrom)) / ((performance.now() - idleFrom) / 1000);
}
