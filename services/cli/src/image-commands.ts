import type { Command } from "commander";
import { imageCell, imagesTable, listCellImages, pushImageFile, pushSummary } from "./images.js";
import { jsReplicas } from "./option-parsers.js";
import { localCellDir, print } from "./program.js";

interface ImageCellOptions {
  nats?: string;
  cell?: string;
  natsCredentials?: string;
  natsTlsCa?: string;
}

/** `corral image push|ls`: images in the cell's NATS object store. */
export function addImageCommands(program: Command): void {
  const image = program.command("image").description("container images in the cell's NATS object store, for jobs with image = 'name:tag'");
  const cellOf = (options: ImageCellOptions) => imageCell(localCellDir(program), options.nats, options.cell, options.natsCredentials, options.natsTlsCa);

  image
    .command("push")
    .description("upload an image (a root filesystem directory, a tarball, a docker save or OCI image-layout tarball) once; borglets fetch its layers by digest")
    .argument("<file>", "the image: a directory, .tar/.tar.gz, docker save tarball, or OCI layout (directory or tarball)")
    .argument("<name:tag>", "what jobs call it, e.g. web:1.2")
    .option("--nats <url>", "the cell's NATS, instead of the local cell in --dir")
    .option("--cell <name>", "the cell's name (with --nats)")
    .option("--nats-credentials <file>", "the NKey seed file (mode 600) to sign in to that NATS with; default: the local cell's operator credentials")
    .option("--nats-tls-ca <file>", "the CA certificate that NATS's certificate is checked against (TLS); default: the local cell's, when it runs TLS")
    .option("--js-replicas <n>", "copies JetStream keeps of the cell's layer store and image catalog, if this push creates them: 1 on one NATS server, 3 on a cluster", jsReplicas, 1)
    .option("--json", "print JSON for scripts")
    .action(async (file: string, reference: string, options: ImageCellOptions & { json?: boolean; jsReplicas: number }) => {
      const result = await pushImageFile(cellOf(options), file, reference, options.json === true, options.jsReplicas);
      print(result, options.json === true, () => pushSummary(result));
    });

  image
    .command("ls")
    .description("the cell's images")
    .option("--nats <url>", "the cell's NATS, instead of the local cell in --dir")
    .option("--cell <name>", "the cell's name (with --nats)")
    .option("--nats-credentials <file>", "the NKey seed file (mode 600) to sign in to that NATS with; default: the local cell's operator credentials")
    .option("--nats-tls-ca <file>", "the CA certificate that NATS's certificate is checked against (TLS); default: the local cell's, when it runs TLS")
    .option("--json", "print JSON for scripts")
    .action(async (options: ImageCellOptions & { json?: boolean }) => {
      const images = await listCellImages(cellOf(options));
      print({ images }, options.json === true, () => imagesTable(images));
    });
}
