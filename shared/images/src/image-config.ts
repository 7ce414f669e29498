import { z } from "zod";
import { imageConfigSchema, type ImageConfig } from "@corral/contracts";

export { imageConfigSchema, type ImageConfig };

/** The parts of an OCI / Docker image config file that Corral reads (the rest is ignored). */
export const configFileSchema = z.object({
  config: z
    .object({
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      Env: z.array(z.string()).nullish(),
      WorkingDir: z.string().nullish(),
      User: z.string().nullish(),
    })
    .nullish(),
  rootfs: z.object({
    type: z.literal("layers", { error: "rootfs.type must be 'layers'" }),
    diff_ids: z.array(z.string()),
  }),
});
export type ConfigFile = z.infer<typeof configFileSchema>;

/** `KEY=value` lines as a record; a line without '=' gives no value and is left out. */
function envRecord(lines: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const equals = line.indexOf("=");
    if (equals > 0) env[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return env;
}

export function imageConfigOf(file: ConfigFile): ImageConfig {
  const source = file.config ?? {};
  const config: ImageConfig = {};
  if (source.Entrypoint) config.entrypoint = [...source.Entrypoint];
  if (source.Cmd) config.cmd = [...source.Cmd];
  if (source.Env && source.Env.length > 0) config.env = envRecord(source.Env);
  if (source.WorkingDir) config.workingDir = source.WorkingDir;
  if (source.User) config.user = source.User;
  return config;
}
