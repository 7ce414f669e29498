import { pushImage } from "@corral/images";
import { busyboxRoot, type BusyboxRootOptions, type TestCell } from "@corral/testkit";

/** Builds a busybox root and pushes it to the cell as `reference`; returns the root's path. */
export async function pushBusyboxImage(cell: TestCell, reference: string, options: BusyboxRootOptions = {}): Promise<string> {
  const root = busyboxRoot(reference.replace(/[^a-z0-9]/g, "-"), options);
  const nc = await cell.connectAs("operator");
  try {
    await pushImage(nc, cell.cell.cell, reference, root);
  } finally {
    await nc.close();
  }
  return root;
}
