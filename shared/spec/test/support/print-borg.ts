import type { JobSpec } from "@corral/contracts";

/** Layout choices, so the round-trip property also covers the syntax's freedoms. */
export interface BorgStyle {
  quote: "'" | '"';
  separator: "\n" | ", " | "; " | " ";
  /** Write sizes with a suffix when they divide evenly. */
  suffixes: boolean;
  comments: boolean;
}

export const PLAIN_STYLE: BorgStyle = { quote: "'", separator: "\n", suffixes: false, comments: false };

export function quoteBorg(text: string, quote: "'" | '"'): string {
  const escaped = text
    .replaceAll("\\", "\\\\")
    .replaceAll(quote, `\\${quote}`)
    .replaceAll("\n", "\\n")
    .replaceAll("\t", "\\t")
    .replaceAll("\r", "\\r");
  return `${quote}${escaped}${quote}`;
}

function size(bytes: number, style: BorgStyle): string {
  if (style.suffixes && bytes > 0) {
    for (const [unit, factor] of [["T", 2 ** 40], ["Gi", 2 ** 30], ["MiB", 2 ** 20], ["K", 2 ** 10]] as const) {
      if (bytes % factor === 0) return `${bytes / factor}${unit}`;
    }
  }
  return String(bytes);
}

/** A JobSpec written back as Borg config; parsing it must give the same JobSpec. */
export function printBorg(spec: JobSpec, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => quoteBorg(text, style.quote);
  const sep = style.separator;
  const comment = style.comments ? " // note\n" : sep;
  const fields: string[] = [];
  if (spec.user !== undefined) fields.push(`user = ${q(spec.user)}`);
  fields.push(spec.runtime.cell === undefined ? "runtime = {}" : `runtime = { cell = ${q(spec.runtime.cell)} }`);
  fields.push(`binary = ${q(spec.binary)}`);
  fields.push(`args = [${spec.args.map(q).join(", ")}${spec.args.length > 0 ? "," : ""}]`);
  fields.push(`env = { ${Object.entries(spec.env).map(([key, value]) => `${key} = ${q(value)}`).join(sep)} }`);
  const r = spec.requirements;
  fields.push(`requirements = { ram = ${size(r.ram, style)}${sep}disk = ${size(r.disk, style)}${sep}cpu = ${r.cpu}${sep}ports = ${r.ports} }`);
  fields.push(`replicas = ${spec.replicas}`);
  fields.push(`priority = ${q(spec.priority)}`);
  fields.push(`restart = ${q(spec.restart)}`);
  fields.push(`grace = ${spec.gracePeriodMs}ms`);
  return `job ${spec.name} = {${comment}${fields.join(comment)}${comment}}\n`;
}
