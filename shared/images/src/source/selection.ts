/**
 * Whether an archive's name for an image (`docker.io/library/web:1.2`, `web:1.2`, or an OCI
 * ref name that is only the tag, `1.2`) is the one the user asked for. Docker's implied
 * registry, `library/` and `:latest` do not have to be spelled out.
 */
export function matchesSelection(archiveName: string | undefined, select: string): boolean {
  if (archiveName === undefined) return false;
  if (archiveName === select) return true;
  const canonical = (name: string) => {
    const bare = name.replace(/^docker\.io\//, "").replace(/^library\//, "");
    const lastPart = bare.slice(bare.lastIndexOf("/") + 1);
    return lastPart.includes(":") ? bare : `${bare}:latest`;
  };
  if (canonical(archiveName) === canonical(select)) return true;
  // OCI layouts often name an image by its tag alone.
  const tagOnly = !archiveName.includes(":") && !archiveName.includes("/");
  return tagOnly && select.endsWith(`:${archiveName}`);
}
