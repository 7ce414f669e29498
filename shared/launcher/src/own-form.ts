// Whether this launcher runs from its TypeScript source (a checkout, through tsx) or from
// `npm run build`'s output (plain node, the corral-built condition): a launcher runs what it
// is itself, so a built `corral` starts built services and a built watchdog.
import { fileURLToPath } from "node:url";

export type ServiceForm = "source" | "built";

/** The built files sit one level deeper, under the package's dist/. */
export const OWN_FORM: ServiceForm = import.meta.url.includes("/dist/") ? "built" : "source";

export const REPO_ROOT = fileURLToPath(new URL(OWN_FORM === "built" ? "../../../../" : "../../../", import.meta.url));

/** The node flags that load code of that form: tsx for source; for built, every @corral/* package's dist/. */
export function loaderFlags(form: ServiceForm): string[] {
  return form === "source" ? ["--import", import.meta.resolve("tsx")] : ["--conditions=corral-built"];
}
