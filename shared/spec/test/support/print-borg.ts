import {
  DEFAULT_HEALTH_FAILURES,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_MAX_SKEW,
  DEFAULT_PREFERENCE_WEIGHT,
  OPERATOR_ARITY,
  type Constraint,
  type Health,
  type JobRuntime,
  type JobSpec,
  type Preference,
  type Volume,
} from "@corral/contracts";

/** Layout choices, so the round-trip property also covers the syntax's freedoms. */
export interface BorgStyle {
  quote: "'" | '"';
  separator: "\n" | ", " | "; " | " ";
  /** Write sizes with a suffix when they divide evenly. */
  suffixes: boolean;
  comments: boolean;
  /** Leave out defaults: a preference's weight, a spread's max_skew, a volume's read_only, a health check's path, port, interval, timeout and failures. */
  omitDefaults: boolean;
  /** Write constraint values that are plain integers without quotes (`value = 4`). */
  bareNumbers: boolean;
  /** Quote every label key, not only those that need it (`'tier' = 'web'`). */
  quoteKeys: boolean;
}

export const PLAIN_STYLE: BorgStyle = { quote: "'", separator: "\n", suffixes: false, comments: false, omitDefaults: false, bareNumbers: false, quoteKeys: false };

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

/** Milliseconds, or with suffixes the largest unit that divides them evenly. */
function duration(ms: number, style: BorgStyle): string {
  if (style.suffixes && ms > 0) {
    for (const [unit, factor] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
      if (ms % factor === 0) return `${ms / factor}${unit}`;
    }
  }
  return `${ms}ms`;
}

/** A key Borg reads unquoted: a word of letters, digits, '_' and '-'. */
const BARE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** `{ tier = 'web' 'app.kubernetes.io/name' = 'web' }`: keys with '.' or '/' (or any, with quoteKeys) in quotes. */
export function printLabels(labels: Readonly<Record<string, string>>, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => quoteBorg(text, style.quote);
  const entries = Object.entries(labels).map(([key, value]) => `${style.quoteKeys || !BARE_KEY.test(key) ? q(key) : key} = ${q(value)}`);
  return entries.length === 0 ? "{}" : `{ ${entries.join(style.separator)} }`;
}

/** `{ volume = 'cache' path = '/var/cache' }` or `{ host = '/srv' path = '/www' read_only = true }`. */
export function printVolume(volume: Volume, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => quoteBorg(text, style.quote);
  const fields = [volume.host === undefined ? `volume = ${q(volume.volume ?? "")}` : `host = ${q(volume.host)}`, `path = ${q(volume.path)}`];
  if (volume.readOnly || !style.omitDefaults) fields.push(`read_only = ${String(volume.readOnly)}`);
  return `{ ${fields.join(style.separator)} }`;
}

/** `{ http = { path = '/healthz' port = 0 } interval = 5s timeout = 1s failures = 3 }`. */
export function printHealth(health: Health, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => quoteBorg(text, style.quote);
  const sep = style.separator;
  const { check } = health;
  const inner: string[] = [];
  if (check.type === "http" && (check.path !== "/" || !style.omitDefaults)) inner.push(`path = ${q(check.path)}`);
  if (check.type !== "exec" && (check.port !== 0 || !style.omitDefaults)) inner.push(`port = ${check.port}`);
  // Lists take commas or white space between items, not semicolons.
  if (check.type === "exec") inner.push(`command = [${check.command.map(q).join(sep === "; " ? " " : sep)}]`);
  const fields = [`${check.type} = {${inner.length === 0 ? "" : ` ${inner.join(sep)} `}}`];
  if (health.intervalMs !== DEFAULT_HEALTH_INTERVAL_MS || !style.omitDefaults) fields.push(`interval = ${duration(health.intervalMs, style)}`);
  if (health.timeoutMs !== DEFAULT_HEALTH_TIMEOUT_MS || !style.omitDefaults) fields.push(`timeout = ${duration(health.timeoutMs, style)}`);
  if (health.failures !== DEFAULT_HEALTH_FAILURES || !style.omitDefaults) fields.push(`failures = ${health.failures}`);
  return `{ ${fields.join(sep)} }`;
}

/** `{ cell = 'local' }`, or `{ cells = ['a', 'b'] policy = 'spread' weights = [2, 1] spill_after = 30s max_disruption = 1 }`: what the spec holds, no more. */
export function printRuntime(runtime: JobRuntime, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => quoteBorg(text, style.quote);
  const sep = style.separator;
  // Lists take commas or white space between items, not semicolons.
  const listSep = sep === "; " ? " " : sep;
  const fields: string[] = [];
  if (runtime.cell !== undefined) fields.push(`cell = ${q(runtime.cell)}`);
  if (runtime.cells !== undefined) fields.push(`cells = [${runtime.cells.map(q).join(listSep)}]`);
  if (runtime.policy !== undefined) fields.push(`policy = ${q(runtime.policy)}`);
  if (runtime.weights !== undefined) fields.push(`weights = [${runtime.weights.join(listSep)}]`);
  if (runtime.spillAfterMs !== undefined) fields.push(`spill_after = ${duration(runtime.spillAfterMs, style)}`);
  if (runtime.maxDisruption !== undefined) fields.push(`max_disruption = ${runtime.maxDisruption}`);
  return fields.length === 0 ? "{}" : `{ ${fields.join(sep)} }`;
}

