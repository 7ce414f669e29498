/**
 * The normalizer's vocabulary: which fields each block of a job spec allows, how source names
 * map to JobSpec ones, and what else people call them. Kept apart from the readers so that the
 * field check (normalize-context.ts), its hints and the readers all spell a field the same way.
 */

export const JOB_FIELDS = [
  "runtime",
  "binary",
  "args",
  "env",
  "requirements",
  "replicas",
  "priority",
  "restart",
  "grace",
  "user",
  "constraints",
  "preferences",
  "spread",
  "max_per_machine",
  "alloc_set",
  "image",
  "volumes",
  "health",
  "labels",
  "run_as_root",
  "update",
] as const;
/** What only a running program has: refused in an alloc set, which reserves resources and runs nothing. */
export const NOT_IN_ALLOC: readonly string[] = ["image", "volumes", "health", "binary", "args", "env", "restart", "grace", "alloc_set", "run_as_root", "update"];
export const ALLOC_FIELDS = JOB_FIELDS.filter((field) => !NOT_IN_ALLOC.includes(field));
export const RUNTIME_FIELDS = ["cell", "cells", "policy", "weights", "spill_after", "max_disruption"] as const;
/** What only a federated job (one with `cells`) has. */
export const FEDERATION_FIELDS = ["policy", "weights", "spill_after", "max_disruption"] as const;
export const REQUIREMENT_FIELDS = ["ram", "disk", "cpu", "ports"] as const;
export const CONSTRAINT_FIELDS = ["attribute", "op", "value", "values"] as const;
export const PREFERENCE_FIELDS = [...CONSTRAINT_FIELDS, "weight"] as const;
export const SPREAD_FIELDS = ["across", "max_skew"] as const;
export const VOLUME_FIELDS = ["host", "volume", "path", "read_only"] as const;
export const UPDATE_FIELDS = ["max_parallel", "min_healthy_time", "healthy_deadline", "progress_deadline", "auto_revert", "drain", "canary", "auto_promote"] as const;
export const HEALTH_CHECKS = ["http", "tcp", "exec"] as const;
export type HealthCheckType = (typeof HEALTH_CHECKS)[number];
export const HEALTH_FIELDS = [...HEALTH_CHECKS, "interval", "timeout", "failures"] as const;
/** What each kind of check takes; its kind is the name of its block (`http = { ... }`). */
export const CHECK_FIELDS: Readonly<Record<HealthCheckType, readonly string[]>> = { http: ["path", "port"], tcp: ["port"], exec: ["command"] };
/** The list whose items a block prefix (`volumes.0`) is one of, and how messages name such an item. */
export const LIST_ITEMS: ReadonlyMap<string, string> = new Map([
  ["constraints", "a constraint"],
  ["preferences", "a preference"],
  ["volumes", "a volume"],
]);

/** Source field names that differ from their JobSpec ones (the last path segment). */
export const SPEC_NAMES: ReadonlyMap<string, string> = new Map([
  ["grace", "gracePeriodMs"],
  ["max_per_machine", "maxPerMachine"],
  ["max_skew", "maxSkew"],
  ["alloc_set", "allocSet"],
  ["value", "values"],
  ["read_only", "readOnly"],
  ["interval", "intervalMs"],
  ["timeout", "timeoutMs"],
  ["spill_after", "spillAfterMs"],
  ["max_disruption", "maxDisruption"],
  ["run_as_root", "runAsRoot"],
  ["max_parallel", "maxParallel"],
  ["min_healthy_time", "minHealthyTimeMs"],
  ["healthy_deadline", "healthyDeadlineMs"],
  ["progress_deadline", "progressDeadlineMs"],
  ["auto_revert", "autoRevert"],
  ["drain", "drainMs"],
  ["auto_promote", "autoPromote"],
]);

/**
 * JobSpec path → the field as messages name it, for the renamed fields whose path is fixed.
 * Each job starts from a copy; readers add the paths that depend on what was written (list items, checks).
 */
export const SOURCE_LABELS: ReadonlyArray<[string, string]> = [
  ["gracePeriodMs", "grace"],
  ["maxPerMachine", "max_per_machine"],
  ["spread.maxSkew", "spread.max_skew"],
  ["allocSet", "alloc_set"],
  ["health.intervalMs", "health.interval"],
  ["health.timeoutMs", "health.timeout"],
  ["runtime.spillAfterMs", "runtime.spill_after"],
  ["runtime.maxDisruption", "runtime.max_disruption"],
  ["runAsRoot", "run_as_root"],
  ["update.maxParallel", "update.max_parallel"],
  ["update.minHealthyTimeMs", "update.min_healthy_time"],
  ["update.healthyDeadlineMs", "update.healthy_deadline"],
  ["update.progressDeadlineMs", "update.progress_deadline"],
  ["update.autoRevert", "update.auto_revert"],
  ["update.drainMs", "update.drain"],
  ["update.autoPromote", "update.auto_promote"],
];

/** Other names people reach for, which no edit distance would connect to ours; only ever a hint. */
export const FIELD_ALIASES: ReadonlyMap<string, string> = new Map([
  ["operator", "op"],
  ["attr", "attribute"],
  ["key", "attribute"],
  ["label", "attribute"],
  ["topology", "across"],
  ["topology_key", "across"],
  ["domain", "across"],
  ["skew", "max_skew"],
  ["gracePeriodMs", "grace"],
  ["constraint", "constraints"],
  ["preference", "preferences"],
  ["affinity", "preferences"],
  ["mounts", "volumes"],
  ["mount", "path"],
  ["target", "path"],
  ["destination", "path"],
  ["mount_path", "path"],
  ["ro", "read_only"],
  ["name", "volume"],
  ["healthcheck", "health"],
  ["health_check", "health"],
  ["liveness", "health"],
  ["period", "interval"],
  ["every", "interval"],
  ["intervalMs", "interval"],
  ["interval_ms", "interval"],
  ["timeoutMs", "timeout"],
  ["timeout_ms", "timeout"],
  ["retries", "failures"],
  ["threshold", "failures"],
  ["failure_threshold", "failures"],
  ["cmd", "command"],
  ["tags", "labels"],
  ["annotations", "labels"],
  ["metadata", "labels"],
  ["cluster", "cell"],
  ["clusters", "cells"],
  ["regions", "cells"],
  ["strategy", "policy"],
  ["mode", "policy"],
  ["spillAfterMs", "spill_after"],
  ["spill_after_ms", "spill_after"],
  ["spill_timeout", "spill_after"],
  ["disruption", "max_disruption"],
  ["max_unavailable", "max_disruption"],
  ["maxUnavailable", "max_disruption"],
]);
