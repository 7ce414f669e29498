import { DEFAULT_HEALTH_TIMEOUT_MS, MAX_PORTS_PER_TASK } from "@corral/contracts";
import { CHECK_FIELDS, HEALTH_CHECKS, HEALTH_FIELDS, type HealthCheckType } from "./field-names.js";
import { block, exampleBlock, exampleField, list, num, qty, str } from "./format.js";
import { comparePositions, entryPosition, type NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawEntry, type RawValue } from "./raw-value.js";
import { checkExamples } from "./refused-field-hints.js";
import { quoteAll, readCount, readDuration, readMap, readScalarText, readString } from "./value-readers.js";

/**
 * The task's health check. The source names a check by its kind (`http = { ... }`), where
 * JobSpec has `health.check` with a `type`, so the paths and labels are mapped here; and the
 * check's port is left on the context, since the default port count depends on it.
 */

/** `health = { http = { path = '/healthz' port = 0 } interval = 5s timeout = 1s failures = 3 }`; absent fields get the schema's defaults. */
export function readHealth(ctx: NormalizeContext, value: RawValue): Record<string, unknown> | undefined {
  const map = readMap(ctx, value, "health", healthExample(ctx));
  if (map === undefined) return undefined;
  const fields = ctx.fields(map, HEALTH_FIELDS, "health");
  const health: Record<string, unknown> = {};

  const checks = HEALTH_CHECKS.flatMap((type) => {
    const entry = fields.get(type);
    return entry === undefined ? [] : [{ type, entry }];
  }).sort((a, b) => comparePositions(a.entry.keyPosition, b.entry.keyPosition));
  const [first, second] = checks;
  if (first === undefined) {
    ctx.report("health.check", `says no check to run; add one of ${checkExamples(ctx.format)}`, ctx.positions.get("health") ?? value.position, "health");
  } else if (second !== undefined) {
    const found = checks.map(({ type, entry }) => `${type} (line ${entry.keyPosition.line})`).join(" and ");
    ctx.report(
      "health.check",
      `a task has one health check, found ${found}; keep one of ${quoteAll(HEALTH_CHECKS)}`,
      second.entry.keyPosition,
      `health.${second.type}`,
    );
  } else {
    health.check = readHealthCheck(ctx, first.type, first.entry);
    if (health.check === undefined) ctx.reported.add("health.check");
  }

  const interval = fields.get("interval");
  if (interval !== undefined) health.intervalMs = readDuration(ctx, interval.value, "health.intervalMs", "5s");
  const timeout = fields.get("timeout");
  if (timeout !== undefined) health.timeoutMs = readDuration(ctx, timeout.value, "health.timeoutMs", "1s");
  const failures = fields.get("failures");
  if (failures !== undefined) health.failures = readCount(ctx, failures.value, "health.failures", "3");

  // The schema would say the timeout is longer than the interval, but the user wrote no timeout: say which.
  if (interval !== undefined && timeout === undefined && typeof health.intervalMs === "number" && health.intervalMs < DEFAULT_HEALTH_TIMEOUT_MS) {
    const shorter = `${Math.max(10, Math.floor(health.intervalMs / 2))}ms`;
    ctx.report(
      "health.timeoutMs",
      `${health.intervalMs}ms is shorter than the default timeout of ${DEFAULT_HEALTH_TIMEOUT_MS}ms, and a check must time out before the next one starts; ` +
        `add a shorter timeout, e.g. ${exampleField(ctx.format, "timeout", qty(shorter))}, or make the interval at least ${DEFAULT_HEALTH_TIMEOUT_MS}ms`,
      interval.value.position,
      "health.interval",
    );
  }
  return health;
}

function healthExample(ctx: NormalizeContext): string {
  return exampleBlock(ctx.format, "health", [
    ["http", block(["path", str("/healthz")])],
    ["interval", qty("5s")],
  ]);
}

/** The check's block, named by its kind; JobSpec's `health.check` with `type` set to that kind. */
function readHealthCheck(ctx: NormalizeContext, type: HealthCheckType, entry: RawEntry): Record<string, unknown> | undefined {
  const specPath = "health.check";
  ctx.positions.set(specPath, entryPosition(entry));
  ctx.labels.set(specPath, `health.${type}`);
  for (const field of ["path", "port", "command"]) ctx.labels.set(`${specPath}.${field}`, `health.${type}.${field}`);
  const example =
    type === "http"
      ? exampleField(ctx.format, "http", block(["path", str("/healthz")], ["port", num("0")]))
      : type === "tcp"
        ? exampleField(ctx.format, "tcp", block(["port", num("0")]))
        : exampleField(ctx.format, "exec", block(["command", list(str("/bin/check"), str("-q"))]));
  const map = readMap(ctx, entry.value, specPath, example);
  if (map === undefined) return undefined;
  const fields = ctx.fields(map, CHECK_FIELDS[type], `health.${type}`, specPath);
  const check: Record<string, unknown> = { type };

  if (type === "http") {
    const path = fields.get("path");
    if (path !== undefined) check.path = readString(ctx, path.value, `${specPath}.path`, str("/healthz"));
  }
  if (type === "exec") {
    const command = fields.get("command");
    if (command === undefined) {
      ctx.missing(`${specPath}.command`, `add the command to run in the task's container, e.g. ${exampleField(ctx.format, "command", list(str("/bin/check"), str("-q")))}`);
    } else {
      check.command = readCommand(ctx, command.value);
    }
    return check;
  }
  const port = fields.get("port");
  if (port === undefined) {
    // The schema's default: the task's first port, %port%.
    ctx.checkPort = 0;
  } else {
    check.port = readPortIndex(ctx, port.value, type);
    ctx.checkPort = check.port as number | undefined;
  }
  return check;
}

/** Which of the task's ports: an index, not a port number, since the machine picks the ports. */
function readPortIndex(ctx: NormalizeContext, value: RawValue, type: HealthCheckType): number | undefined {
  const path = "health.check.port";
  const index = readCount(ctx, value, path, "0");
  if (index === undefined || (index >= 0 && index < MAX_PORTS_PER_TASK)) return index;
  const last = MAX_PORTS_PER_TASK - 1;
  ctx.report(
    path,
    `${index} is not one of the task's ports; port says which of them the ${type} check uses, from 0 (%port%) to ${last} (%port${last}%), ` +
      `and the machine picks the port numbers. E.g. ${exampleField(ctx.format, "port", num("1"))} checks %port1%`,
    value.position,
  );
  return undefined;
}

/** An exec check's command: a list of words, as args are. */
function readCommand(ctx: NormalizeContext, value: RawValue): string[] | undefined {
  const path = "health.check.command";
  if (value.kind !== "list") {
    const words = value.kind === "string" ? value.value.trim().split(/\s+/).filter((word) => word !== "") : [];
    const example = exampleField(ctx.format, "command", list(...(words.length > 0 ? words : ["/bin/check", "-q"]).map(str)));
    const fix = words.length > 1 ? `write each word as its own item: ${example}` : `e.g. ${example}`;
    ctx.report(path, `expected a list of words, found ${describeRaw(value)}; ${fix}`, value.position);
    return undefined;
  }
  const words: string[] = [];
  value.items.forEach((item, index) => {
    const itemPath = `${path}.${index}`;
    ctx.positions.set(itemPath, item.position);
    ctx.labels.set(itemPath, `health.exec.command.${index}`);
    const text = readScalarText(ctx, item, itemPath, "a command word");
    if (text !== undefined) words.push(text);
  });
  return words;
}
