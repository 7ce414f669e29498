import { parseArgs } from "node:util";
import { describeZodError } from "@corral/contracts";
import { compareRuns } from "./compare.js";
import { interruption, stopLiveCellsOnSignal } from "./harness/live-cells.js";
import { environment, summaryTable, writeResult, type RunResult } from "./harness/result.js";
import { SCENARIOS } from "./scenarios/index.js";
import { runOnHosts } from "./harness/load-cell.js";
import { parseHostCount } from "@corral/launcher";

const USAGE = `usage: npm run load -- <scenario> [--option value …] [--hosts N] [--tls on|off] [--out FILE]
       npm run load -- compare A.json B.json

--hosts N: the scenario's cell over N hosts (network namespaces, root only; see corral cell up --hosts)
--tls on|off: NATS, Redis and the gateway over TLS with the cell's own CA (default: on with --hosts, off without)

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.description}`).join("\n")}`;

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "compare") {
    if (rest.length !== 2) throw new Error("compare takes two result files: compare A.json B.json");
    process.stdout.write(`${compareRuns(rest[0]!, rest[1]!)}\n`);
    return 0;
  }
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (scenario === undefined) throw new Error(`no scenario '${name}'\n${USAGE}`);
  const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const known = Object.fromEntries([...Object.keys(scenario.options.shape), "out", "hosts", "tls"].map((key) => [kebab(key), { type: "string" as const }]));
  const { values } = parseArgs({ args: rest, options: known, strict: true, allowPositionals: false });
  const { out, hosts, tls, ...flags } = values;
  const hostCount = hosts === undefined ? undefined : parseHostCount(hosts, "--hosts");
  if (tls !== undefined && tls !== "on" && tls !== "off") throw new Error(`--tls ${tls}: on or off`);
  runOnHosts(hostCount, tls === undefined ? undefined : tls === "on");
  const parsed = scenario.options.safeParse(Object.fromEntries(Object.entries(flags).map(([key, value]) => [camelCase(key), value])));
  if (!parsed.success) {
    const { message } = describeZodError(parsed.error);
    throw new Error(`${scenario.name}: --${message}`);
  }
  const startedAt = new Date().toISOString();
  process.stderr.write(`${scenario.name}: ${JSON.stringify(parsed.data)}\n`);
  const ran = await scenario.run(parsed.data);
  const placed = hostCount === undefined ? ran : { ...ran, config: { ...ran.config, hosts: hostCount } };
  const outcome = tls === undefined ? placed : { ...placed, config: { ...placed.config, tls: tls === "on" } };
  const result: RunResult = { scenario: scenario.name, startedAt, finishedAt: new Date().toISOString(), environment: environment(), ...outcome };
  const files = writeResult(result, typeof out === "string" ? out : undefined);
  process.stdout.write(`${summaryTable(result)}\n`);
  process.stdout.write(`${JSON.stringify({ scenario: result.scenario, metrics: result.metrics, files })}\n`);
  return 0;
}

stopLiveCellsOnSignal();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Stopping the cell on a signal makes the scenario fail; the signal handler exits once the cells are down.
    if (interruption() !== undefined) return;
    process.stderr.write(`load: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
