#!/usr/bin/env node
// Runs the TypeScript CLI from source through tsx, so `npx corral` needs no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
