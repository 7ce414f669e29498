import { Kvm, type KV } from "@nats-io/kv";
import { Objm, setSha256Backend, StorageType, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { imageBucketName as imageBucket, layerBucketName as layerBucket } from "@corral/contracts";
import { ImageError } from "../errors.js";

// Node's own sha256 for the object store's chunk digests: the default pure-JS one is several
// times slower on layers of hundreds of MiB. The setting is process-wide and only ever this.
setSha256Backend("native");

/** Cells are lower-case names (contracts' NAME_PATTERN); checked again here because they become stream names. */
const CELL = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;

function checkedCell(cell: string): string {
  if (!CELL.test(cell)) throw new ImageError("bad_reference", `'${cell}' is not a cell name (lower-case letters, digits, '_' or '-')`);
  return cell;
}

/** The object store of a cell's layers (contracts name it), the cell checked first since it becomes a stream name. */
export function layerBucketName(cell: string): string {
  return layerBucket(checkedCell(cell));
}

/** The KV bucket of a cell's images, one record per name:tag. */
export function imageBucketName(cell: string): string {
  return imageBucket(checkedCell(cell));
}

/** Opens the cell's layer store, making it if it is not there yet (file storage: layers outlive restarts). */
export async function createLayerBucket(nc: NatsConnection, cell: string, replicas: number): Promise<ObjectStore> {
  return new Objm(nc).create(layerBucketName(cell), { storage: StorageType.File, description: "Corral image layers by digest (gzip tars)", replicas });
}

/** Opens the cell's layer store, or says that nothing was ever pushed to the cell. */
export async function openLayerBucket(nc: NatsConnection, cell: string): Promise<ObjectStore> {
  try {
    return await new Objm(nc).open(layerBucketName(cell));
  } catch (error) {
    if (/not found/i.test((error as Error).message)) throw new ImageError("not_found", `cell ${cell} has no layer store (${layerBucketName(cell)}): no image was ever pushed to it`);
    throw error;
  }
}

export async function createImageBucket(nc: NatsConnection, cell: string, replicas: number): Promise<KV> {
  return new Kvm(nc).create(imageBucketName(cell), { storage: StorageType.File, history: 1, replicas });
}

/** The cell's image catalog, or undefined when no image was ever pushed to the cell. */
export async function openImageBucket(nc: NatsConnection, cell: string): Promise<KV | undefined> {
  const kv = await new Kvm(nc).open(imageBucketName(cell));
  try {
    await kv.status();
    return kv;
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return undefined;
    throw error;
  }
}
