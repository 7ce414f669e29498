import { jsReplicasFlag } from "@corral/kit";
import { InvalidArgumentError } from "commander";
import { NAME_PATTERN, parseSelector, roleSchema, ROLES, userNameSchema, type Role } from "@corral/contracts";
import { parseDuration } from "@corral/spec";

/** A selector is checked before anything is sent: a typo is named here, not as an empty list. */
export function labelSelector(text: string): string {
  try {
    parseSelector(text, "--selector");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

/** A duration (5s, 1h), checked here so a typo is refused before anything is sent; the gateway reads it again. */
export function durationText(text: string): string {
  try {
    parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

export function positiveInteger(what: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) throw new InvalidArgumentError(`${what} must be a whole number from 0 to ${max}`);
    return parsed;
  };
}

/** --js-replicas, checked as the services check theirs (jsReplicasFlag). */
export function jsReplicas(value: string): number {
  const parsed = jsReplicasFlag.schema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`--js-replicas: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  return parsed.data;
}

export function cellList(text: string): string[] {
  const cells = text.split(",").map((cell) => cell.trim());
  const bad = cells.find((cell) => !NAME_PATTERN.test(cell));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not a cell name (lower-case letters, digits, '_' and '-'); e.g. --cells a,b,c`);
  if (new Set(cells).size !== cells.length) throw new InvalidArgumentError(`a cell is named twice in ${text}`);
  return cells;
}

/** A user name (for --admin, or a `corral user` argument), refused before anything is sent. */
export function userNameArgument(what: string) {
  return (value: string): string => {
    const parsed = userNameSchema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`${what} '${value}': ${parsed.error.issues[0]!.message}`);
    return parsed.data;
  };
}

export function roleOption(value: string): Role {
  const parsed = roleSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`--role ${value}: one of ${ROLES.join(", ")}`);
  return parsed.data;
}
