import { CorralError } from "./errors.js";
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from "./job-spec.js";

/** One requirement of a label selector, as Kubernetes writes them: `k=v`, `k!=v`, `k`, `!k`. */
export type SelectorTerm = { key: string; op: "=" | "!="; value: string } | { key: string; op: "exists" | "absent" };

/**
 * Parses `tier=web,env!=prod,canary,!legacy` (every term must hold). Throws a CorralError
 * that names the term and says what a term looks like.
 */
export function parseSelector(text: string, field = "selector"): SelectorTerm[] {
  const terms: SelectorTerm[] = [];
  for (const raw of text.split(",")) {
    const term = raw.trim();
    const refuse = (why: string) =>
      new CorralError("bad_request", `selector term '${term}' ${why}; write terms like tier=web, tier!=web, canary or !canary, separated by commas`, field);
    if (term === "") throw refuse("is empty");
    const match = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    if (match === null) throw refuse("cannot be read");
    const [, negation, key, op, value] = match;
    if (!LABEL_KEY_PATTERN.test(key!)) throw refuse(`has the key '${key}', which is not a label key (letters, digits, '_', '.', '-', '/')`);
    if (op === undefined) {
      terms.push({ key: key!, op: negation === "!" ? "absent" : "exists" });
      continue;
    }
    if (negation === "!") throw refuse("negates a comparison; use != instead");
    if (!LABEL_VALUE_PATTERN.test(value!)) throw refuse(`compares with '${value}', which is not a label value`);
    terms.push({ key: key!, op: op === "!=" ? "!=" : "=", value: value! });
  }
  return terms;
}

/** Whether the labels satisfy every term. */
export function selectorMatches(terms: readonly SelectorTerm[], labels: Readonly<Record<string, string>>): boolean {
  return terms.every((term) => {
    const has = Object.hasOwn(labels, term.key);
    switch (term.op) {
      case "exists":
        return has;
      case "absent":
        return !has;
      case "=":
        return has && labels[term.key] === term.value;
      case "!=":
        return !has || labels[term.key] !== term.value;
    }
  });
}
