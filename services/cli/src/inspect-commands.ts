import type { Command } from "commander";
import { followLogs } from "./follow-logs.js";
import { cellsTable, nodesTable, planText, whyText } from "./format.js";
import { positiveInteger } from "./option-parsers.js";
import { gatewayClient, print } from "./program.js";
import { readSpecFile } from "./spec-file.js";

/** `corral cells|logs|plan|why|nodes`: questions to the gateway that change nothing. */
export function addInspectCommands(program: Command): void {
  program
    .command("cells")
    .description("the cells behind a federation's gateway: health, machines, capacity and use")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }) => {
      const answer = await gatewayClient(program).cells();
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
      const api = gatewayClient(program);
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
      const spec = readSpecFile(file);
      const plan = await gatewayClient(program).plan(spec.source, spec.name, spec.format);
      print(plan, options.json === true, () => planText(plan));
    });

  program
    .command("why")
    .description("why a job's tasks are pending: machines refused per reason, and what would fit")
    .argument("<job>", "the job's name or full id")
    .option("--json", "print JSON for scripts")
    .action(async (job: string, options: { json?: boolean }) => {
      const why = await gatewayClient(program).why(job);
      print(why, options.json === true, () => whyText(why));
    });

  program
    .command("nodes")
    .description("the cell's machines")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }) => {
      const { nodes } = await gatewayClient(program).nodes();
      print({ nodes }, options.json === true, () => (nodes.length === 0 ? "no machines" : nodesTable(nodes)));
    });
}
