import type { Scenario } from "../scenario.js";
import { throughput } from "./throughput.js";

export const SCENARIOS: readonly Scenario[] = [throughput];
