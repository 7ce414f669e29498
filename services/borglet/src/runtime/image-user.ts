// Who a container's process runs as: the image's USER (Docker's forms: name, uid, name:group,
// uid:gid), looked up in the image's own /etc/passwd and /etc/group, never the machine's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { regularFileInRoot } from "./path-in-root.js";

export interface ContainerUser {
  uid: number;
  gid: number;
}

const NUMBER = /^\d+$/;
const MAX_ID = 2 ** 32 - 2;

/** The records of an image's passwd or group file, by name: [name, id, primary gid (passwd only)]. */
function records(root: string, file: "/etc/passwd" | "/etc/group"): string[][] {
  const inRoot = regularFileInRoot(root, file);
  if (inRoot === undefined) return [];
  return readFileSync(join(root, inRoot), "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

/**
 * The image's USER as numbers, or why it cannot be: a name the image's files do not have is an
 * error, not root. No USER (or empty): root, as Docker does.
 */
export function imageUser(root: string, user: string | undefined): ContainerUser | { problem: string } {
  if (user === undefined || user === "") return { uid: 0, gid: 0 };
  const [name, group] = user.split(":", 2) as [string, string | undefined];
  let uid: number;
  let gid: number | undefined;
  const passwd = records(root, "/etc/passwd");
  if (NUMBER.test(name)) {
    uid = Number(name);
    const entry = passwd.find((fields) => fields[2] === name);
    gid = entry === undefined ? 0 : Number(entry[3]);
  } else {
    const entry = passwd.find((fields) => fields[0] === name);
    if (entry === undefined || !NUMBER.test(entry[2] ?? "") || !NUMBER.test(entry[3] ?? "")) return { problem: `the image's USER '${user}' names '${name}', which is not in the image's /etc/passwd` };
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (group !== undefined && group !== "") {
    if (NUMBER.test(group)) gid = Number(group);
    else {
      const entry = records(root, "/etc/group").find((fields) => fields[0] === group);
      if (entry === undefined || !NUMBER.test(entry[2] ?? "")) return { problem: `the image's USER '${user}' names group '${group}', which is not in the image's /etc/group` };
      gid = Number(entry[2]);
    }
  }
  if (uid > MAX_ID || gid > MAX_ID) return { problem: `the image's USER '${user}' is out of range` };
  return { uid, gid };
}
