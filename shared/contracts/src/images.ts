// Images as the cell keeps them and as the gateway takes them: the record of a name:tag, and
// the bodies of a push through the gateway (README § HTTP API, Images). shared/images reads and
// writes the stores; these are the shapes both sides agree on.
import { z } from "zod";

/** Content addresses, as OCI writes them: the algorithm, a colon, the lower-case hex hash. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

const digestSchema = z.string().regex(DIGEST_PATTERN, "a layer digest is sha256: and 64 lower-case hex digits");

/**
 * What an image says about how to run it, kept from the OCI or Docker image config so a job
 * without a binary can still start the image's own program in its own directory.
 */
export const imageConfigSchema = z.object({
  entrypoint: z.array(z.string().max(4096)).max(1024).optional(),
  cmd: z.array(z.string().max(4096)).max(1024).optional(),
  env: z.record(z.string().max(1024), z.string().max(32_768)).optional(),
  workingDir: z.string().max(4096).optional(),
  user: z.string().max(256).optional(),
});
export type ImageConfig = z.infer<typeof imageConfigSchema>;

export const layerRefSchema = z.object({
  /** sha256 of the layer's uncompressed tar; its object's name in the layer store */
  digest: digestSchema,
  /** bytes of the uncompressed tar */
  size: z.number().int().nonnegative(),
});
export type LayerRef = z.infer<typeof layerRefSchema>;

/** At most this many layers an image (overlayfs takes a few hundred lower layers at most anyway). */
export const MAX_IMAGE_LAYERS = 500;

/** What the cell knows about one pushed image: its layers bottom first, and how to run it. */
export const imageRecordSchema = z.object({
  name: z.string().min(1),
  tag: z.string().min(1),
  layers: z.array(layerRefSchema).min(1, "an image has at least one layer").max(MAX_IMAGE_LAYERS),
  config: imageConfigSchema,
  pushedAt: z.iso.datetime(),
  /** who pushed it (through a gateway); absent for pushes straight to NATS by the cell's operator */
  pushedBy: z.string().optional(),
});
export type ImageRecord = z.infer<typeof imageRecordSchema>;

/** The most bytes one part of a layer upload may carry: each part is its own request, well within the gateway's request timeout. */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** `POST /v1/images/layers`: a layer whose bytes were sent as parts of an upload, to be checked and stored under its digest. */
export const commitLayerBodySchema = z.object({
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  upload: z.string().regex(/^[a-f0-9]{32}$/, "an upload id, as POST /v1/images/uploads gave it"),
  parts: z.number().int().min(0).max(1_000_000),
});
export type CommitLayerBody = z.infer<typeof commitLayerBodySchema>;

/** `POST /v1/images`: records `ref` as these layers (already in the cell) and this config. */
export const recordImageBodySchema = z.object({
  ref: z.string().min(1).max(400),
  layers: imageRecordSchema.shape.layers,
  config: imageConfigSchema,
});
export type RecordImageBody = z.infer<typeof recordImageBodySchema>;
