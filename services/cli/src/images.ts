import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { SingleBar, Presets } from "cli-progress";
import type { GatewayClient } from "@corral/client";
import type { ImageRecord } from "@corral/contracts";
import { parseImageRef, readImageSource, type SourceLayer } from "@corral/images";
import { bytes, table } from "./format.js";

export interface PushResult {
  image: ImageRecord;
  /** digests of the layers this push sent */
  uploaded: string[];
  /** digests of the layers the cell already had */
  present: string[];
}

/** The layer's tar in parts of exactly `partBytes` (the last one shorter). */
async function* partsOf(tar: Readable, partBytes: number): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  for await (const chunk of tar as AsyncIterable<Buffer>) {
    held.push(chunk);
    heldBytes += chunk.length;
    while (heldBytes >= partBytes) {
      const whole = Buffer.concat(held);
      yield whole.subarray(0, partBytes);
      held = [whole.subarray(partBytes)];
      heldBytes = whole.length - partBytes;
    }
  }
  if (heldBytes > 0) yield Buffer.concat(held);
}

/** Sends one layer in parts and has the gateway check and store it. */
async function uploadLayer(client: GatewayClient, layer: SourceLayer, onBytes: (count: number) => void): Promise<void> {
  const { upload, partBytes } = await client.startUpload();
  let parts = 0;
  for await (const part of partsOf(layer.open(), partBytes)) {
    await client.uploadPart(upload, parts++, part);
    onBytes(part.length);
  }
  await client.commitLayer({ digest: layer.digest, size: layer.size, upload, parts });
}

/**
 * Reads the image file, sends the layers the cell lacks through the gateway, then records it
 * under `reference` (in the caller's namespace, unless an admin pushes), with a bar of bytes
 * sent on stderr.
 */
export async function pushImageFile(client: GatewayClient, file: string, reference: string, quiet: boolean): Promise<PushResult> {
  parseImageRef(reference); // a bad name is refused before the image is read
  const source = await readImageSource(resolve(file));
  const total = source.layers.reduce((sum, layer) => sum + layer.size, 0);
  const bar = quiet || !process.stderr.isTTY ? undefined : new SingleBar({ format: `pushing ${reference} [{bar}] {percentage}% | {value}/{total} bytes of layers`, hideCursor: true }, Presets.shades_classic);
  bar?.start(total, 0);
  let done = 0;
  const advance = (count: number) => {
    done += count;
    bar?.update(done);
  };
  const say = (what: string, layer: SourceLayer) => {
    if (bar === undefined && !quiet) process.stderr.write(`${what} ${layer.digest.slice(0, 19)} (${bytes(layer.size)})\n`);
  };
  try {
    const uploaded: string[] = [];
    const present: string[] = [];
    for (const layer of source.layers) {
      if ((await client.layerPresent(layer.digest)).present) {
        present.push(layer.digest);
        advance(layer.size);
        say("layer-present", layer);
        continue;
      }
      say("layer-uploading", layer);
      await uploadLayer(client, layer, advance);
      uploaded.push(layer.digest);
      say("layer-uploaded", layer);
    }
    const { image } = await client.recordImage({ ref: reference, layers: source.layers.map((layer) => ({ digest: layer.digest, size: layer.size })), config: source.config });
    return { image, uploaded, present };
  } finally {
    bar?.stop();
    await source.close();
  }
}

export function imagesTable(images: readonly ImageRecord[]): string {
  const rows = table(["IMAGE", "LAYERS", "SIZE", "PUSHED", "BY"]);
  for (const image of images) {
    rows.push([`${image.name}:${image.tag}`, image.layers.length, bytes(image.layers.reduce((sum, layer) => sum + layer.size, 0)), image.pushedAt, image.pushedBy ?? "(operator)"]);
  }
  return rows.toString();
}

export function pushSummary(result: PushResult): string {
  const { image, uploaded, present } = result;
  return `${image.name}:${image.tag}: ${image.layers.length} layer${image.layers.length === 1 ? "" : "s"}, ${uploaded.length} uploaded, ${present.length} already in the cell`;
}
