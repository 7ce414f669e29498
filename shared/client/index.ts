export * from "./src/gateway-client.js";
