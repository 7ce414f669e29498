// What the leader announces to whoever listens, rather than to one party: a new term taking
// over, and task changes for watchers. No reply is expected to either.
import { z } from "zod";
import { event, incarnationSchema, taskIdSchema } from "./messages-fields.js";

/** A new term serves the leader's subjects: callers waiting on the last leader send again. */
export const leaderServing = event("lease.serving", z.object({ replica: z.string().min(1).max(255), epoch: z.number().int().positive() }));

export const taskChanges = event(
  "events.tasks",
  z.object({
    changes: z.array(
      z.object({
        taskId: taskIdSchema,
        incarnation: incarnationSchema,
        state: z.string(),
        node: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
  }),
);
