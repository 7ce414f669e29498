import { highestPortReference } from "@corral/contracts";
import { REQUIREMENT_FIELDS } from "./field-names.js";
import { exampleBlock, exampleField, num, qty } from "./format.js";
import type { NormalizeContext } from "./normalize-context.js";
import type { RawEntry } from "./raw-value.js";
import { parseCpu, parseSize } from "./units.js";
import { readCount, readMap, readUnit } from "./value-readers.js";

/**
 * What each task needs (or each alloc reserves): memory, disk, cores and ports. Apart from the
 * other parts because its default port count is worked out from them: it must be read after
 * the args, env and health check, which say which ports the program uses.
 */
export function readRequirements(ctx: NormalizeContext, entry: RawEntry | undefined, candidate: Record<string, unknown>): Record<string, unknown> | undefined {
  const example = exampleBlock(ctx.format, "requirements", [
    ["ram", qty("100M")],
    ["cpu", num("0.5")],
  ]);
  if (entry === undefined) {
    ctx.missing("requirements", `${ctx.kind === "alloc" ? "every alloc set states what each alloc reserves" : "every job states what a task needs"}, e.g. ${example}`);
    return undefined;
  }
  const map = readMap(ctx, entry.value, "requirements", example);
  if (map === undefined) return undefined;
  const fields = ctx.fields(map, REQUIREMENT_FIELDS, "requirements");
  const requirements: Record<string, unknown> = {};

  const ram = fields.get("ram");
  if (ram === undefined) {
    ctx.missing("requirements.ram", `add the memory each ${ctx.kind === "alloc" ? "alloc reserves" : "task needs"}, e.g. ${exampleField(ctx.format, "ram", qty("100M"))}`);
  } else {
    requirements.ram = readUnit(ctx, ram.value, "requirements.ram", parseSize, qty("100M"));
  }
  const disk = fields.get("disk");
  requirements.disk = disk === undefined ? 0 : readUnit(ctx, disk.value, "requirements.disk", parseSize, qty("1G"));
  const cpu = fields.get("cpu");
  if (cpu === undefined) {
    ctx.missing("requirements.cpu", `add the cores each ${ctx.kind === "alloc" ? "alloc reserves" : "task needs"}, e.g. ${exampleField(ctx.format, "cpu", num("0.5"))}`);
  } else {
    requirements.cpu = readUnit(ctx, cpu.value, "requirements.cpu", parseCpu, num("0.5"));
  }
  const ports = fields.get("ports");
  if (ports === undefined) {
    // Enough ports for every placeholder used and for the health check, so the common case needs no `ports` at all.
    const texts = [...(candidate.args as string[]), ...Object.values(candidate.env as Record<string, string>)];
    requirements.ports = Math.max(-1, ctx.checkPort ?? -1, ...texts.map(highestPortReference)) + 1;
  } else {
    requirements.ports = readCount(ctx, ports.value, "requirements.ports", "2");
  }
  return requirements;
}
