export * from "./src/records.js";
export * from "./src/job-records.js";
export * from "./src/summary.js";
