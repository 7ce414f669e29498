export * from "./src/records.js";
export * from "./src/summary.js";
