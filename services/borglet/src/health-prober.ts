import { connect } from "node:net";
import type { Health } from "@corral/contracts";

export type Verdict = "healthy" | "unhealthy";

/** How a check reaches the task: its address and ports, and a way to run a command beside or inside it. */
export interface ProbeTarget {
  host: string;
  ports: readonly number[];
  exec(command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }>;
}

/** One check: undefined when it passed, or what failed. */
async function probe(health: Health, target: ProbeTarget): Promise<string | undefined> {
  const { check, timeoutMs } = health;
  switch (check.type) {
    case "http": {
      const url = `http://${target.host}:${target.ports[check.port]}${check.path}`;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
        await response.body?.cancel();
        return response.status >= 200 && response.status < 400 ? undefined : `GET ${check.path} answered ${response.status}`;
      } catch (error) {
        return `GET ${check.path} failed: ${(error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message}`;
      }
    }
    case "tcp": {
      const port = target.ports[check.port]!;
      return new Promise((resolve) => {
        const socket = connect({ host: target.host, port, timeout: timeoutMs });
        const done = (failure: string | undefined) => {
          socket.destroy();
          resolve(failure);
        };
        socket.once("connect", () => done(undefined));
        socket.once("timeout", () => done(`port ${port} did not accept within ${timeoutMs} ms`));
        socket.once("error", (error) => done(`port ${port}: ${error.message}`));
      });
    }
    case "exec": {
      const result = await target.exec(check.command, timeoutMs).catch((error: unknown) => ({ exitCode: null, output: (error as Error).message }));
      if (result.exitCode === 0) return undefined;
      const said = result.output.trim().split("\n").at(-1)?.slice(0, 200);
      return `${check.command[0]} ${result.exitCode === null ? "did not finish" : `exited with code ${result.exitCode}`}${said ? `: ${said}` : ""}`;
    }
  }
}

/**
 * A task's health check, run every interval from the borglet (Borg's health-check
 * endpoint): `failures` failed checks in a row make the task unhealthy, and the borglet
 * restarts it; verdicts are reported as they change.
 */
export class HealthProber {
  private timer: NodeJS.Timeout | undefined;
  private failuresInRow = 0;
  private verdict: Verdict | undefined;
  private stopped = false;

  constructor(
    private readonly health: Health,
    private readonly target: ProbeTarget,
    private readonly onVerdict: (verdict: Verdict, message: string | undefined) => void,
  ) {}

  get current(): Verdict | undefined {
    return this.verdict;
  }

  /** The first check comes one interval after the start: a task gets that long to come up. */
  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce(), this.health.intervalMs);
  }

  private async runOnce(): Promise<void> {
    const failure = await probe(this.health, this.target);
    if (this.stopped) return;
    if (failure === undefined) {
      this.failuresInRow = 0;
      this.decide("healthy", undefined);
    } else {
      this.failuresInRow += 1;
      if (this.failuresInRow >= this.health.failures) this.decide("unhealthy", `${failure} (${this.failuresInRow} failed check${this.failuresInRow === 1 ? "" : "s"} in a row)`);
    }
    this.schedule();
  }

  private decide(verdict: Verdict, message: string | undefined): void {
    if (this.verdict === verdict) return;
    this.verdict = verdict;
    this.onVerdict(verdict, message);
  }
}
