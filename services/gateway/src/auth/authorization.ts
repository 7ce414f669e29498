import { CorralError, type Identity } from "@corral/contracts";

/** What may be done to a job: the first four change it (or would, for plan), the rest read what only its owner should see. */
export type JobVerb = "submit" | "plan" | "update" | "kill" | "scale" | "read logs of" | "read events of" | "ask why of";
const CHANGES: ReadonlySet<JobVerb> = new Set(["submit", "plan", "update", "kill", "scale"]);

/** The user a job id names as its owner: `<job>.<user>.<cell>`, or a federated job's `<job>.<user>`. */
export function ownerOf(jobId: string): string {
  return jobId.split(".")[1] ?? "";
}

/**
 * One rule for every job action, wherever it comes from (a cell's job or a federated one):
 * admins do anything; a user acts on their own jobs only; a viewer reads, and changes nothing.
 * A refusal names who, what and which job, and how to get the right.
 */
export function authorizeJob(identity: Identity, verb: JobVerb, jobId: string): void {
  if (identity.role === "admin") return;
  if (identity.role === "viewer") {
    if (!CHANGES.has(verb)) return;
    throw new CorralError("forbidden", `${identity.name} is a viewer and may not ${verb} job ${jobId}: viewers only read; an admin can give ${identity.name} the user role`, "authorization");
  }
  const owner = ownerOf(jobId);
  if (owner === identity.name) return;
  throw new CorralError("forbidden", `${identity.name} may not ${verb} job ${jobId}: it is ${owner}'s; only its owner or an admin may`, "authorization");
}

/** Users and the cell itself are for admins. */
export function authorizeAdmin(identity: Identity, action: string): void {
  if (identity.role === "admin") return;
  throw new CorralError("forbidden", `${identity.name} (${identity.role}) may not ${action}: only admins may`, "authorization");
}

/**
 * The owner a submission gets: the caller, never a header or the spec's say-so. A spec that
 * names another user is refused, unless an admin submits it for them.
 */
export function ownerForSubmission(identity: Identity, specUser: string | undefined): string {
  if (specUser === undefined || specUser === identity.name) return identity.name;
  if (identity.role === "admin") return specUser;
  throw new CorralError("forbidden", `the spec says user = '${specUser}', but you are ${identity.name}: remove the user field, or have an admin submit it`, "user");
}

/** Tasks run as their owner's own unprivileged uid on a machine; root there is for admins' jobs alone. */
export function authorizeRunAsRoot(identity: Identity, runAsRoot: boolean | undefined): void {
  if (runAsRoot !== true || identity.role === "admin") return;
  throw new CorralError("forbidden", `${identity.name} may not submit run_as_root = true: a task runs as root on its machine only in an admin's job; remove it, and the task runs as your own unprivileged user there`, "runAsRoot");
}

/** What may be done to images: add layers to the cell (shared by digest, so no one's own), or record a name:tag. */
export type ImageVerb = "upload image layers" | "push images";

/**
 * Images are kept per user, as on a registry: `alice/web:1` is in alice's namespace, and only
 * alice or an admin pushes (or overwrites) it; a name without a namespace is the cell's own,
 * which admins push. Everyone signed in may read and run any image. Viewers push nothing.
 */
export function authorizeImage(identity: Identity, verb: ImageVerb, ref?: { name: string; tag: string }): void {
  if (identity.role === "admin") return;
  if (identity.role === "viewer") {
    throw new CorralError("forbidden", `${identity.name} is a viewer and may not ${verb}: viewers only read; an admin can give ${identity.name} the user role`, "authorization");
  }
  if (ref === undefined) return;
  const slash = ref.name.indexOf("/");
  const namespace = slash === -1 ? undefined : ref.name.slice(0, slash);
  if (namespace === identity.name) return;
  const shown = `${ref.name}:${ref.tag}`;
  const own = `${identity.name}/${slash === -1 ? ref.name : ref.name.slice(slash + 1)}:${ref.tag}`;
  if (namespace === undefined) {
    throw new CorralError("forbidden", `${identity.name} may not push ${shown}: a name without a namespace is one of the cell's shared images, which only admins push; push it as ${own}`, "ref");
  }
  throw new CorralError("forbidden", `${identity.name} may not push ${shown}: it is in ${namespace}'s namespace, where only ${namespace} or an admin may push; push it as ${own}`, "ref");
}
