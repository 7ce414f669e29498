import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JobView } from "@corral/contracts";
import { testDir } from "@corral/testkit";

/** A directory with an index page for busybox's httpd to serve (one per test file). */
export function webRoot(label: string, withIndex = true): string {
  const www = join(testDir(label), "www");
  mkdirSync(www, { recursive: true });
  if (withIndex) writeFileSync(join(www, "index.html"), "ok\n");
  return www;
}

/**
 * A busybox web server job on the host runtime with an http health check every 300 ms (lenient
 * enough that a busy machine does not fail it: a restart would spoil a test's counts); `version` goes in its environment (so a new one replaces every task), `update` is
 * the inside of its update block, `extra` more lines of the job.
 */
export function webJob(options: { name: string; www: string; version: string; replicas: number; update: string; extra?: string }): string {
  return `job ${options.name} = {
  binary = '/bin/busybox'
  args = ['httpd', '-f', '-p', '%port%', '-h', '${options.www}']
  env = { VERSION = '${options.version}' }
  requirements = { cpu = 0.01 ram = 16M ports = 1 }
  replicas = ${options.replicas}
  grace = 1s
  health = { http = { path = '/' } interval = 300ms timeout = 250ms failures = 3 }
  update = { ${options.update} }
  ${options.extra ?? ""}
}`;
}

/** How many of the job's tasks run and passed their last check. */
export const healthyCount = (job: JobView) => job.tasks.filter((task) => task.state === "running" && task.health === "healthy").length;
