export * from "./src/test-cell.js";
export * from "./src/servers.js";
