export * from "./src/test-cell.js";
export * from "./src/servers.js";
export * from "./src/busybox-root.js";
export * from "./src/sleeper-job.js";
