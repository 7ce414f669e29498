import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayClient } from "@corral/client";
import { masterStats, subjects, type JobView, type NodeView } from "@corral/contracts";
import { callRpc, connectNats, createLogger, isSameProcessAlive, readNatsCredentials, REDIS_USER, type NatsConnection } from "@corral/kit";
import { adminTokenOf, cellCaOf, natsCredentialsFile, operatorNatsOptions, redisPasswordOf, restartProcess, writeCellFile, signalGroup, startLocalCell, stopStartedCell, type CellFile, type CellOptions, type StartedProcess } from "@corral/launcher";

export const TEST_USER = "tester";

/** A fresh directory for one test's servers and logs. */
export function testDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `corral-${label}-`));
  // Tasks run as their owners' own uids and must pass through to their sandboxes; nobody may list it, and its secrets are mode 600.
  chmodSync(dir, 0o711);
  return dir;
}

export interface HttpResult<T> {
  status: number;
  body: T;
}

/**
 * A real local cell for one test file: nats-server, redis-server and every service as
 * child processes, with helpers to talk to its gateway and to kill its parts. The cell dies
 * with the test's process, however that ends (a test file that times out, or is killed,
 * leaves nothing running).
 */
export class TestCell {
  private nats: NatsConnection | undefined;

  private constructor(
    readonly cell: CellFile,
    /** which gateway http() talks to (a federation may have several) */
    private readonly gatewayIndex = 0,
  ) {}

  /** The same cell, talking to another of its gateways. */
  viaGateway(index: number): TestCell {
    const urls = this.cell.gateways ?? [this.cell.gateway];
    if (urls[index] === undefined) throw new Error(`no gateway ${index}; this cell has ${urls.length}`);
    return new TestCell(this.cell, index);
  }

  /** The leader's own view (replica name, epoch, counts), waiting through an election. */
  /**
   * The leader's stats, once some master leads. Masters just restarted from source on a
   * machine busy with the whole suite can take tens of seconds to start and elect, so
   * callers that restarted them pass a longer wait.
   */
  async leader(waitMs = 20_000) {
    this.nats ??= await connectNats(this.cell.nats, "testkit", createLogger("testkit", this.cell.cell), operatorNatsOptions(this.cell));
    return callRpc(this.nats, subjects.api(this.cell.cell, "stats"), masterStats, this.cell.cell, { collectGarbage: false }, { timeoutMs: 2000, retryForMs: waitMs, idempotent: true });
  }

  /**
   * A NATS connection signed in as one of the cell's clients: `operator` (anything), a
   * service (`borglet-0`, `gateway`, `scheduler-0`), or `submit-tester` (the test user's
   * producer on the submit stream). The caller closes it.
   */
  connectAs(client: string): Promise<NatsConnection> {
    if (this.cell.natsAuth === undefined) throw new Error("this cell's NATS takes no credentials");
    return connectNats(this.cell.nats, `test-as-${client}`, createLogger("testkit", this.cell.cell), { ...operatorNatsOptions(this.cell), credentials: readNatsCredentials(natsCredentialsFile(this.cell.natsAuth, client)) });
  }

  static async start(label: string, options: Partial<CellOptions> = {}): Promise<TestCell> {
    const dir = testDir(label);
    // A multi-host cell runs one borglet per host: it takes no borglet count.
    const defaults = options.hosts === undefined ? { masters: 2, borglets: 3 } : { masters: 2 };
    const cell = await startLocalCell({ ...defaults, dieWithStarter: true, admin: TEST_USER, ...options, dir });
    return new TestCell(cell);
  }

  get gateway(): string {
    return (this.cell.gateways ?? [this.cell.gateway])[this.gatewayIndex]!;
  }

  process(name: string): StartedProcess {
    const found = this.cell.processes.find((p) => p.name === name);
    if (found === undefined) throw new Error(`no process ${name} in this cell`);
    return found;
  }

  /** Starts a killed process again with the same flags, ports and data; later calls see the new pid. */
  async restart(name: string): Promise<StartedProcess> {
    const index = this.cell.processes.findIndex((p) => p.name === name);
    if (index === -1) throw new Error(`no process ${name} in this cell`);
    // Recorded once spawned, before a server answers, so the watchdog knows of it meanwhile.
    return restartProcess(this.cell.processes[index]!, (started) => {
      this.cell.processes[index] = started;
      writeCellFile(this.cell);
    });
  }

  /** Waits until the process has exited (after a kill). */
  async exited(name: string): Promise<void> {
    // A process restarted only to see it refuse to start may take half a minute to get that far on a loaded machine.
    await eventually(`${name} to exit`, () => (this.alive(name) ? undefined : true), 60_000);
  }

  kill(name: string, signal: NodeJS.Signals = "SIGKILL"): void {
    if (!signalGroup(this.process(name), signal)) throw new Error(`${name} was not running`);
  }

  alive(name: string): boolean {
    return isSameProcessAlive(this.process(name));
  }

  logOf(name: string): string {
    return readFileSync(this.process(name).log, "utf8");
  }

  /** The cell's admin token: the test user's. */
  get adminToken(): string {
    const token = adminTokenOf(this.cell);
    if (token === undefined) throw new Error(`cell ${this.cell.cell} has no admin token`);
    return token;
  }

  /** How a test reaches the cell's Redis and Sentinels itself: their password, and the CA when they speak TLS (ioredis's own options). */
  get redisOptions(): { username?: string; password?: string; tls?: { ca: string } } {
    const password = this.redisPassword;
    const ca = cellCaOf(this.cell);
    return { ...(password === undefined ? {} : { username: REDIS_USER, password }), ...(ca === undefined ? {} : { tls: { ca } }) };
  }

  /** How a test reaches the cell's Sentinels: the password alone (their clients sign in as their default user), and the CA. */
  get sentinelOptions(): { password?: string; tls?: { ca: string } } {
    const { username: _user, ...options } = this.redisOptions;
    return options;
  }

  /** The password of the cell's Redis and Sentinels, for tests that read its state directly. */
  get redisPassword(): string | undefined {
    return redisPasswordOf(this.cell);
  }

  /** The typed gateway client on this cell's gateway, acting as the test user (the cell's admin), or as the holder of `token`. */
  get client(): GatewayClient {
    return this.clientWith(this.adminToken);
  }

  clientWith(token: string | undefined): GatewayClient {
    return new GatewayClient(this.gateway, { token, timeoutMs: 60_000, ca: cellCaOf(this.cell) });
  }

  /** A request answered however the gateway answers it: tests assert on refusals too. */
  async http<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const { status, body: answer } = await this.client.send<T>(method, path, body, headers);
    return { status, body: answer };
  }

  async submit(source: string, file = "job.borg"): Promise<JobView> {
    return (await this.client.submit(source, file)).job;
  }

  /** The job with every page of its tasks. */
  async job(id: string): Promise<JobView> {
    return (await this.client.job(id)).job;
  }

  /** Every user's jobs, following the list's pages. */
  async jobs(): Promise<JobView[]> {
    return (await this.client.allJobs()).jobs;
  }

  async nodes(): Promise<NodeView[]> {
    return (await this.client.nodes()).nodes;
  }

  async stop(): Promise<void> {
    await this.nats?.close().catch(() => {});
    await stopStartedCell(this.cell, 2000);
  }
}

/** Polls until `check` returns a value (not undefined); throws with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `; last error: ${(lastError as Error).message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}
