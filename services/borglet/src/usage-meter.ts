import type { CgroupUsage } from "./runtime/cgroups.js";

/** A move smaller than both of these is noise, not news (Borg's link shards forward only real changes). */
const CPU_MOVE_CORES = 0.05;
const RAM_MOVE_BYTES = 16 * 1024 * 1024;
const RELATIVE_MOVE = 0.1;
/** Even without a move, the leader hears the numbers this often. */
const REFRESH_MS = 30_000;

interface Reading {
  cpuSeconds: number;
  at: number;
  /** what was last flagged to the leader */
  told?: { cpu: number; ram: number; at: number };
}

/**
 * Turns cgroup counters into usage (cores since the last reading, bytes now) and decides
 * when usage has moved enough that the leader should hear of it.
 */
export class UsageMeter {
  private readonly readings = new Map<string, Reading>();
  private moved = false;

  /** The task's usage since its last reading; undefined for its first (a rate needs two). */
  sample(key: string, counters: CgroupUsage, now = Date.now()): { cpu: number; ram: number } | undefined {
    const last = this.readings.get(key);
    this.readings.set(key, { cpuSeconds: counters.cpuSeconds, at: now, ...(last?.told === undefined ? {} : { told: last.told }) });
    if (last === undefined || now <= last.at) return undefined;
    const usage = { cpu: Math.max(0, (counters.cpuSeconds - last.cpuSeconds) / ((now - last.at) / 1000)), ram: counters.ramBytes };
    const told = last.told;
    if (told === undefined || now - told.at >= REFRESH_MS || movedFrom(told.cpu, usage.cpu, CPU_MOVE_CORES) || movedFrom(told.ram, usage.ram, RAM_MOVE_BYTES)) {
      this.readings.get(key)!.told = { ...usage, at: now };
      this.moved = true;
    }
    return { cpu: Math.round(usage.cpu * 1000) / 1000, ram: usage.ram };
  }

  /** Whether any task's usage moved since the last call; resets the flag. */
  takeMoved(): boolean {
    const moved = this.moved;
    this.moved = false;
    return moved;
  }

  forget(key: string): void {
    this.readings.delete(key);
  }
}

function movedFrom(before: number, now: number, absolute: number): boolean {
  const change = Math.abs(now - before);
  return change >= absolute && change >= RELATIVE_MOVE * Math.max(before, now);
}
