import { readFileSync } from "node:fs";

/** CPU seconds each process has used so far (from /proc; gone ones left out), and this load generator's. */
export function cpuSecondsOf(processes: readonly { name: string; pid: number }[]): Record<string, number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const result: Record<string, number> = {};
  for (const p of processes) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      result[p.name] = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
      // gone
    }
  }
  const own = process.cpuUsage();
  result["load-generator"] = (own.user + own.system) / 1e6;
  return result;
}
