import { VOLUME_FIELDS } from "./field-names.js";
import { block, exampleField, exampleValue, list, str, type Literal } from "./format.js";
import { comparePositions, type NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawEntry, type RawValue } from "./raw-value.js";
import { readBoolean, readString } from "./value-readers.js";

/**
 * What is mounted in the task's container: a directory of the machine or a named volume the
 * machine keeps. Whether there is an image to mount them in is the schema's to say.
 */

/** `volumes`: a list of blocks, each read by `readVolume`. */
export function readVolumes(ctx: NormalizeContext, entry: RawEntry | undefined): unknown[] {
  if (entry === undefined) return [];
  const value = entry.value;
  if (value.kind !== "list") {
    const example = exampleField(ctx.format, "volumes", list(volumeBlockExample()));
    const fix = value.kind === "map" ? `put the block in a list, even when there is only one: ${example}` : `e.g. ${example}`;
    ctx.report("volumes", `expected a list of volumes, found ${describeRaw(value)}; ${fix}`, value.position);
    return [];
  }
  // One entry per item, unreadable ones included, so indexes (and so positions) match the source.
  return value.items.map((item, index) => readVolume(ctx, item, index));
}

function volumeBlockExample(): Literal {
  return block(["volume", str("cache")], ["path", str("/var/cache")]);
}

/** `{ host = '/srv/data' path = '/data' read_only = true }` or `{ volume = 'cache' path = '/var/cache' }`. */
function readVolume(ctx: NormalizeContext, item: RawValue, index: number): Record<string, unknown> | undefined {
  const path = `volumes.${index}`;
  ctx.positions.set(path, item.position);
  ctx.labels.set(`${path}.readOnly`, `${path}.read_only`);
  if (item.kind !== "map") {
    ctx.report(path, `each volume is a block of fields, found ${describeRaw(item)}; e.g. ${exampleValue(ctx.format, volumeBlockExample())}`, item.position);
    return undefined;
  }
  const fields = ctx.fields(item, VOLUME_FIELDS, path);
  const result: Record<string, unknown> = {};

  // Exactly one of host and volume. Whatever goes wrong with them is reported at `host`, where the
  // schema reports a volume with neither, so that it does not say so a second time.
  const host = fields.get("host");
  const named = fields.get("volume");
  const hostExample = exampleField(ctx.format, "host", str("/srv/data"));
  const volumeExample = exampleField(ctx.format, "volume", str("cache"));
  if (host !== undefined && named !== undefined) {
    const later = comparePositions(host.keyPosition, named.keyPosition) > 0 ? host : named;
    ctx.report(
      `${path}.host`,
      `give either host (a directory of the machine) or volume (a named volume the machine keeps), not both; e.g. ${hostExample} or ${volumeExample}`,
      later.keyPosition,
      `${path}.${later.key}`,
    );
  } else if (host === undefined && named === undefined) {
    ctx.report(`${path}.host`, `says nothing to mount; add a directory of the machine (${hostExample}) or a named volume (${volumeExample})`, item.position, path);
  } else if (host !== undefined) {
    result.host = readString(ctx, host.value, `${path}.host`, str("/srv/data"));
  } else if (named !== undefined) {
    result.volume = readString(ctx, named.value, `${path}.volume`, str("cache"));
    if (result.volume === undefined) ctx.reported.add(`${path}.host`);
  }

  const mountPath = fields.get("path");
  if (mountPath === undefined) {
    ctx.missing(`${path}.path`, `add where it appears in the task's container, e.g. ${exampleField(ctx.format, "path", str("/data"))}`);
  } else {
    result.path = readString(ctx, mountPath.value, `${path}.path`, str("/data"));
  }
  const readOnly = fields.get("read_only");
  if (readOnly !== undefined) result.readOnly = readBoolean(ctx, readOnly.value, `${path}.readOnly`);
  return result;
}
