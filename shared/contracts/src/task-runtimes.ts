// Which of a machine's runtimes a task needs: the host runtime runs a binary as a process, the
// isolated one an image in a container. A borglet may offer only some (`--runtimes`), and says
// which in an attribute of its own, so the scheduler places each task where it can run.

export const TASK_RUNTIMES = ["host", "isolated"] as const;
export type RuntimeName = (typeof TASK_RUNTIMES)[number];

/** The machine attribute that lists the runtimes a machine offers (`host,isolated`); absent: every one. */
export const RUNTIMES_ATTRIBUTE = "runtimes";

/** The runtime a task of this spec runs in. */
export function runtimeOf(spec: { image?: string | undefined }): RuntimeName {
  return spec.image === undefined ? "host" : "isolated";
}

/** Whether a machine with these attributes runs tasks of `runtime`. */
export function offersRuntime(attributes: Readonly<Record<string, string>>, runtime: RuntimeName): boolean {
  const offered = attributes[RUNTIMES_ATTRIBUTE];
  return offered === undefined || offered.split(",").includes(runtime);
}
