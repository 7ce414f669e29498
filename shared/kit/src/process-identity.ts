import { readFileSync } from "node:fs";

/** A process recognisable later even if its pid is reused: its pid and when it started. */
export interface ProcessIdentity {
  pid: number;
  /** clock ticks since boot at which it started (/proc/<pid>/stat field 22) */
  startTime: number;
}

export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after its closing ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

export function isSameProcessAlive(process: ProcessIdentity): boolean {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined || startTime !== process.startTime) return false;
  try {
    const state = readFileSync(`/proc/${process.pid}/stat`, "utf8");
    return !/\) Z /.test(state); // a zombie is gone for our purposes
  } catch {
    return false;
  }
}

