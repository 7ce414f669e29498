export * from "./src/scenario.js";
