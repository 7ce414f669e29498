import { join } from "node:path";
import type { Logger, NatsConnection } from "@corral/kit";
import { LayerStore, mountRootfs, unmountRootfs } from "@corral/images";
import type { RootfsProvider } from "./isolated-runtime.js";

/**
 * Root filesystems from the cell's images: layers fetched by digest into this machine's
 * layer store (once, shared by every task of every image that has them), then one overlayfs
 * per task with its own writable upper layer, removed with the task. A container in a user
 * namespace gets the layers copied once for its owner's range, and a root directory of its own.
 */
export function imageRoots(nc: NatsConnection, cell: string, dataDir: string, log: Logger): RootfsProvider {
  const layers = new LayerStore(join(dataDir, "images"), nc, cell, {
    log,
    onProgress: (progress) => {
      if (progress.kind === "layer-ready") log.info({ layer: progress.digest }, "layer ready");
    },
  });
  return async (image, taskDir, run, shift) => {
    const { image: record, lowerDirs } = await layers.ensure(image);
    const mounted =
      shift === undefined
        ? await mountRootfs(lowerDirs, taskDir, run)
        : await mountRootfs(await layers.shiftedLayers(lowerDirs, shift, run), taskDir, run, { uid: shift.offset, gid: shift.offset });
    return {
      rootfs: mounted.rootfs,
      env: Object.entries(record.config.env ?? {}).map(([key, value]) => `${key}=${value}`),
      ...(record.config.workingDir === undefined || record.config.workingDir === "" ? {} : { workingDir: record.config.workingDir }),
      ...(record.config.user === undefined || record.config.user === "" ? {} : { user: record.config.user }),
      release: () => unmountRootfs(taskDir, run),
    };
  };
}
