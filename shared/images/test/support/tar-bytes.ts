import { Header, Pax } from "tar";

export interface RawEntry {
  path: string;
  type: "File" | "Directory" | "SymbolicLink" | "Link";
  linkpath?: string;
  body?: string;
}

const BLOCK = 512;
const padded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);

/**
 * A tar holding exactly the given entries, names unsanitized (GNU tar and node-tar's packer
 * both refuse to write the hostile names these tests need). Headers are node-tar's own
 * encoder; a PAX header carries names too long for the classic header.
 */
export function tarOf(entries: readonly RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.type === "File" ? (entry.body ?? "x") : "");
    const data = { path: entry.path, type: entry.type, linkpath: entry.linkpath ?? "", size: body.length, mode: entry.type === "Directory" ? 0o755 : 0o644, uid: 0, gid: 0, mtime: new Date(0) };
    const header = new Header(data);
    const needPax = header.encode();
    if (needPax) blocks.push(new Pax({ path: entry.path, linkpath: entry.linkpath ?? "" }, false).encode());
    blocks.push(header.block!);
    if (body.length > 0) blocks.push(padded(body));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}
