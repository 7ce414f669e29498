import { IMAGE_REF_PATTERN } from "@corral/contracts";
import { ImageError } from "./errors.js";

/** An image's name and tag, as pushed and as jobs name it (`web:1.2`). */
export interface ImageRef {
  name: string;
  tag: string;
}

export const DEFAULT_TAG = "latest";

const MAX_NAME_LENGTH = 255;
/**
 * Docker's rules, in the same strictness as the job spec's image field (contracts'
 * IMAGE_REF_PATTERN), so that every image that can be pushed can also be named by a job:
 * lower-case letters and digits, single '.', '_' or '-' between them; path components
 * joined by '/'.
 */
const NAME_COMPONENT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Docker's tag rule: up to 128 characters, not starting with '.' or '-'. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const EXAMPLE = "write name:tag, e.g. 'web:1.2' or 'team/web' (the tag defaults to latest)";

function refused(text: string, why: string): ImageError {
  return new ImageError("bad_reference", `image reference '${text}' ${why}; ${EXAMPLE}`);
}

/** `name[:tag]` → {name, tag}, with an error that says which rule the text breaks. */
export function parseImageRef(text: string): ImageRef {
  if (text.length === 0) throw refused(text, "is empty");
  if (text.includes("@")) throw refused(text, "names a digest (name@sha256:…), which Corral does not resolve");
  // The tag is what follows the last ':', unless a '/' comes after it (that would be a
  // registry's host:port, which Corral's names do not have).
  const colon = text.lastIndexOf(":");
  const hasTag = colon !== -1 && !text.slice(colon + 1).includes("/");
  const name = hasTag ? text.slice(0, colon) : text;
  const tag = hasTag ? text.slice(colon + 1) : DEFAULT_TAG;
  if (name.length === 0) throw refused(text, "has no name before the ':'");
  if (name.length > MAX_NAME_LENGTH) throw refused(text, `has a name longer than ${MAX_NAME_LENGTH} characters`);
  if (name.includes(":")) throw refused(text, "has more than one ':' (registry host:port prefixes are not supported)");
  if (name !== name.toLowerCase()) throw refused(text, "has upper-case letters in its name; names are lower-case");
  for (const component of name.split("/")) {
    if (!NAME_COMPONENT.test(component)) {
      const shown = component === "" ? "an empty path component (a leading, trailing or doubled '/')" : `the name part '${component}'`;
      throw refused(text, `has ${shown}: use letters and digits, with single '.', '_' or '-' between them`);
    }
  }
  if (hasTag && tag.length === 0) throw refused(text, "has an empty tag after the ':'");
  if (!TAG.test(tag)) throw refused(text, `has the tag '${tag}': a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`);
  // The rules above explain; the job spec's pattern decides, so a pushed image can always be named in a job.
  if (!IMAGE_REF_PATTERN.test(`${name}:${tag}`)) throw refused(text, "is not a reference a job can name");
  return { name, tag };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.name}:${ref.tag}`;
}

/**
 * The KV key of an image: `name:tag` in unpadded base64url. KV keys may hold letters,
 * digits, '-', '_', '=', '/' and '.' but no empty dot-separated tokens, and tags may hold
 * `..` or end with '.'; base64url never produces a '.', so every valid reference maps to a
 * valid key, and back.
 */
export function imageKey(ref: ImageRef): string {
  return Buffer.from(formatImageRef(ref), "utf8").toString("base64url");
}

/** The reference a KV key stands for (the inverse of imageKey). */
export function imageRefOfKey(key: string): ImageRef {
  return parseImageRef(Buffer.from(key, "base64url").toString("utf8"));
}
