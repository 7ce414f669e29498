import { JOB_KINDS, PRIORITY_BANDS, RESTART_POLICIES, type JobKind } from "@corral/contracts";
import type { IssueList, SourcePosition } from "./errors.js";
import { ALLOC_FIELDS, JOB_FIELDS } from "./field-names.js";
import { exampleField, num, str, type SpecFormat } from "./format.js";
import { readArgs, readEnv } from "./normalize-args-env.js";
import { NormalizeContext } from "./normalize-context.js";
import { readHealth } from "./normalize-health.js";
import { readUpdatePolicy } from "./normalize-update.js";
import { readLabels } from "./normalize-labels.js";
import { readConstraintList, readSpread } from "./normalize-placement.js";
import { readRequirements } from "./normalize-requirements.js";
import { readRuntime } from "./normalize-runtime.js";
import { readVolumes } from "./normalize-volumes.js";
import type { RawJob } from "./raw-value.js";
import { readChoice, readCount, readDuration, readOneOf, readString, readBoolean } from "./value-readers.js";

/*
 * The normalizer: raw tree → JobSpec-shaped candidate. This file reads the job as a whole (its
 * kind, its name, the order its parts are read in) and hands each part to its reader; the
 * shared state and the field check are in normalize-context.ts, the readers in normalize-*.ts.
 */

export const DEFAULT_PRIORITY = "production";
export const DEFAULT_RESTART = "always";
export const DEFAULT_GRACE_MS = 10_000;

/**
 * The candidate JobSpec plus what is needed to explain a schema failure in source terms:
 * where each field was written and what the user called it.
 */
export interface NormalizedJob {
  /** Shaped like JobSpec, but not validated; fields that could not be read are left out. */
  candidate: Record<string, unknown>;
  /** JobSpec path (`requirements.cpu`, `args.0`, `` for the job) → where its value was written. */
  positions: Map<string, SourcePosition>;
  /** JobSpec path → the field as the user wrote it, where they differ (`gracePeriodMs` → `grace`). */
  labels: Map<string, string>;
  /** JobSpec paths already reported, so the schema check does not report them twice. */
  reported: Set<string>;
  /** JobSpec path of a map entry (`labels.tier`) → where its key was written, for problems with the key itself. */
  keyPositions: Map<string, SourcePosition>;
}

/**
 * Turns the raw tree into a JobSpec-shaped object: checks field names and value kinds,
 * converts units, applies defaults. Range checks are left to the zod schema, the single
 * place that defines what a valid job is.
 */
