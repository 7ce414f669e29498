import { resolve } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import { connectNats, createLogger, readNatsCredentials, type NatsConnectOptions, type NatsConnection } from "@corral/kit";
import { operatorNatsOptions, readCellFile } from "@corral/launcher";
import { listImages, pushImage, readImageSource, type ImageRecord, type PushResult } from "@corral/images";
import { bytes, table } from "./format.js";

/** Where a cell's images are kept: its NATS, found from `--nats`/`--cell` or the local cell file. */
export interface ImageCell {
  nats: string;
  cell: string;
  signIn: NatsConnectOptions;
}

export function imageCell(dir: string, nats: string | undefined, cell: string | undefined, credentialsFile: string | undefined, tlsCa: string | undefined): ImageCell {
  const file = readCellFile(resolve(dir));
  const url = nats ?? file?.nats;
  if (url === undefined) throw new Error(`no local cell in ${resolve(dir)}: start one with 'corral cell up', or give --nats URL (and --cell NAME)`);
  // Another cell's NATS takes the credentials and CA given for it, never the local cell's.
  const local = nats === undefined && file !== undefined ? operatorNatsOptions(file) : {};
  const signIn: NatsConnectOptions = {
    ...local,
    ...(credentialsFile === undefined ? {} : { credentials: readNatsCredentials(credentialsFile) }),
    ...(tlsCa === undefined ? {} : { tlsCa }),
  };
  return { nats: url, cell: cell ?? file?.cell ?? "local", signIn };
}

async function withNats<T>(where: ImageCell, use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectNats(where.nats, "corral-cli", createLogger("cli", where.cell, { level: "warn" }), where.signIn);
  try {
    return await use(nc);
  } finally {
    await nc.close().catch(() => {});
  }
}

/** Reads the image file, then uploads the layers the cell lacks, with a bar of bytes sent on stderr. */
export async function pushImageFile(where: ImageCell, file: string, reference: string, quiet: boolean, replicas: number): Promise<PushResult> {
  const source = await readImageSource(resolve(file));
  const total = source.layers.reduce((sum, layer) => sum + layer.size, 0);
  const bar = quiet || !process.stderr.isTTY ? undefined : new SingleBar({ format: `pushing ${reference} [{bar}] {percentage}% | {value}/{total} bytes of layers`, hideCursor: true }, Presets.shades_classic);
  bar?.start(total, 0);
  let done = 0;
  try {
    return await withNats(where, (nc) =>
      pushImage(nc, where.cell, reference, source, (progress) => {
        if (progress.kind === "layer-present" || progress.kind === "layer-uploaded") {
          done += progress.size;
          bar?.update(done);
        }
        if (bar === undefined && !quiet && progress.kind !== "image-recorded") process.stderr.write(`${progress.kind} ${progress.digest.slice(0, 19)} (${bytes(progress.size)})\n`);
      }, replicas),
    );
  } finally {
    bar?.stop();
    await source.close?.();
  }
}

export function listCellImages(where: ImageCell): Promise<ImageRecord[]> {
  return withNats(where, (nc) => listImages(nc, where.cell));
}

export function imagesTable(images: readonly ImageRecord[]): string {
  const rows = table(["IMAGE", "LAYERS", "SIZE", "PUSHED"]);
  for (const image of images) {
    rows.push([`${image.name}:${image.tag}`, image.layers.length, bytes(image.layers.reduce((sum, layer) => sum + layer.size, 0)), image.pushedAt]);
  }
  return rows.toString();
}

export function pushSummary(result: PushResult): string {
  const { image, uploaded, present } = result;
  return `${image.name}:${image.tag}: ${image.layers.length} layer${image.layers.length === 1 ? "" : "s"}, ${uploaded.length} uploaded, ${present.length} already in the cell`;
}
