import type { Command } from "commander";
import { imagesTable, pushImageFile, pushSummary } from "./images.js";
import { gatewayClient, print } from "./program.js";

/** `corral image push|ls`: the cell's images, through its gateway. */
export function addImageCommands(program: Command): void {
  const image = program.command("image").description("container images kept in the cell, for jobs with image = 'name:tag'");

  image
    .command("push")
    .description("upload an image (a root filesystem directory, a tarball, a docker save or OCI image-layout tarball) once; borglets fetch its layers by digest. Your images are named <you>/<name>:<tag>; names without a namespace are the cell's shared images, which admins push")
    .argument("<file>", "the image: a directory, .tar/.tar.gz, docker save tarball, or OCI layout (directory or tarball)")
    .argument("<name:tag>", "what jobs call it, e.g. alice/web:1.2")
    .option("--json", "print JSON for scripts")
    .action(async (file: string, reference: string, options: { json?: boolean }) => {
      const result = await pushImageFile(gatewayClient(program), file, reference, options.json === true);
      print(result, options.json === true, () => pushSummary(result));
    });

  image
    .command("ls")
    .description("the cell's images: layers, size, when and by whom pushed")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }) => {
      const { images } = await gatewayClient(program).images();
      print({ images }, options.json === true, () => imagesTable(images));
    });
}
