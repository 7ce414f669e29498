export * from "./src/task-lifecycle.js";
export * from "./src/task-transitions.js";
