import { LOAD_USER } from "../../harness/load-cell.js";

export const JOB = "web";
export const FEDERATED_ID = `${JOB}.${LOAD_USER}`;

/** One spread job of `replicas` hollow tasks over every cell. */
export function federatedJobSource(cells: readonly string[], options: { replicas: number; maxDisruption: number }): string {
  return `job ${JOB} = {\n  runtime = { cells = [${cells.map((c) => `'${c}'`).join(", ")}] policy = 'spread' max_disruption = ${options.maxDisruption} }\n  binary = 'hollow'\n  requirements = { cpu = 0.01  ram = 8M }\n  replicas = ${options.replicas}\n}\n`;
}
