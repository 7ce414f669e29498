// Where a job's tasks may and should go: hard constraints, soft preferences, and spread across
// failure domains. Schedulers, plans and `why` read these rules without the rest of the spec.
import { z } from "zod";
import { MAX_REPLICAS } from "./job-size.js";
import { safeText } from "./spec-text.js";

/** How a constraint compares a machine attribute with its values. */
export const CONSTRAINT_OPERATORS = ["==", "!=", "in", "not_in", "exists", "not_exists"] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/** How many values each operator takes: `==`/`!=` exactly one, `in`/`not_in` one or more, `exists`/`not_exists` none. */
export const OPERATOR_ARITY: Readonly<Record<ConstraintOperator, "one" | "many" | "none">> = {
  "==": "one",
  "!=": "one",
  in: "many",
  not_in: "many",
  exists: "none",
  not_exists: "none",
};

/** Failure domains a job's tasks can be spread across, smallest first. */
export const SPREAD_DOMAINS = ["machine", "rack", "power"] as const;
export type SpreadDomain = (typeof SPREAD_DOMAINS)[number];

export const MAX_CONSTRAINTS = 32;
export const MAX_PREFERENCES = 32;
export const MAX_CONSTRAINT_VALUES = 64;
export const DEFAULT_PREFERENCE_WEIGHT = 10;
export const MAX_PREFERENCE_WEIGHT = 100;
export const DEFAULT_MAX_SKEW = 1;

/** A machine attribute's name: `arch`, `rack`, `kernel.version`. */
export const ATTRIBUTE_PATTERN = /^[A-Za-z0-9_.-]{1,63}$/;

const constraintFields = {
  attribute: z
    .string()
    .min(1, "an attribute name must not be empty; name the machine attribute to test, e.g. arch")
    .max(63, "an attribute name is longer than 63 characters")
    .regex(/^[A-Za-z0-9_.-]*$/, "an attribute name is letters, digits, '_', '.' and '-'"),
  op: z.enum(CONSTRAINT_OPERATORS),
  values: z
    .array(safeText("a constraint value", 256).min(1, "a constraint value must not be empty; to require only that the attribute is set, use exists"))
    .max(MAX_CONSTRAINT_VALUES, `more than ${MAX_CONSTRAINT_VALUES} values in one constraint`),
};

/** The number of values must suit the operator; reported at `values` so sources can map it to `value`/`values`. */
function checkArity(constraint: { op: ConstraintOperator; values: readonly string[] }, ctx: z.RefinementCtx): void {
  const arity = OPERATOR_ARITY[constraint.op];
  const count = constraint.values.length;
  const problem =
    arity === "one" && count !== 1
      ? `${constraint.op} compares with exactly one value, not ${count}${count > 1 ? "; to match any of several, use in" : ""}`
      : arity === "many" && count === 0
        ? `${constraint.op} needs at least one value`
        : arity === "none" && count > 0
          ? `${constraint.op} takes no values; it only checks whether the machine has the attribute`
          : undefined;
  if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["values"], message: problem });
}

/** A hard constraint: a machine whose attributes fail it never runs the job's tasks. */
export const constraintSchema = z.strictObject(constraintFields).superRefine(checkArity);
export type Constraint = z.infer<typeof constraintSchema>;

/** A soft constraint: machines that meet it score higher, by `weight`. */
export const preferenceSchema = z
  .strictObject({
    ...constraintFields,
    weight: z
      .number()
      .int("weight must be a whole number")
      .min(1, `weight must be from 1 to ${MAX_PREFERENCE_WEIGHT}`)
      .max(MAX_PREFERENCE_WEIGHT, `weight must be from 1 to ${MAX_PREFERENCE_WEIGHT}`)
      .default(DEFAULT_PREFERENCE_WEIGHT),
  })
  .superRefine(checkArity);
export type Preference = z.infer<typeof preferenceSchema>;

/**
 * Spread the job's tasks across failure domains: the domain with the most of them has at most
 * `maxSkew` more than the one with the fewest.
 */
const spreadAcrossSchema = z.strictObject({
  across: z.enum(SPREAD_DOMAINS),
  maxSkew: z
    .number()
    .int("max skew must be a whole number")
    .min(1, "max skew must be at least 1 (1 keeps every domain within one task of the others)")
    .max(MAX_REPLICAS, `max skew is above ${MAX_REPLICAS}`)
    .default(DEFAULT_MAX_SKEW),
});
export type Spread = z.infer<typeof spreadAcrossSchema>;

/**
 * A job's spread: across a kind of failure domain, or "none". Left out, its tasks are spread
 * over machines as a preference (Borg and Kubernetes both keep a job's tasks apart by
 * default, so that one machine lost is one task lost); "none" lets the cell's policy alone
 * decide, so that the tasks may pack onto one machine.
 */
export const spreadSchema = z.union([spreadAcrossSchema, z.literal("none")]);
export type SpreadSetting = z.infer<typeof spreadSchema>;

/** The failure domains a job declared its tasks must spread across, if it did. */
export function declaredSpread(spread: SpreadSetting | undefined): Spread | undefined {
  return typeof spread === "object" ? spread : undefined;
}

/**
 * How a job's tasks are spread, as `plan` and `why` show it: by default over every kind of
 * failure domain as a preference, as declared (a rule: a machine that would break the skew
 * is refused), or not at all.
 */
export const spreadRuleSchema = z.object({
  rule: z.enum(["default", "declared", "none"]),
  across: z.array(z.enum(SPREAD_DOMAINS)),
  maxSkew: z.number().int().positive().optional(),
});
export type SpreadRule = z.infer<typeof spreadRuleSchema>;

export function spreadRuleOf(spread: SpreadSetting | undefined): SpreadRule {
  if (spread === undefined) return { rule: "default", across: [...SPREAD_DOMAINS] };
  if (spread === "none") return { rule: "none", across: [] };
  return { rule: "declared", across: [spread.across], maxSkew: spread.maxSkew };
}
