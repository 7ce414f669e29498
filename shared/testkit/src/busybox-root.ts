import { cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { testDir } from "./test-cell.js";

export interface BusyboxRootOptions {
  /** busybox applets to link in /bin (sh is always there) */
  applets?: readonly string[];
  /** more files, by path inside the root */
  files?: Readonly<Record<string, string>>;
}

/** A real, minimal root filesystem: Debian's static busybox, its applets, and the given files. */
export function busyboxRoot(label: string, options: BusyboxRootOptions = {}): string {
  const root = join(testDir(label), "rootfs");
  for (const dir of ["bin", "tmp", "etc", "proc", "dev", "sys"]) mkdirSync(join(root, dir), { recursive: true });
  cpSync("/bin/busybox", join(root, "bin", "busybox"));
  for (const applet of new Set(["sh", ...(options.applets ?? [])])) symlinkSync("busybox", join(root, "bin", applet));
  for (const [path, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

