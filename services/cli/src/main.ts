import { Option } from "commander";
import { CorralError } from "@corral/contracts";
import { ApiError } from "@corral/client";
import { SpecError } from "@corral/spec";
import { addCellCommands } from "./cell-commands.js";
import { addCheckpointCommands } from "./checkpoint-commands.js";
import { addConfigCommands } from "./config-commands.js";
import { addIdentityCommands } from "./identity-commands.js";
import { addImageCommands } from "./image-commands.js";
import { addInspectCommands } from "./inspect-commands.js";
import { addJobCommands } from "./job-commands.js";
import { addUpdateCommands } from "./update-commands.js";
import { createProgram } from "./program.js";

const program = createProgram();
// `corral --help` lists the commands in the order they are added.
addCellCommands(program);
addJobCommands(program);
addUpdateCommands(program);
addInspectCommands(program);
addImageCommands(program);
addCheckpointCommands(program);
addIdentityCommands(program);
addConfigCommands(program);
program.addOption(new Option("--no-color").hideHelp());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportError(error);
  process.exitCode = 1;
}

function reportError(error: unknown): void {
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
}
