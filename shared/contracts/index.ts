export * from "./src/names.js";
export * from "./src/job-spec.js";
export * from "./src/subjects.js";
