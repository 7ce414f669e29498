// The seccomp filter containers run under: Docker's default profile as the distribution ships
// it (Debian's containers-common: /usr/share/containers/seccomp.json), turned into the OCI
// form runc takes for this machine's architecture and the capabilities a container keeps.
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { z } from "zod";

export const DEFAULT_SECCOMP_PROFILE = "/usr/share/containers/seccomp.json";

const condition = z.object({ arches: z.array(z.string()).optional(), caps: z.array(z.string()).optional(), minKernel: z.string().optional() }).partial();
const argument = z.object({ index: z.number().int(), value: z.number(), valueTwo: z.number().optional(), op: z.string() });
const profileSchema = z.object({
  defaultAction: z.string(),
  defaultErrnoRet: z.number().int().optional(),
  archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullable().optional() })).nullable().optional(),
  syscalls: z.array(
    z.object({
      names: z.array(z.string()),
      action: z.string(),
      args: z.array(argument).nullable().optional(),
      errnoRet: z.number().int().optional(),
      includes: condition.optional(),
      excludes: condition.optional(),
    }),
  ),
});

/** The OCI `linux.seccomp` block. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo: number; op: string }[] }[];
}

/** Node's name for the machine's architecture, as the profile's (Go's) names it, and as libseccomp does. */
const ARCHES: Record<string, { go: string; seccomp: string }> = {
  x64: { go: "amd64", seccomp: "SCMP_ARCH_X86_64" },
  arm64: { go: "arm64", seccomp: "SCMP_ARCH_AARCH64" },
  ia32: { go: "386", seccomp: "SCMP_ARCH_X86" },
  arm: { go: "arm", seccomp: "SCMP_ARCH_ARM" },
  ppc64: { go: "ppc64le", seccomp: "SCMP_ARCH_PPC64LE" },
  s390x: { go: "s390x", seccomp: "SCMP_ARCH_S390X" },
};

/** "6.8" ≤ "6.18.44-fc": compares major.minor numerically. */
function kernelAtLeast(kernel: string, wanted: string): boolean {
  const [major, minor] = kernel.split(/[.-]/).map(Number);
  const [wantMajor, wantMinor] = wanted.split(".").map(Number);
  return major! > wantMajor! || (major === wantMajor && (minor ?? 0) >= (wantMinor ?? 0));
}

/**
 * The profile at `path` for containers keeping `capabilities` on this machine: a rule applies
 * when its `includes` all hold (the architecture, every capability named, the kernel version)
 * and its `excludes` do not (any capability or architecture named). Throws, naming the file,
 * when it cannot be read or is not a profile.
 */
export function loadSeccompProfile(path: string, capabilities: readonly string[], machine: { arch: string; kernel: string } = { arch: process.arch, kernel: release() }): OciSeccomp {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`seccomp profile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`seccomp profile ${path} is not a Docker-style profile: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`);
  const profile = parsed.data;
  const arch = ARCHES[machine.arch];
  if (arch === undefined) throw new Error(`seccomp profile ${path}: no mapping for this machine's architecture (${machine.arch})`);
  const held = new Set(capabilities);
  const applies = (rule: z.infer<typeof profileSchema>["syscalls"][number]) => {
    const { includes = {}, excludes = {} } = rule;
    if (includes.arches !== undefined && !includes.arches.includes(arch.go)) return false;
    if (includes.caps !== undefined && !includes.caps.every((cap) => held.has(cap))) return false;
    if (includes.minKernel !== undefined && !kernelAtLeast(machine.kernel, includes.minKernel)) return false;
    if (excludes.arches?.includes(arch.go) === true) return false;
    if (excludes.caps?.some((cap) => held.has(cap)) === true) return false;
    return true;
  };
  const native = profile.archMap?.find((entry) => entry.architecture === arch.seccomp);
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet === undefined ? {} : { defaultErrnoRet: profile.defaultErrnoRet }),
    architectures: [arch.seccomp, ...(native?.subArchitectures ?? [])],
    syscalls: profile.syscalls.filter(applies).map((rule) => ({
      names: rule.names,
      action: rule.action,
      ...(rule.errnoRet === undefined ? {} : { errnoRet: rule.errnoRet }),
      ...(rule.args === undefined || rule.args === null || rule.args.length === 0 ? {} : { args: rule.args.map((arg) => ({ index: arg.index, value: arg.value, valueTwo: arg.valueTwo ?? 0, op: arg.op })) }),
    })),
  };
}
