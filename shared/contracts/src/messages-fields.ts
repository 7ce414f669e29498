// Building blocks shared by the messages-*.ts files and by nothing else: index.ts does not
// re-export this file, so its task id check (a second taskIdSchema) and the event/rpc builders
// stay out of the package's public names.
import { z } from "zod";
import { NAME_PATTERN } from "./names.js";
import type { EventDefinition, RpcDefinition } from "./messages-framing.js";

/**
 * The same task ids as names.ts's taskIdSchema (`<index>.<job>.<user>.<cell>`), as one regular
 * expression: messages carry thousands of them (heartbeats, plans, leases), and splitting
 * each into a parsed id only to check it was a visible share of the masters' cpu.
 */
const NAME = NAME_PATTERN.source.slice(1, -1);
const TASK_ID_PATTERN = new RegExp(`^\\d+\\.${NAME}\\.${NAME}\\.${NAME}$`);
export const taskIdSchema = z.string().regex(TASK_ID_PATTERN, "a task id is <index>.<job>.<user>.<cell>");

export const event = <B extends z.ZodType>(type: string, body: B): EventDefinition<B> => ({ kind: "event", type, body });
export const rpc = <Q extends z.ZodType, R extends z.ZodType>(type: string, request: Q, result: R): RpcDefinition<Q, R> => ({
  kind: "rpc",
  type,
  request,
  result,
});

export const portSchema = z.number().int().min(1).max(65535);
export const portsSchema = z.array(portSchema).max(64);
export const incarnationSchema = z.number().int().nonnegative();
