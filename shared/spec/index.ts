/**
 * @corral/spec: job specifications from source text. Two syntaxes, Borg config and YAML/JSON,
 * both parsed into the validated JobSpec from @corral/contracts, with errors that name the
 * file, line and field.
 */
export { parseJobSpec, type ParseJobSpecOptions } from "./src/parse-job-spec.js";
export { SpecError, formatIssue, type SpecIssue } from "./src/errors.js";
export { formatFromFileName, type SpecFormat } from "./src/format.js";
export { parseSize, parseCpu, parseDuration } from "./src/units.js";
export { substitutePorts } from "./src/ports.js";
export { DEFAULT_GRACE_MS, DEFAULT_PRIORITY, DEFAULT_RESTART } from "./src/normalize.js";
