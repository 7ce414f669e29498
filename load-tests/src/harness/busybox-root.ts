import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A static busybox: the whole userland of the benchmark's web servers. */
export const BUSYBOX = "/bin/busybox";

const APPLETS = ["sh", "httpd", "cat", "ls", "sleep", "hostname", "echo"];

/** A directory with `index.html` holding `page`, for `busybox httpd -h DIR`. */
export function webDir(dir: string, page: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "index.html"), page);
  return dir;
}

/**
 * A root filesystem for an image: /bin/busybox with a few applets linked to it, and /www
 * with the page to serve. `busybox` must be statically linked (there is no libc in it).
 */
export function busyboxRoot(dir: string, page: string): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} not found: install a static busybox (apt-get install busybox-static)`);
  for (const sub of ["bin", "tmp", "etc"]) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, "bin", "busybox"));
  for (const applet of APPLETS) symlinkSync("busybox", join(dir, "bin", applet));
  webDir(join(dir, "www"), page);
  return dir;
}
