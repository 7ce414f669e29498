import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * One busy-looping process per core, competing with the cell for the machine as other
 * tenants would. Each hog checks now and then that its starter still lives and exits when
 * it does not, so a benchmark killed outright leaves no hog spinning.
 */
const HOG_PROGRAM = `
const starter = Number(process.argv[1]);
let spins = 0;
for (;;) {
  if (++spins % 5e7 === 0 && process.ppid !== starter) process.exit(0);
}
`;

export class CpuHog {
  private readonly hogs: ChildProcess[];

  constructor(processes = availableParallelism()) {
    this.hogs = Array.from({ length: processes }, () => spawn(process.execPath, ["-e", HOG_PROGRAM, String(process.pid)], { stdio: "ignore" }));
    // A hog must never outlive this process, even one ended by an uncaught error.
    process.once("exit", () => this.stop());
  }

  /** The hogs' pids, to read how much cpu they took (and so that they really competed). */
  get pids(): number[] {
    return this.hogs.map((hog) => hog.pid).filter((pid): pid is number => pid !== undefined);
  }

  stop(): void {
    for (const hog of this.hogs) hog.kill("SIGKILL");
  }
}
