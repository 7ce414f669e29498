import type { Constraint } from "@corral/contracts";

/** Whether a machine's attributes satisfy one constraint. */
export function constraintMatches(constraint: Constraint, attributes: Readonly<Record<string, string>>): boolean {
  // Own keys only: an attribute named like an Object.prototype member must not match every machine.
  const value = Object.hasOwn(attributes, constraint.attribute) ? attributes[constraint.attribute] : undefined;
  switch (constraint.op) {
    case "exists":
      return value !== undefined;
    case "not_exists":
      return value === undefined;
    case "==":
    case "in":
      return value !== undefined && constraint.values.includes(value);
    case "!=":
    case "not_in":
      return value === undefined || !constraint.values.includes(value);
  }
}

/** How a refusal reads in "why pending?": `arch == x86_64 not met`. */
export function describeConstraint(constraint: Constraint): string {
  const values = constraint.values.length === 1 ? constraint.values[0] : `[${constraint.values.join(", ")}]`;
  return constraint.op === "exists" || constraint.op === "not_exists" ? `${constraint.attribute} ${constraint.op}` : `${constraint.attribute} ${constraint.op} ${values}`;
}
