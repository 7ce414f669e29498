// The directories a job mounts into its tasks' containers. Apart from the spec because the
// borglet's leases carry them as they are, and a path's checks are the safety line for mounts.
import { z } from "zod";

/** A path inside a task's container. */
const containerPath = z
  .string()
  .min(1)
  .max(4096, "a path is longer than 4096 characters")
  .regex(/^\//, "a path inside the container is absolute, e.g. /data")
  .refine((path) => !path.split("/").includes(".."), "a path must not contain '..'")
  .refine((path) => !path.includes("\0"), "a path must not contain NUL characters");

export const MAX_VOLUMES = 16;

/**
 * A directory mounted into the task's container: a directory of the machine as it is
 * (`host`), or a named volume the borglet keeps per user and name, which outlives the
 * task's restarts on that machine (`volume`).
 */
export const volumeSchema = z
  .strictObject({
    host: containerPath.optional(),
    volume: z.string().regex(/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/, "a volume name is 1-63 lower-case letters, digits, '_' and '-'").optional(),
    path: containerPath,
    readOnly: z.boolean().default(false),
  })
  .superRefine((volume, ctx) => {
    if ((volume.host === undefined) === (volume.volume === undefined)) {
      ctx.addIssue({ code: "custom", path: ["host"], message: "a volume mounts either a host directory (host = '/srv/data') or a named volume (volume = 'cache'): give exactly one" });
    }
  });
export type Volume = z.infer<typeof volumeSchema>;
