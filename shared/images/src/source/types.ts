import type { Readable } from "node:stream";
import type { ImageConfig } from "../image-config.js";

export type SourceFormat = "directory" | "tarball" | "docker-archive" | "oci-layout";

/** One layer of an image being imported. */
export interface SourceLayer {
  /** sha256 of the uncompressed tar (the diff id): the layer's address everywhere in Corral */
  digest: string;
  /** bytes of the uncompressed tar */
  size: number;
  /** the uncompressed tar, read afresh on each call */
  open(): Readable;
}

/** An image read from disk, checked, ready to push. */
export interface ImageSource {
  path: string;
  format: SourceFormat;
  /** bottom layer first */
  layers: SourceLayer[];
  /** empty for formats that have no image config (a directory, a plain tarball) */
  config: ImageConfig;
  /** removes what reading left behind (an unpacked archive); safe to call twice */
  close(): Promise<void>;
}

export interface ReadImageSourceOptions {
  /**
   * Which image of an archive or layout that holds several: a tag (`web:1.2`) matched
   * against docker-save RepoTags or OCI `org.opencontainers.image.ref.name` annotations.
   */
  select?: string;
  /** where archives are unpacked while they are read; the system's temp dir by default */
  tmpDir?: string;
}