/** `{ attribute = 'arch' op = '==' value = 'x86_64' }`: `value` for == and !=, `values` for in and not_in. */
export function printConstraint(constraint: Constraint | Preference, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => (style.bareNumbers && /^(0|[1-9]\d{0,8})$/.test(text) ? text : quoteBorg(text, style.quote));
  const sep = style.separator;
  const fields = [`attribute = ${quoteBorg(constraint.attribute, style.quote)}`, `op = ${quoteBorg(constraint.op, style.quote)}`];
  const arity = OPERATOR_ARITY[constraint.op];
  if (arity === "one") fields.push(`value = ${q(constraint.values[0] ?? "")}`);
  if (arity === "many") fields.push(`values = [${constraint.values.map(q).join(", ")}]`);
  if ("weight" in constraint && !(style.omitDefaults && constraint.weight === DEFAULT_PREFERENCE_WEIGHT)) fields.push(`weight = ${constraint.weight}`);
  return `{ ${fields.join(sep)} }`;
}

/**
 * A JobSpec written back as Borg config; parsing it must give the same JobSpec. An alloc set is
 * written `alloc NAME = { ... }`, without the fields only a running program has (binary, args,
 * env, restart, grace, image, volumes, health), which its JobSpec holds at their empty and default values.
 * Labels go on either.
 */
export function printBorg(spec: JobSpec, style: BorgStyle = PLAIN_STYLE): string {
  const q = (text: string) => quoteBorg(text, style.quote);
  const sep = style.separator;
  const comment = style.comments ? " // note\n" : sep;
  const fields: string[] = [];
  if (spec.user !== undefined) fields.push(`user = ${q(spec.user)}`);
  fields.push(`runtime = ${printRuntime(spec.runtime, style)}`);
  const alloc = spec.kind === "alloc";
  if (!alloc) {
    fields.push(`binary = ${q(spec.binary)}`);
    fields.push(`args = [${spec.args.map(q).join(", ")}${spec.args.length > 0 ? "," : ""}]`);
    fields.push(`env = { ${Object.entries(spec.env).map(([key, value]) => `${key} = ${q(value)}`).join(sep)} }`);
  }
  const r = spec.requirements;
  fields.push(`requirements = { ram = ${size(r.ram, style)}${sep}disk = ${size(r.disk, style)}${sep}cpu = ${r.cpu}${sep}ports = ${r.ports} }`);
  fields.push(`replicas = ${spec.replicas}`);
  fields.push(`priority = ${q(spec.priority)}`);
  if (!alloc) {
    fields.push(`restart = ${q(spec.restart)}`);
    fields.push(`grace = ${spec.gracePeriodMs}ms`);
  }
  // Lists take commas or white space between items, not semicolons.
  const listSep = sep === "; " ? " " : sep;
  if (spec.constraints.length > 0 || !style.omitDefaults) fields.push(`constraints = [${spec.constraints.map((c) => printConstraint(c, style)).join(listSep)}]`);
  if (spec.preferences.length > 0 || !style.omitDefaults) fields.push(`preferences = [${spec.preferences.map((p) => printConstraint(p, style)).join(`,${listSep}`)}]`);
  if (spec.spread === "none") fields.push(`spread = ${quoteBorg("none", style.quote)}`);
  else if (spec.spread !== undefined) {
    const skew = style.omitDefaults && spec.spread.maxSkew === DEFAULT_MAX_SKEW ? "" : `${sep}max_skew = ${spec.spread.maxSkew}`;
    fields.push(`spread = { across = ${quoteBorg(spec.spread.across, style.quote)}${skew} }`);
  }
  if (spec.maxPerMachine !== undefined) fields.push(`max_per_machine = ${spec.maxPerMachine}`);
  if (spec.allocSet !== undefined) fields.push(`alloc_set = ${q(spec.allocSet)}`);
  if (spec.image !== undefined) fields.push(`image = ${q(spec.image)}`);
  if (!alloc && (spec.volumes.length > 0 || !style.omitDefaults)) fields.push(`volumes = [${spec.volumes.map((v) => printVolume(v, style)).join(`,${listSep}`)}]`);
  if (spec.health !== undefined) fields.push(`health = ${printHealth(spec.health, style)}`);
  if (Object.keys(spec.labels).length > 0 || !style.omitDefaults) fields.push(`labels = ${printLabels(spec.labels, style)}`);
  return `${alloc ? "alloc" : "job"} ${spec.name} = {${comment}${fields.join(comment)}${comment}}\n`;
}
