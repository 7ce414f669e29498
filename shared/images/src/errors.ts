import { CorralError, type ErrorCode } from "@corral/contracts";

/** What went wrong, finer than an ErrorCode: callers and tests branch on it, people read the message. */
export const IMAGE_ERROR_REASONS = [
  "bad_reference", // a name:tag that breaks the naming rules
  "not_found", // an image, a layer or a file that is not there
  "not_a_tarball", // a file that is neither a tar nor a gzip-compressed tar
  "manifest_missing", // an image archive or layout without the file that describes it
  "bad_manifest", // that file is there but does not say what an image needs
  "blob_missing", // a manifest names a layer or config that the archive does not hold
  "digest_mismatch", // content that is not what its digest says
  "unsupported", // a well-formed input this package cannot handle (zstd, other hash algorithms)
  "unsafe_path", // a layer entry that would land outside its layer directory
  "unpack_failed", // a layer that could not be read or written to disk
  "bad_record", // an image record read back from KV that is not one
  "not_root", // mounting needs root
  "no_overlayfs", // the kernel cannot mount overlayfs
  "mount_failed", // mount(8) or umount(8) refused for another reason
] as const;
export type ImageErrorReason = (typeof IMAGE_ERROR_REASONS)[number];

/** How each reason crosses a process boundary (the gateway turns codes into HTTP statuses). */
const CODE_OF: Readonly<Record<ImageErrorReason, ErrorCode>> = {
  bad_reference: "bad_request",
  not_found: "not_found",
  not_a_tarball: "bad_request",
  manifest_missing: "bad_request",
  bad_manifest: "bad_request",
  blob_missing: "bad_request",
  digest_mismatch: "bad_request",
  unsupported: "bad_request",
  unsafe_path: "bad_request",
  unpack_failed: "internal",
  bad_record: "incompatible_state",
  not_root: "unavailable",
  no_overlayfs: "unavailable",
  mount_failed: "internal",
};

/** Every failure of this package: a reason to branch on, and the file it concerns when there is one. */
export class ImageError extends CorralError {
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
    readonly file?: string,
  ) {
    super(CODE_OF[reason], message);
    this.name = "ImageError";
  }
}

/** The message of anything thrown, for wrapping lower-level errors into ones that say where. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
