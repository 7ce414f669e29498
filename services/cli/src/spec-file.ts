import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseJobSpec } from "@corral/spec";

export interface SpecFile {
  source: string;
  /** what the gateway quotes in its errors */
  name: string;
  /** undefined lets the gateway tell the format from the name */
  format: "borg" | "yaml" | "json" | undefined;
  /** the job's name, as the file says */
  jobName: string;
}

/** Parsed here too, so a bad file is reported before any network round trip. */
export function readSpecFile(file: string): SpecFile {
  const source = readFileSync(file, "utf8");
  const spec = parseJobSpec(source, { file });
  return { source, name: basename(file), format: formatOf(file), jobName: spec.name };
}

function formatOf(file: string): "borg" | "yaml" | "json" | undefined {
  if (file.endsWith(".borg")) return "borg";
  if (file.endsWith(".yaml") || file.endsWith(".yml")) return "yaml";
  if (file.endsWith(".json")) return "json";
  return undefined;
}
