import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SECCOMP_PROFILE, loadSeccompProfile } from "../src/runtime/seccomp-profile.js";

// The conversion of Docker's profile (as Debian ships it) into runc's form, on the real file.
const x64 = { arch: "x64", kernel: "6.1.0" };
const allowed = (profile: ReturnType<typeof loadSeccompProfile>, name: string) => profile.syscalls.some((rule) => rule.action === "SCMP_ACT_ALLOW" && rule.names.includes(name) && rule.args === undefined);

test("Debian's profile: refuses by default, allows what a capability-less container needs, and what a capability unlocks only with it", (t) => {
  const plain = loadSeccompProfile(DEFAULT_SECCOMP_PROFILE, ["CAP_KILL"], x64);
  t.is(plain.defaultAction, "SCMP_ACT_ERRNO");
  t.deepEqual(plain.architectures.slice(0, 1), ["SCMP_ARCH_X86_64"]);
  for (const name of ["read", "write", "openat", "clone", "execve", "exit_group"]) t.true(allowed(plain, name), name);
  for (const name of ["chroot", "init_module", "bpf", "open_by_handle_at", "kexec_load"]) t.false(allowed(plain, name), name);
  const chrooter = loadSeccompProfile(DEFAULT_SECCOMP_PROFILE, ["CAP_KILL", "CAP_SYS_CHROOT"], x64);
  t.true(allowed(chrooter, "chroot"), "allowed with CAP_SYS_CHROOT");
  // Rules for other architectures do not apply here.
  t.false(plain.syscalls.some((rule) => rule.names.includes("s390_pci_mmio_read")));
});

test("a file that is not a profile, or missing, is refused naming it", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "corral-seccomp-"));
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: "read" }] }));
  t.throws(() => loadSeccompProfile(bad, []), { message: new RegExp(`${bad} is not a Docker-style profile: syscalls.0.names`) });
  t.throws(() => loadSeccompProfile(join(dir, "missing.json"), []), { message: /ENOENT/ });
  t.throws(() => loadSeccompProfile(DEFAULT_SECCOMP_PROFILE, [], { arch: "mips", kernel: "6.1" }), { message: /architecture \(mips\)/ });
});