export function normalizeJob(job: RawJob, issues: IssueList, format: SpecFormat): NormalizedJob {
  const ctx = new NormalizeContext(issues, format, job.position);
  const candidate: Record<string, unknown> = {};
  if (job.name?.kind === "string") ctx.name = job.name.value;
  ctx.kind = readKind(ctx, job);
  candidate.kind = ctx.kind;
  const alloc = ctx.kind === "alloc";
  const allowed = alloc ? ALLOC_FIELDS : JOB_FIELDS;
  // YAML and JSON may say `kind:` in the body; Borg says it with the header keyword.
  const fields = ctx.fields(job.body, format === "borg" ? allowed : [...allowed, "kind"], "");

  if (job.name === undefined || job.name.kind === "null") {
    const help = alloc ? "add alloc: web_allocs (YAML/JSON also accept name: with kind: alloc)" : "add job: hello_world (YAML/JSON also accept name:)";
    ctx.report("name", `the ${ctx.noun} has no name; ${help}`, ctx.jobPosition);
  } else {
    ctx.positions.set("name", job.name.position);
    candidate.name = readString(ctx, job.name, "name", str("hello_world"));
  }

  const user = fields.get("user");
  if (user !== undefined) candidate.user = readString(ctx, user.value, "user", str("alice"));

  const runtime = fields.get("runtime");
  candidate.runtime = runtime === undefined ? {} : readRuntime(ctx, runtime.value, fields.get("alloc_set"));

  const binary = fields.get("binary");
  if (alloc) {
    // An alloc set runs nothing; `binary` was refused with the other such fields.
    candidate.binary = "";
  } else if (binary === undefined) {
    // With the kind in doubt, a missing binary may well be right (an alloc set has none): say nothing.
    if (ctx.kindUnsure) ctx.reported.add("binary");
    else ctx.missing("binary", `add the program to run, e.g. ${exampleField(format, "binary", str("hello_world_webserver"))}`);
  } else {
    candidate.binary = readString(ctx, binary.value, "binary", str("hello_world_webserver"));
  }

  const image = fields.get("image");
  // The reference's rules and message are the schema's.
  if (image !== undefined) candidate.image = readString(ctx, image.value, "image", str("web:1.2"));

  const args = fields.get("args");
  candidate.args = args === undefined ? [] : readArgs(ctx, args.value);
  const env = fields.get("env");
  candidate.env = env === undefined ? {} : readEnv(ctx, env.value);
  // Read before the requirements, whose default ports count the health check's port.
  const health = fields.get("health");
  if (health !== undefined) candidate.health = readHealth(ctx, health.value);

  candidate.requirements = readRequirements(ctx, fields.get("requirements"), candidate);

  const replicas = fields.get("replicas");
  if (replicas === undefined) {
    const what = alloc ? "allocs to reserve" : "tasks to run";
    ctx.missing("replicas", `add how many ${what}, e.g. ${exampleField(format, "replicas", num("3"))}`);
  } else {
    candidate.replicas = readCount(ctx, replicas.value, "replicas", "3");
  }

  candidate.priority = readChoice(ctx, fields.get("priority"), "priority", PRIORITY_BANDS, DEFAULT_PRIORITY);
  candidate.restart = readChoice(ctx, fields.get("restart"), "restart", RESTART_POLICIES, DEFAULT_RESTART);

  const grace = fields.get("grace");
  candidate.gracePeriodMs = grace === undefined ? DEFAULT_GRACE_MS : readDuration(ctx, grace.value, "gracePeriodMs", "30s");

  candidate.constraints = readConstraintList(ctx, fields.get("constraints"), "constraints");
  candidate.preferences = readConstraintList(ctx, fields.get("preferences"), "preferences");
  const spread = fields.get("spread");
  if (spread !== undefined) candidate.spread = readSpread(ctx, spread.value);
  const maxPerMachine = fields.get("max_per_machine");
  if (maxPerMachine !== undefined) candidate.maxPerMachine = readCount(ctx, maxPerMachine.value, "maxPerMachine", "2");
  const allocSet = fields.get("alloc_set");
  // The name's rules and message are the schema's, as for the job's own name.
  if (allocSet !== undefined) candidate.allocSet = readString(ctx, allocSet.value, "allocSet", str("web_allocs"));
  // Whether there is an image for the volumes to be mounted in is the schema's to say.
  candidate.volumes = readVolumes(ctx, fields.get("volumes"));
  const labels = fields.get("labels");
  candidate.labels = labels === undefined ? {} : readLabels(ctx, labels.value);
  const runAsRoot = fields.get("run_as_root");
  if (runAsRoot !== undefined) candidate.runAsRoot = readBoolean(ctx, runAsRoot.value, "runAsRoot");
  const update = fields.get("update");
  if (update !== undefined) candidate.update = readUpdatePolicy(ctx, update.value);

  return { candidate, positions: ctx.positions, labels: ctx.labels, reported: ctx.reported, keyPositions: ctx.keyPositions };
}

/**
 * Job or alloc set: the header (Borg's keyword, YAML's `job:` or `alloc:`) and, in YAML and
 * JSON, a `kind:` field; when both are given they must agree. A job when neither says.
 */
function readKind(ctx: NormalizeContext, job: RawJob): JobKind {
  const declared = job.declared;
  const entry = ctx.format === "borg" ? undefined : job.body.entries.find((candidate) => candidate.key === "kind");
  if (entry === undefined || entry.value.kind === "null") return declared?.kind ?? "job";
  const kind = readOneOf(ctx, entry.value, "kind", JOB_KINDS, { what: "kind", fallback: "job" });
  if (kind === undefined) {
    ctx.kindUnsure = true;
    return declared?.kind ?? "job";
  }
  if (declared !== undefined && declared.kind !== kind) {
    const said = declared.kind === "alloc" ? "an alloc set" : "a job";
    ctx.report(
      "kind",
      `kind says '${kind}', but '${declared.keyword}' (line ${declared.position.line}) says this is ${said}; ` +
        `remove kind, or write ${exampleField(ctx.format, kind, str(ctx.name))} in place of '${declared.keyword}'`,
      entry.value.position,
    );
    ctx.kindUnsure = true;
    return declared.kind;
  }
  return kind;
}
