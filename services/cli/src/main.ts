import { readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { basename, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { CorralError, MAX_REPLICAS, NAME_PATTERN, parseSelector, selectorMatches, type FederatedJobView, type JobView } from "@corral/contracts";
import { CheckpointStore, connectRedisOnce, decodeCheckpoint, encodeCheckpoint, isSameProcessAlive, type Redis } from "@corral/kit";
import { readCellFile, startLocalCell, stopLocalCell } from "@corral/launcher";
import { POLICIES, syntheticMachines, type MachineOffer } from "@corral/scheduling";
import { READABLE_RECORDS_VERSIONS, RECORDS_VERSION } from "@corral/state";
import { parseDuration, parseJobSpec, SpecError } from "@corral/spec";
import { gatewayUrl, type Location } from "./cell-location.js";
import { checkpointText, inspectCheckpoint } from "./checkpoint-report.js";
import { simulate, simulationText } from "./simulate.js";
import { cellsTable, eventsTable, jobSummary, jobsTable, nodesTable, planText, whyText } from "./format.js";
import { watchJobs } from "./watch-jobs.js";
import { ApiError, GatewayClient, type JobList } from "@corral/client";
import { imageCell, imagesTable, listCellImages, pushImageFile, pushSummary } from "./images.js";
import { followLogs } from "./follow-logs.js";
import { waitForJob } from "./wait.js";

/** A selector is checked before anything is sent: a typo is named here, not as an empty list. */
function labelSelector(text: string): string {
  try {
    parseSelector(text, "--selector");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

/** Checked here so a typo is refused before anything is sent; the gateway reads it again. */
function graceDuration(text: string): string {
  try {
    parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

function positiveInteger(what: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) throw new InvalidArgumentError(`${what} must be a whole number from 0 to ${max}`);
    return parsed;
  };
}

function cellList(text: string): string[] {
  const cells = text.split(",").map((cell) => cell.trim());
  const bad = cells.find((cell) => !NAME_PATTERN.test(cell));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not a cell name (lower-case letters, digits, '_' and '-'); e.g. --cells a,b,c`);
  if (new Set(cells).size !== cells.length) throw new InvalidArgumentError(`a cell is named twice in ${text}`);
  return cells;
}

function defaultUser(): string {
  const name = (process.env["CORRAL_USER"] ?? userInfo().username).toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  return NAME_PATTERN.test(name) ? name : "default";
}

const program = new Command()
  .name("corral")
  .description("Corral: a Borg-style cluster manager. Talks to a cell's gateway over HTTP.")
  .option("--dir <dir>", "the local cell's directory (ports, pids, logs)", ".corral")
  .option("--gateway <url>", "a gateway URL, instead of the local cell in --dir")
  .option("--user <name>", "the job owner", defaultUser())
  .showHelpAfterError();

function location(): Location {
  const options = program.opts<{ dir: string; gateway?: string }>();
  return options.gateway === undefined ? { dir: options.dir } : { dir: options.dir, gateway: options.gateway };
}

function client(): GatewayClient {
  return new GatewayClient(gatewayUrl(location()), { user: program.opts<{ user: string }>().user });
}

function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

// ---- cell ---------------------------------------------------------------------------

const cell = program.command("cell").description("start, inspect and stop a local cell");

cell
  .command("up")
  .description("start a local cell in the background: nats-server, redis-server, 5 masters, a scheduler, borglets, a gateway")
  .option("--borglets <n>", "how many borglets (machines)", positiveInteger("--borglets", 64), 3)
  .option("--masters <n>", "how many master replicas", positiveInteger("--masters", 9), 5)
  .option("--cell <name>", "the cell's name", "local")
  .option("--cells <names>", "a federation: these cells (e.g. a,b,c), each with its own redis-server, masters, scheduler and borglets, behind the gateways", cellList)
  .option("--gateways <n>", "how many gateways (with --cells they federate every cell)", positiveInteger("--gateways", 9), 1)
  .option("--nats-per-cell", "with --cells: each cell its own nats-server, joined into one super-cluster by NATS gateways (see deploy/nats/)")
  .action(async (options: { borglets: number; masters: number; cell: string; cells?: string[]; gateways: number; natsPerCell?: boolean }) => {
    if (options.natsPerCell === true && options.cells === undefined) throw new InvalidArgumentError("--nats-per-cell needs --cells: a single cell has one nats-server anyway");
    const dir = resolve(program.opts<{ dir: string }>().dir);
    const started = await startLocalCell({
      dir,
      cell: options.cell,
      ...(options.cells === undefined ? {} : { cells: options.cells }),
      ...(options.natsPerCell === true ? { natsPerCell: true } : {}),
      gateways: Math.max(1, options.gateways),
      borglets: options.borglets,
      masters: Math.max(1, options.masters),
      onProgress: (message) => process.stderr.write(`  ${message}\n`),
    });
    const what = started.cells === undefined ? `cell '${started.cell}' is up` : `cells ${started.cells.map((c) => c.cell).join(", ")} are up behind ${(started.gateways ?? [started.gateway]).length} gateway(s)`;
    process.stderr.write(`${what}; logs in ${dir}/logs\n`);
    process.stdout.write(`${(started.gateways ?? [started.gateway]).join("\n")}\n`);
  });

cell
  .command("status")
  .description("the local cell's gateway, servers and processes")
  .option("--json", "print JSON for scripts")
  .action((options: { json?: boolean }) => {
    const dir = resolve(program.opts<{ dir: string }>().dir);
    const found = readCellFile(dir);
    if (found === undefined) throw new Error(`no local cell in ${dir}; start one with: corral cell up`);
    const processes = found.processes.map((p) => ({ role: p.role, name: p.name, pid: p.pid, alive: isSameProcessAlive(p), log: p.log }));
    const status = { cell: found.cell, ...(found.cells === undefined ? {} : { cells: found.cells, gateways: found.gateways }), dir: found.dir, gateway: found.gateway, ui: `${found.gateway}/ui`, ...(found.dns === undefined ? {} : { dns: found.dns }), ...(found.metrics === undefined ? {} : { metrics: found.metrics }), nats: found.nats, redis: found.redis, startedAt: found.startedAt, processes };
    print(status, options.json === true, () =>
      [
        found.cells === undefined
          ? `cell ${found.cell}  gateway ${found.gateway}${found.dns === undefined ? "" : `  dns ${found.dns}`}  nats ${found.nats}  redis ${found.redis}`
          : `cells ${found.cells.map((c) => `${c.cell} (redis ${c.redis})`).join(", ")}  gateways ${(found.gateways ?? []).join(" ")}  nats ${found.nats}`,
        ...processes.map((p) => `  ${p.name.padEnd(14)} pid ${String(p.pid).padEnd(8)} ${p.alive ? "running" : "gone"}`),
      ].join("\n"),
    );
  });

cell
  .command("down")
  .description("stop exactly the processes 'cell up' started, and the tasks its borglets ran")
  .action(async () => {
    const dir = resolve(program.opts<{ dir: string }>().dir);
    const stopped = await stopLocalCell(dir);
    if (stopped === undefined) throw new Error(`no local cell in ${dir}`);
    const what = stopped.cells === undefined ? `cell '${stopped.cell}'` : `cells ${stopped.cells.map((c) => c.cell).join(", ")}`;
    process.stderr.write(`${what} stopped (${stopped.processes.length} processes)\n`);
  });

// ---- jobs ---------------------------------------------------------------------------

function formatOf(file: string): "borg" | "yaml" | "json" | undefined {
  if (file.endsWith(".borg")) return "borg";
  if (file.endsWith(".yaml") || file.endsWith(".yml")) return "yaml";
  if (file.endsWith(".json")) return "json";
  return undefined;
}

program
  .command("up")
  .description("submit a job from a .borg, .yaml or .json file")
  .argument("<file>", "the job specification")
  .option("--wait", "wait until every task is running")
  .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 120)
  .option("--json", "print JSON for scripts")
  .action(async (file: string, options: { wait?: boolean; timeout: number; json?: boolean }) => {
    const source = readFileSync(file, "utf8");
    // Parsed here too, so a bad file is reported before any network round trip.
    parseJobSpec(source, { file });
    const api = client();
    const { job } = await api.submit(source, basename(file), formatOf(file));
    if (options.wait !== true) {
      print({ job }, options.json === true, () => `submitted ${job.id} (${job.replicas} tasks)`);
      return;
    }
    const running = await waitForJob(api, job.id, {
      label: `${job.id} running`,
      count: (j) => j.summary.running,
      done: (j) => j.summary.running === j.replicas,
      failed: (j) => (j.summary.dead > 0 ? `${j.summary.dead} tasks died: ${j.tasks.find((t) => t.state === "dead")?.reason ?? ""}` : undefined),
      timeoutMs: options.timeout * 1000,
      quiet: options.json === true,
    });
    print({ job: running }, options.json === true, () => `${jobSummary(running)}\n${jobsTable([running])}`);
  });

program
  .command("ps")
  .description("jobs and their tasks")
  .argument("[job]", "one job: its name or <job>.<user>.<cell>")
  .option("--all", "every user's jobs")
  .option("-l, --selector <labels>", "only jobs whose labels match, e.g. tier=web,env!=prod,canary,!legacy", labelSelector)
  .option("-w, --watch", "after the table, print each task change as it happens, until Ctrl-C (with --json: one JSON object per line)")
  .option("--json", "print JSON for scripts")
  .action(async (job: string | undefined, options: { all?: boolean; selector?: string; watch?: boolean; json?: boolean }) => {
    const api = client();
    const read = async (): Promise<JobList> =>
      job !== undefined
        ? await api.job(job).then((r) => ({ jobs: [r.job].filter((found) => options.selector === undefined || selectorMatches(parseSelector(options.selector), found.labels)), stale: r.stale }))
        : options.all === true
          ? await api.allJobs(options.selector)
          : await api.jobs(options.selector);
    const answer = await read();
    // A federation's gateway lists federated jobs apart; people see them in the one table.
    const jobs = [...answer.jobs, ...(answer.federated ?? [])] as JobView[];
    // During a failover a standby answers from its copy: say so, it may lag by a moment.
    if (answer.stale === true && options.json !== true) process.stderr.write("note: no leader right now; this is a standby's copy and may be slightly behind\n");
    const unreachable = answer.unreachable ?? [];
    if (unreachable.length > 0 && options.json !== true) process.stderr.write(`note: no answer from cell${unreachable.length === 1 ? "" : "s"} ${unreachable.join(", ")}; their jobs are missing here\n`);
    const shown = { jobs: answer.jobs, ...(answer.federated === undefined ? {} : { federated: answer.federated }), stale: answer.stale === true, ...(answer.unreachable === undefined ? {} : { unreachable }) };
    if (options.watch === true && options.json === true) process.stdout.write(`${JSON.stringify(shown)}\n`);
    else print(shown, options.json === true, () => (jobs.length === 0 ? "no jobs" : `${jobs.map(jobSummary).join("\n")}\n${jobsTable(jobs)}`));
    if (options.watch === true) await watchJobs(async () => { const again = await read(); return [...again.jobs, ...(again.federated ?? [])] as JobView[]; }, options.json === true, jobs);
  });

program
  .command("events")
  .description("what happened to a job and its tasks: submitted, scheduled on X, started, unhealthy, restarted, preempted by Y, machine lost")
  .argument("<job>", "its name or <job>.<user>.<cell>")
  .option("--json", "print JSON for scripts")
  .action(async (job: string, options: { json?: boolean }) => {
    const answer = await client().events(job);
    print(answer, options.json === true, () => (answer.events.length === 0 ? `${answer.job}: no events kept` : eventsTable(answer.events)));
  });

program
  .command("kill")
  .description("stop every task of a job (SIGTERM, then SIGKILL after its grace period)")
  .argument("<job>", "its name or <job>.<user>.<cell>")
  .option("--grace <duration>", "SIGKILL after this long (e.g. 5s, 0s) instead of the job's grace period", graceDuration)
  .option("--wait", "wait until every task is dead")
  .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 60)
  .option("--json", "print JSON for scripts")
  .action(async (job: string, options: { grace?: string; wait?: boolean; timeout: number; json?: boolean }) => {
    const api = client();
    const killed = (await api.kill(job, options.grace)).job;
    const final = options.wait
      ? await waitForJob(api, killed.id, {
          label: `${killed.id} stopped`,
          count: (j) => j.summary.dead,
          done: (j) => j.summary.dead === j.replicas,
          timeoutMs: options.timeout * 1000,
          quiet: options.json === true,
        })
      : killed;
    print({ job: final }, options.json === true, () => jobSummary(final));
  });

program
  .command("scale")
  .description("set a job's replica count: new tasks start, or the highest-numbered stop; the rest are untouched")
  .argument("<job>", "its name or <job>.<user>.<cell>")
  .argument("<replicas>", "how many tasks", positiveInteger("replicas", MAX_REPLICAS))
  .option("--wait", "wait until that many tasks are running")
  .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 120)
  .option("--json", "print JSON for scripts")
  .action(async (job: string, replicas: number, options: { wait?: boolean; timeout: number; json?: boolean }) => {
    const api = client();
    const scaled = (await api.scale(job, replicas)).job;
    // A federated job's tasks are numbered per cell, and its view leaves out the ones a scale
    // down is stopping: its cells say how many are still alive.
    const cellsOf = (j: JobView) => (j as unknown as Partial<FederatedJobView>).cells;
    const federated = cellsOf(scaled) !== undefined;
    const wanted = (j: JobView) => (federated ? j.tasks : j.tasks.filter((t) => t.index < replicas));
    const runningNow = (j: JobView) => wanted(j).filter((t) => t.state === "running" && t.health !== "unhealthy").length;
    const alive = (j: JobView) => (federated ? (cellsOf(j) ?? []).reduce((sum, cell) => sum + cell.live, 0) : j.tasks.filter((t) => t.state !== "dead").length);
    const final = options.wait
      ? await waitForJob(api, scaled.id, {
          label: `${scaled.id} at ${replicas}`,
          count: runningNow,
          done: (j) => runningNow(j) === replicas && alive(j) === replicas,
          failed: (j) => (j.killed ? "the job was killed" : undefined),
          timeoutMs: options.timeout * 1000,
          quiet: options.json === true,
        })
      : scaled;
    print({ job: final }, options.json === true, () => `${final.id}: ${replicas} replicas\n${jobSummary(final)}`);
  });

program
  .command("cells")
  .description("the cells behind a federation's gateway: health, machines, capacity and use")
  .option("--json", "print JSON for scripts")
  .action(async (options: { json?: boolean }) => {
    const answer = await client().cells();
    print(answer, options.json === true, () => cellsTable(answer.cells) + (answer.reconciler === null ? "\nno gateway reconciles the federation right now" : `\nreconciled by ${answer.reconciler}`));
  });

program
  .command("logs")
  .description("a task's captured output")
  .argument("<job>", "its name or <job>.<user>.<cell>")
  .argument("<index>", "the task's index", positiveInteger("index", 1_000_000))
  .option("--stderr", "standard error instead of standard output")
  .option("--tail <bytes>", "at most this many bytes from the end", positiveInteger("--tail", 16 * 1024 * 1024), 65536)
  .option("-f, --follow", "keep printing what the task writes, until it stops running (Ctrl-C to leave)")
  .action(async (job: string, index: number, options: { stderr?: boolean; tail: number; follow?: boolean }) => {
    const stream = options.stderr === true ? "stderr" : "stdout";
    const api = client();
    if (options.follow === true) {
      await followLogs(api, job, index, stream, Math.max(1, options.tail));
      return;
    }
    process.stdout.write(await api.logs(job, index, stream, Math.max(1, options.tail)));
  });

program
  .command("plan")
  .description("where a job's tasks would go now and what would be preempted, committing nothing")
  .argument("<file>", "the job specification (.borg, .yaml or .json)")
  .option("--json", "print JSON for scripts")
  .action(async (file: string, options: { json?: boolean }) => {
    const source = readFileSync(file, "utf8");
    parseJobSpec(source, { file });
    const plan = await client().plan(source, basename(file), formatOf(file));
    print(plan, options.json === true, () => planText(plan));
  });

program
  .command("why")
  .description("why a job's tasks are pending: machines refused per reason, and what would fit")
  .argument("<job>", "the job's name or full id")
  .option("--json", "print JSON for scripts")
  .action(async (job: string, options: { json?: boolean }) => {
    const why = await client().why(job);
    print(why, options.json === true, () => whyText(why));
  });

program
  .command("nodes")
  .description("the cell's machines")
  .option("--json", "print JSON for scripts")
  .action(async (options: { json?: boolean }) => {
    const { nodes } = await client().nodes();
    print({ nodes }, options.json === true, () => (nodes.length === 0 ? "no machines" : nodesTable(nodes)));
  });

// ---- checkpoints ----------------------------------------------------------------------

/** The cell's Redis and name: from --redis and --cell, or from the local cell in --dir. */
function cellStore(options: { redis?: string; cell?: string }): { url: string; cell: string } {
  const dir = resolve(program.opts<{ dir: string }>().dir);
  const local = options.redis === undefined || options.cell === undefined ? readCellFile(dir) : undefined;
  const url = options.redis ?? local?.redis;
  const cellName = options.cell ?? local?.cell;
  if (url === undefined || cellName === undefined) throw new Error(`no local cell in ${dir}: give --redis URL and --cell NAME`);
  if (!NAME_PATTERN.test(cellName)) throw new InvalidArgumentError(`--cell must match ${NAME_PATTERN.source}`);
  return { url, cell: cellName };
}

async function withCellStore<T>(options: { redis?: string; cell?: string }, work: (store: CheckpointStore, cell: string, redis: Redis) => Promise<T>): Promise<T> {
  const { url, cell: cellName } = cellStore(options);
  const redis = await connectRedisOnce(url);
  try {
    return await work(new CheckpointStore(redis, cellName, RECORDS_VERSION, READABLE_RECORDS_VERSIONS), cellName, redis);
  } finally {
    redis.disconnect();
  }
}

// ---- images -------------------------------------------------------------------------

const image = program.command("image").description("container images in the cell's NATS object store, for jobs with image = 'name:tag'");

function imageLocation(options: { nats?: string; cell?: string }) {
  return imageCell(program.opts<{ dir: string }>().dir, options.nats, options.cell);
}

image
  .command("push")
  .description("upload an image (a root filesystem directory, a tarball, a docker save or OCI image-layout tarball) once; borglets fetch its layers by digest")
  .argument("<file>", "the image: a directory, .tar/.tar.gz, docker save tarball, or OCI layout (directory or tarball)")
  .argument("<name:tag>", "what jobs call it, e.g. web:1.2")
  .option("--nats <url>", "the cell's NATS, instead of the local cell in --dir")
  .option("--cell <name>", "the cell's name (with --nats)")
  .option("--json", "print JSON for scripts")
  .action(async (file: string, reference: string, options: { nats?: string; cell?: string; json?: boolean }) => {
    const result = await pushImageFile(imageLocation(options), file, reference, options.json === true);
    print(result, options.json === true, () => pushSummary(result));
  });

image
  .command("ls")
  .description("the cell's images")
  .option("--nats <url>", "the cell's NATS, instead of the local cell in --dir")
  .option("--cell <name>", "the cell's name (with --nats)")
  .option("--json", "print JSON for scripts")
  .action(async (options: { nats?: string; cell?: string; json?: boolean }) => {
    const images = await listCellImages(imageLocation(options));
    print({ images }, options.json === true, () => imagesTable(images));
  });

const checkpoint = program.command("checkpoint").description("the cell's stored state in Redis");

checkpoint
  .command("inspect")
  .description("what the latest checkpoint holds, and what a recovering master would replay after it")
  .option("--redis <url>", "the cell's Redis, instead of the local cell's in --dir")
  .option("--cell <name>", "the cell's name, instead of the local cell's")
  .option("--json", "print JSON for scripts")
  .action(async (options: { redis?: string; cell?: string; json?: boolean }) => {
    const report = await withCellStore(options, (_store, cellName, redis) => inspectCheckpoint(redis, cellName));
    print(report, options.json === true, () => checkpointText(report));
  });

checkpoint
  .command("save")
  .description("write the cell's state now (checkpoint plus log) to a file, for corral simulate")
  .argument("<file>", "where to write it")
  .option("--redis <url>", "the cell's Redis, instead of the local cell's in --dir")
  .option("--cell <name>", "the cell's name, instead of the local cell's")
  .action(async (file: string, options: { redis?: string; cell?: string }) => {
    const { header, records } = await withCellStore(options, (store) => store.current());
    writeFileSync(file, encodeCheckpoint(header, records));
    process.stderr.write(`saved ${records.size} records of cell ${header.cell} at ${header.position} to ${file}\n`);
  });

program
  .command("simulate")
  .description("run the scheduler offline on a checkpoint (Borg's Fauxmaster): how each policy would place the pending work")
  .requiredOption("--checkpoint <source>", "a file from 'corral checkpoint save', or 'live' for the cell's state now")
  .option("--machines <n>", "simulate on N synthetic machines instead of the local cell's own", positiveInteger("--machines", 1_000_000))
  .option("--seed <n>", "the synthetic machines' seed", positiveInteger("--seed", 2 ** 31), 1)
  .option("--policy <policy>", `one of ${POLICIES.join(", ")}, or all`, "all")
  .option("--redis <url>", "with --checkpoint live: the cell's Redis")
  .option("--cell <name>", "with --checkpoint live: the cell's name")
  .option("--json", "print JSON for scripts")
  .action(async (options: { checkpoint: string; machines?: number; seed: number; policy: string; redis?: string; cell?: string; json?: boolean }) => {
    const policies = options.policy === "all" ? [...POLICIES] : POLICIES.filter((policy) => policy === options.policy);
    if (policies.length === 0) throw new InvalidArgumentError(`--policy must be one of ${POLICIES.join(", ")}, or all`);
    const records =
      options.checkpoint === "live"
        ? (await withCellStore(options, (store) => store.current())).records
        : decodeCheckpoint(readFileSync(options.checkpoint), `the file ${options.checkpoint}`).records;
    const machines: MachineOffer[] =
      options.machines !== undefined
        ? syntheticMachines(options.machines, options.seed)
        : (await client().nodes()).nodes
            .filter((node) => node.state === "up" && node.capacity.cpu > 0)
            .map((node) => ({ name: node.name, capacity: node.capacity, free: { ...node.capacity }, attributes: node.attributes, portRange: node.portRange, usedPorts: [] }));
    const result = simulate(records, machines, policies);
    print(result, options.json === true, () => simulationText(result));
  });

program.addOption(new Option("--no-color").hideHelp());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof SpecError) {
    process.stderr.write(`corral: the job spec is not valid:\n${error.message}\n`);
  } else if (error instanceof ApiError) {
    process.stderr.write(`corral: ${error.message}\n`);
    for (const issue of error.issues) process.stderr.write(`  ${issue.file}:${issue.line ?? "?"}: ${issue.field ?? ""} ${issue.message}\n`);
  } else if (error instanceof CorralError || error instanceof Error) {
    process.stderr.write(`corral: ${error.message}\n`);
  } else {
    process.stderr.write(`corral: ${String(error)}\n`);
  }
  process.exitCode = 1;
}
