import { createWriteStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import type { ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { digestHex } from "../digest.js";
import { ImageError, messageOf } from "../errors.js";
import { layerBucketName, openLayerBucket } from "../registry/buckets.js";
import { resolveImage } from "../registry/catalog.js";
import type { ImageRecord, LayerRef } from "../registry/image-record.js";
import { unpackLayerFile, type UnpackReport } from "./unpack-layer.js";
import { shiftLayer, type IdShift } from "./shift-layer.js";
import type { CommandRunner } from "../rootfs/mount.js";

export interface EnsuredImage {
  image: ImageRecord;
  /** the unpacked layers, bottom first: what mountRootfs takes */
  lowerDirs: string[];
}

export type LayerStoreProgress =
  | { kind: "layer-downloading"; digest: string; size: number }
  | { kind: "layer-ready"; digest: string; path: string; whiteouts: number; opaqueDirectories: number };

export interface LayerStoreOptions {
  log?: Logger;
  onProgress?: (progress: LayerStoreProgress) => void;
}

/** Whether a process is still alive (its staging directories are then still in use). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A machine's content-addressed cache of unpacked layers, filled from the cell's object
 * store: `<dir>/layers/sha256/<hex>/` holds a layer exactly when it is complete, because a
 * layer is unpacked into `<dir>/tmp/` and renamed into place only after its digest checked
 * out. Layers are shared read-only by every task of every image that has them.
 */
export class LayerStore {
  private readonly inflight = new Map<string, Promise<string>>();
  private store: Promise<ObjectStore> | undefined;
  private swept: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private readonly nc: NatsConnection,
    readonly cell: string,
    private readonly options: LayerStoreOptions = {},
  ) {}

  /** Where a layer is (or would be) unpacked. */
  layerDir(digest: string): string {
    return join(this.dir, "layers", "sha256", digestHex(digest));
  }

  /**
   * Layers from ensure, each copied once with its owners shifted into a user namespace's range
   * (`<dir>/shifted/<offset>/sha256/<hex>/`), for the containers of the user given that range.
   */
  async shiftedLayers(lowerDirs: readonly string[], shift: IdShift, run: CommandRunner): Promise<string[]> {
    return Promise.all(
      lowerDirs.map((lowerDir) => {
        const hex = basename(lowerDir);
        const target = join(this.dir, "shifted", String(shift.offset), "sha256", hex);
        const running = this.inflight.get(target);
        if (running !== undefined) return running;
        const shifting = (async () => {
          if (await isDirectory(target)) return target;
          await this.sweepStaging();
          const staging = await this.stagingDir(`sha256:${hex}`);
          await mkdir(dirname(target), { recursive: true });
          await shiftLayer(lowerDir, target, staging, shift, run);
          this.options.log?.info({ layer: `sha256:${hex}`, offset: shift.offset }, "layer shifted for a user namespace");
          return target;
        })().finally(() => this.inflight.delete(target));
        this.inflight.set(target, shifting);
        return shifting;
      }),
    );
  }

  /** The image's record and its layers on disk, fetching and unpacking those this machine lacks. */
  async ensure(reference: string): Promise<EnsuredImage> {
    const image = await resolveImage(this.nc, this.cell, reference);
    // All layers at once, but every one settled before returning: a failure of one does not
    // leave another still unpacking behind the caller's back.
    const settled = await Promise.allSettled(image.layers.map((layer) => this.ensureLayer(layer)));
    const failed = settled.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return { image, lowerDirs: settled.map((result) => (result as PromiseFulfilledResult<string>).value) };
  }

  /** One layer on disk; callers asking for the same layer at once share one download. */
  ensureLayer(layer: LayerRef): Promise<string> {
    const running = this.inflight.get(layer.digest);
    if (running !== undefined) return running;
    const fetching = this.fetchIfMissing(layer).finally(() => this.inflight.delete(layer.digest));
    this.inflight.set(layer.digest, fetching);
    return fetching;
  }

  private async fetchIfMissing(layer: LayerRef): Promise<string> {
    const target = this.layerDir(layer.digest);
    if (await isDirectory(target)) return target;
    await this.sweepStaging();
    const staging = await this.stagingDir(layer.digest);
    try {
      this.options.onProgress?.({ kind: "layer-downloading", digest: layer.digest, size: layer.size });
      const report = await this.download(layer, staging);
      await mkdir(join(this.dir, "layers", "sha256"), { recursive: true });
      try {
        await rename(staging, target);
      } catch (error) {
        // Another process on this machine finished the same layer first; its copy is as good.
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== "ENOTEMPTY" && code !== "EEXIST") || !(await isDirectory(target))) throw error;
        await rm(staging, { recursive: true, force: true });
      }
      this.options.log?.info({ layer: layer.digest, ...report }, "layer unpacked");
      this.options.onProgress?.({ kind: "layer-ready", digest: layer.digest, path: target, whiteouts: report.whiteouts, opaqueDirectories: report.opaqueDirectories });
      return target;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Downloads the stored gzip tar, uncompressed, beside the staging directory, then unpacks
   * it from there: the whole layer is checked (its digest, every entry) before anything of
   * it is written.
   */
  private async download(layer: LayerRef, staging: string): Promise<UnpackReport> {
    const store = await this.objectStore();
    const bucket = layerBucketName(this.cell);
    const described = `layer ${layer.digest} from ${bucket}`;
    const object = await store.get(layer.digest);
    if (object === null) throw new ImageError("not_found", `layer ${layer.digest} is not in ${bucket}; push the image again`);
    const tarFile = `${staging}.tar`;
    try {
      try {
        await pipeline(Readable.fromWeb(object.data as WebReadableStream<Uint8Array>), createGunzip(), createWriteStream(tarFile));
      } catch (error) {
        throw new ImageError("unpack_failed", `${described} could not be downloaded (${messageOf(error)})`);
      }
      const transferError = await object.error;
      if (transferError) throw new ImageError("unpack_failed", `${described} could not be downloaded (${transferError.message})`);
      return await unpackLayerFile(tarFile, staging, described, layer);
    } finally {
      await rm(tarFile, { force: true });
    }
  }

  private objectStore(): Promise<ObjectStore> {
    // A failed open is not remembered: the next call tries again (the bucket may appear).
    this.store ??= openLayerBucket(this.nc, this.cell).catch((error: unknown) => {
      this.store = undefined;
      throw error;
    });
    return this.store;
  }

  /** `<dir>/tmp/<hex>.<pid>.<random>`: on the layers' file system, so the final rename is atomic. */
  private async stagingDir(digest: string): Promise<string> {
    const tmp = join(this.dir, "tmp");
    await mkdir(tmp, { recursive: true });
    const staging = await mkdtemp(join(tmp, `${digestHex(digest).slice(0, 12)}.${process.pid}.`));
    // mkdtemp makes it 0700; it becomes the root of the task's file system, which every user must enter.
    await chmod(staging, 0o755);
    return staging;
  }

  /** Removes, once per process, staging directories left by processes that died mid-unpack. */
  private sweepStaging(): Promise<void> {
    this.swept ??= (async () => {
      const tmp = join(this.dir, "tmp");
      const names = await readdir(tmp).catch(() => [] as string[]);
      for (const name of names) {
        const pid = Number(name.split(".")[1]);
        if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await rm(join(tmp, name), { recursive: true, force: true });
      }
    })();
    return this.swept;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (found) => found.isDirectory(),
    () => false,
  );
}
