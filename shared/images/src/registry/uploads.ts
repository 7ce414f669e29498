// Layers pushed through a gateway arrive as parts, each its own HTTP request (so no request
// outlives the gateway's request timeout), and wait in an object store of their own until the
// whole layer is committed: then they are read back in order, checked against the digest and
// size the client claims, and stored as any other layer. Parts left behind expire.
import { Readable } from "node:stream";
import { Objm, StorageType, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { uploadBucketName, type CommitLayerBody } from "@corral/contracts";
import { ImageError } from "../errors.js";
import { createLayerBucket } from "./buckets.js";
import { layerPresent, storeLayer } from "./push.js";

/** An upload not committed within this long is dropped with its parts. */
const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

/** Opens (making if needed) the cell's bucket of upload parts. */
export function createUploadBucket(nc: NatsConnection, cell: string, replicas: number): Promise<ObjectStore> {
  return new Objm(nc).create(uploadBucketName(cell), {
    storage: StorageType.File,
    description: "parts of Corral image layers being pushed through a gateway",
    replicas,
    ttl: UPLOAD_TTL_MS * 1_000_000,
  });
}

/** A part's object: under its uploader's name, so one user's commit never reads another's parts. */
function partName(user: string, upload: string, part: number): string {
  return `${user}/${upload}/${part}`;
}

export async function putUploadPart(uploads: ObjectStore, user: string, upload: string, part: number, bytes: Uint8Array): Promise<void> {
  await uploads.putBlob({ name: partName(user, upload, part) }, bytes);
}

/** The parts in order, as one stream; a missing part is named. */
function partsInOrder(uploads: ObjectStore, user: string, body: CommitLayerBody): Readable {
  async function* read(): AsyncGenerator<Uint8Array> {
    for (let part = 0; part < body.parts; part++) {
      const object = await uploads.get(partName(user, body.upload, part));
      if (object === null) throw new ImageError("not_found", `part ${part} of upload ${body.upload} is not there (never sent, sent by someone else, or expired); push the layer again`);
      for await (const chunk of object.data) yield chunk;
      const failed = await object.error;
      if (failed) throw new ImageError("unpack_failed", `part ${part} of upload ${body.upload} could not be read back (${failed.message}); push again`);
    }
  }
  return Readable.from(read());
}

/**
 * Stores the layer an upload's parts make up, under its digest, once its bytes prove to be
 * that layer; the parts are removed either way. A layer the cell already has is not stored again.
 */
export async function commitUploadedLayer(nc: NatsConnection, cell: string, user: string, body: CommitLayerBody, replicas: number): Promise<{ present: boolean; storedBytes: number }> {
  const uploads = await createUploadBucket(nc, cell, replicas);
  try {
    const layers = await createLayerBucket(nc, cell, replicas);
    if (await layerPresent(layers, body.digest)) return { present: true, storedBytes: 0 };
    const storedBytes = await storeLayer(layers, { digest: body.digest, size: body.size }, partsInOrder(uploads, user, body), `upload ${body.upload}`);
    return { present: false, storedBytes };
  } finally {
    for (let part = 0; part < body.parts; part++) {
      // A part that cannot be deleted is left for the bucket's expiry: nothing is lost.
      await uploads.delete(partName(user, body.upload, part)).catch(() => undefined);
    }
  }
}
