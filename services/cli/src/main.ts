import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { basename, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { CorralError, NAME_PATTERN } from "@corral/contracts";
import { isSameProcessAlive, readCellFile, startLocalCell, stopLocalCell } from "@corral/kit";
import { parseJobSpec, SpecError } from "@corral/spec";
import { gatewayUrl, type Location } from "./cell-location.js";
import { jobSummary, jobsTable, nodesTable } from "./format.js";
import { ApiError, GatewayClient } from "./gateway-client.js";
import { waitForJob } from "./wait.js";

function positiveInteger(what: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) throw new InvalidArgumentError(`${what} must be a whole number from 0 to ${max}`);
    return parsed;
  };
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
  return new GatewayClient(gatewayUrl(location()), program.opts<{ user: string }>().user);
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
  .action(async (options: { borglets: number; masters: number; cell: string }) => {
    const dir = resolve(program.opts<{ dir: string }>().dir);
    const started = await startLocalCell({
      dir,
      cell: options.cell,
      borglets: options.borglets,
      masters: Math.max(1, options.masters),
      onProgress: (message) => process.stderr.write(`  ${message}\n`),
    });
    process.stderr.write(`cell '${started.cell}' is up; logs in ${dir}/logs\n`);
    process.stdout.write(`${started.gateway}\n`);
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
    const status = { cell: found.cell, dir: found.dir, gateway: found.gateway, nats: found.nats, redis: found.redis, startedAt: found.startedAt, processes };
    print(status, options.json === true, () =>
      [
        `cell ${found.cell}  gateway ${found.gateway}  nats ${found.nats}  redis ${found.redis}`,
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
    process.stderr.write(`cell '${stopped.cell}' stopped (${stopped.processes.length} processes)\n`);
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
  .option("--json", "print JSON for scripts")
  .action(async (job: string | undefined, options: { all?: boolean; json?: boolean }) => {
    const api = client();
    const answer = job !== undefined ? await api.job(job).then((r) => ({ jobs: [r.job], stale: r.stale })) : options.all === true ? await api.allJobs() : await api.jobs();
    const { jobs } = answer;
    // During a failover a standby answers from its copy: say so, it may lag by a moment.
    if (answer.stale === true && options.json !== true) process.stderr.write("note: no leader right now; this is a standby's copy and may be slightly behind\n");
    print({ jobs, stale: answer.stale === true }, options.json === true, () => (jobs.length === 0 ? "no jobs" : `${jobs.map(jobSummary).join("\n")}\n${jobsTable(jobs)}`));
  });

program
  .command("kill")
  .description("stop every task of a job (SIGTERM, then SIGKILL after its grace period)")
  .argument("<job>", "its name or <job>.<user>.<cell>")
  .option("--wait", "wait until every task is dead")
  .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 60)
  .option("--json", "print JSON for scripts")
  .action(async (job: string, options: { wait?: boolean; timeout: number; json?: boolean }) => {
    const api = client();
    const killed = (await api.kill(job)).job;
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
  .command("logs")
  .description("a task's captured output")
  .argument("<job>", "its name or <job>.<user>.<cell>")
  .argument("<index>", "the task's index", positiveInteger("index", 1_000_000))
  .option("--stderr", "standard error instead of standard output")
  .option("--tail <bytes>", "at most this many bytes from the end", positiveInteger("--tail", 16 * 1024 * 1024), 65536)
  .action(async (job: string, index: number, options: { stderr?: boolean; tail: number }) => {
    const text = await client().logs(job, index, options.stderr === true ? "stderr" : "stdout", Math.max(1, options.tail));
    process.stdout.write(text);
  });

program
  .command("nodes")
  .description("the cell's machines")
  .option("--json", "print JSON for scripts")
  .action(async (options: { json?: boolean }) => {
    const { nodes } = await client().nodes();
    print({ nodes }, options.json === true, () => (nodes.length === 0 ? "no machines" : nodesTable(nodes)));
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
