/**
 * @corral/launcher: starts and stops whole local cells (nats-server, redis-server and every
 * service as processes) for `corral cell up`, the tests and the load tests, and makes sure
 * a cell started by a test or a load run dies with its starter. Services never import it.
 */
export * from "./src/executables.js";
export * from "./src/ports.js";
export * from "./src/processes.js";
export * from "./src/servers.js";
export * from "./src/cell-file.js";
export * from "./src/restart-process.js";
export * from "./src/starter-guard.js";
export * from "./src/teardown.js";
export * from "./src/local-cell.js";
export * from "./src/host-network.js";
export * from "./src/cell-secrets.js";
export * from "./src/nats-clients.js";
export * from "./src/cell-clients.js";
export * from "./src/cell-tls.js";
