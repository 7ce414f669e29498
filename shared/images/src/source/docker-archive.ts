import { join } from "node:path";
import { z } from "zod";
import { ImageError } from "../errors.js";
import { configFileSchema, imageConfigOf } from "../image-config.js";
import { fileInside } from "./inside.js";
import { readJsonDocument } from "./json-file.js";
import { layerFromFile } from "./layer-file.js";
import type { ReadImage } from "./oci-layout.js";
import { matchesSelection } from "./selection.js";
import type { SourceLayer } from "./types.js";

const manifestSchema = z
  .array(
    z.object({
      Config: z.string().min(1),
      RepoTags: z.array(z.string()).nullish(),
      Layers: z.array(z.string()),
    }),
  )
  .min(1, "lists no images");
type Entry = z.infer<typeof manifestSchema>[number];

function chooseImage(images: Entry[], manifestFile: string, select: string | undefined): Entry {
  const tags = images.flatMap((image) => image.RepoTags ?? []);
  if (select !== undefined) {
    const chosen = images.find((image) => (image.RepoTags ?? []).some((tag) => matchesSelection(tag, select)));
    if (chosen === undefined) throw new ImageError("not_found", `${manifestFile} has no image tagged '${select}' (it has: ${tags.join(", ") || "no tags"})`, manifestFile);
    return chosen;
  }
  if (images.length > 1) throw new ImageError("bad_manifest", `${manifestFile} holds ${images.length} images (${tags.join(", ")}); say which one to read`, manifestFile);
  return images[0]!;
}

/** The unpacked output of `docker save` (or skopeo's docker-archive): manifest.json, a config, layer tars. */
export async function readDockerArchive(root: string, described: string, select: string | undefined): Promise<ReadImage> {
  const manifestFile = join(root, "manifest.json");
  const image = chooseImage(await readJsonDocument(manifestFile, manifestSchema, "a docker-save manifest"), manifestFile, select);
  const configFile = await readJsonDocument(await fileInside(root, image.Config, "config", described), configFileSchema, "an image config");
  const diffIds = configFile.rootfs.diff_ids;
  if (diffIds.length !== image.Layers.length) {
    throw new ImageError("bad_manifest", `${described}: manifest.json lists ${image.Layers.length} layers but the config's rootfs.diff_ids has ${diffIds.length}`, manifestFile);
  }
  const layers: SourceLayer[] = [];
  for (const [i, name] of image.Layers.entries()) {
    const file = await fileInside(root, name, `layer ${i + 1}`, described);
    layers.push(await layerFromFile(file, `${described}, layer ${i + 1}`, { diffId: diffIds[i]! }));
  }
  return { layers, config: imageConfigOf(configFile) };
}
